import logging
import threading
from datetime import date, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.config import get_settings
from app.db.engines import session_scope
from app.db.sqlite import WRITE_INTENT
from app.main import create_app
from app.schemas import COUNTY_TZ
from app.screening import lists
from app.screening.lists import MAX_REPORTED_ROWS
from app.screening.models import (
    Deceased,
    ListKind,
    PublicEmployee,
    ReferenceList,
    RosterEntry,
)
from app.staff.models import Role, Staff
from tests.asserts import assert_problem
from tests.factories import HUANGLIU, SANGUANZHAI, XIXING, auth_headers, make_staff
from tests.privacy import database_dump
from tests.screening.lists_data import (
    csv_bytes,
    deceased_csv,
    employees_csv,
    id_hash,
    id_number,
    roster_csv,
    with_bad_check,
)

URL = "/api/v1/admin/screening/lists"
CADRE, SPOUSE, SON = id_number(101), id_number(102, "19880615"), id_number(103, "20100301")
OTHER_CADRE = id_number(104, "19700707")


def upload(
    client: TestClient, staff: Staff, kind: str, data: bytes, name: str = "名单.csv"
) -> httpx.Response:
    return client.post(
        f"{URL}/{kind}", files={"file": (name, data, "text/csv")}, headers=auth_headers(staff)
    )


@pytest.fixture
def admin(session: Session) -> Staff:
    return make_staff(session, role=Role.commission)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _old_deceased(client: TestClient, admin: Staff, session: Session) -> set[bytes]:
    """A list already kept: two people."""
    data = deceased_csv([(id_number(1), "2025-03-05"), (id_number(2), "2026-01-31")])
    assert upload(client, admin, "deceased", data).status_code == 200
    return set(session.scalars(select(Deceased.id_hash)))


def test_deceased_list_is_kept_as_hashes_with_its_dates(
    client: TestClient, session: Session, admin: Staff
) -> None:
    response = upload(
        client,
        admin,
        "deceased",
        deceased_csv(
            [
                (id_number(1), "2025-03-05"),
                (id_number(2), "2026/1/31"),
                (id_number(3), "2024年2月29日"),
            ]
        ),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["entries"] == 3 and body["encoding"] == "UTF-8"
    assert body["previous_entries"] is None and body["uploaded_by"] == admin.username
    kept = {h: d for h, d in session.execute(select(Deceased.id_hash, Deceased.died_on))}
    assert kept == {
        id_hash(id_number(1)): date(2025, 3, 5),
        id_hash(id_number(2)): date(2026, 1, 31),
        id_hash(id_number(3)): date(2024, 2, 29),
    }


def test_an_upload_replaces_the_list_and_the_listing_shows_it(
    client: TestClient, session: Session, admin: Staff
) -> None:
    _old_deceased(client, admin, session)
    response = upload(client, admin, "deceased", deceased_csv([(id_number(3), "2024-12-01")]))
    assert response.json()["previous_entries"] == 2
    assert set(session.scalars(select(Deceased.id_hash))) == {id_hash(id_number(3))}
    listing = {row["kind"]: row for row in client.get(URL, headers=auth_headers(admin)).json()}
    assert listing["deceased"]["entries"] == 1
    assert listing["deceased"]["uploaded_by"] == admin.username
    assert listing["deceased"]["uploaded_at"].endswith("+08:00")
    assert listing["public_employees"] == {
        "kind": "public_employees",
        "name": "财政供养人员名单",
        "columns": ["id_number"],
        "entries": 0,
        "uploaded_at": None,
        "uploaded_by": None,
    }


def test_each_upload_is_audited_with_counts_and_no_id_number(
    client: TestClient, session: Session, admin: Staff
) -> None:
    _old_deceased(client, admin, session)
    upload(client, admin, "deceased", deceased_csv([(id_number(3), "2024-12-01")]))
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "screening.list.upload")
        .order_by(AuditEntry.id)
    ).all()
    assert [e.entity_id for e in entries] == ["deceased", "deceased"]
    last = entries[-1]
    assert last.actor_id == admin.id
    assert last.before is not None and last.before["entries"] == 2
    assert last.after == {"entries": 1, "encoding": "UTF-8"}
    text = str([(e.before, e.after) for e in entries])
    for n in (1, 2, 3):
        assert id_number(n)[:17] not in text


def test_public_employees_list(client: TestClient, session: Session, admin: Staff) -> None:
    numbers = [id_number(n, "19750505") for n in range(5)]
    response = upload(client, admin, "public_employees", employees_csv(numbers))
    assert response.json()["entries"] == 5
    assert set(session.scalars(select(PublicEmployee.id_hash))) == {id_hash(n) for n in numbers}


def test_roster_takes_cadres_and_relatives_and_fills_in_their_village_and_post(
    client: TestClient, session: Session, admin: Staff
) -> None:
    data = roster_csv(
        [
            (CADRE, CADRE, SANGUANZHAI, "村党支部书记", "本人"),
            (SPOUSE, CADRE, "", "", "配偶"),
            (SON, CADRE, SANGUANZHAI, "村党支部书记", "子女"),
            (OTHER_CADRE, OTHER_CADRE, HUANGLIU, "村委会主任", "本人"),
            (SPOUSE, OTHER_CADRE, "", "", "兄弟姐妹"),  # on two cadres' rosters
        ]
    )
    response = upload(client, admin, "cadre_relatives", data)
    assert response.status_code == 200, response.text
    assert response.json()["cadres"] == 2
    rows = {
        (r.id_hash, r.cadre_hash): (r.village_code, r.post, r.relation)
        for r in session.scalars(select(RosterEntry))
    }
    assert rows[(id_hash(SPOUSE), id_hash(CADRE))] == (SANGUANZHAI, "村党支部书记", "配偶")
    assert rows[(id_hash(SPOUSE), id_hash(OTHER_CADRE))] == (HUANGLIU, "村委会主任", "兄弟姐妹")
    assert len(rows) == 5
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == "cadre_relatives")
    ).one()
    assert audit.after is not None
    assert audit.after["cadres"] == 2 and audit.after["relation:配偶"] == 1


def test_a_gbk_file_with_chinese_headers_is_read(
    client: TestClient, session: Session, admin: Staff
) -> None:
    data = csv_bytes(
        "身份证号,干部身份证号,村代码,职务,关系",
        [f"{CADRE},{CADRE},{SANGUANZHAI},村委会主任,本人", f"{SPOUSE},{CADRE},,,配偶"],
        encoding="gbk",
    )
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    response = upload(client, admin, "cadre_relatives", data)
    assert response.status_code == 200, response.text
    assert response.json()["encoding"] == "GBK/GB18030"
    posts = set(session.scalars(select(RosterEntry.post)))
    assert posts == {"村委会主任"}


def test_a_utf8_file_with_a_bom_is_read(client: TestClient, session: Session, admin: Staff) -> None:
    data = "\ufeffid_number\r\n".encode() + f"{id_number(7)}\r\n".encode()
    response = upload(client, admin, "public_employees", data)
    assert response.status_code == 200, response.text
    assert set(session.scalars(select(PublicEmployee.id_hash))) == {id_hash(id_number(7))}


TODAY = datetime.now(COUNTY_TZ).date()
BAD = with_bad_check(id_number(5))

# kind, file, problem code, and the (row, words of the reason) expected in `rows`
BAD_FILES: list[tuple[str, str, bytes, str, list[tuple[int, str]]]] = [
    (
        "utf16",
        "deceased",
        "id_number,died_on\r\n".encode("utf-16"),
        "screening_list_encoding",
        [],
    ),
    ("xlsx", "deceased", b"PK\x03\x04" + b"\x00" * 40, "screening_list_encoding", []),
    (
        "undecodable",
        "deceased",
        b"id_number,died_on\r\n\xff\xfe\xfa\x80\r\n",
        "screening_list_encoding",
        [],
    ),
    ("empty", "deceased", b"", "screening_list_columns", []),
    (
        "missing column",
        "deceased",
        employees_csv([id_number(3)]),
        "screening_list_columns",
        [],
    ),
    (
        "header only",
        "public_employees",
        b"id_number\r\n",
        "screening_list_rows",
        [],
    ),
    (
        "bad check digit",
        "deceased",
        deceased_csv([(id_number(3), "2025-01-01"), (BAD, "2025-01-01")]),
        "screening_list_rows",
        [(3, "校验位")],
    ),
    (
        "too short",
        "public_employees",
        employees_csv([id_number(3), "51192319600101"]),
        "screening_list_rows",
        [(3, "18 位")],
    ),
    (
        "scientific notation",
        "public_employees",
        employees_csv([id_number(3), "5.11923E+17"]),
        "screening_list_rows",
        [(3, "科学计数法")],
    ),
    (
        "death in the future",
        "deceased",
        deceased_csv([(id_number(3), (TODAY + timedelta(days=1)).isoformat())]),
        "screening_list_rows",
        [(2, "晚于今天")],
    ),
    (
        "death not a date",
        "deceased",
        deceased_csv([(id_number(3), "2025-02-30"), (id_number(4), "去年")]),
        "screening_list_rows",
        [(2, "不是有效的日期"), (3, "不是有效的日期")],
    ),
    (
        "death before birth",
        "deceased",
        deceased_csv([(id_number(3), "1959-12-31")]),
        "screening_list_rows",
        [(2, "早于")],
    ),
    (
        "duplicate person",
        "deceased",
        deceased_csv([(id_number(3), "2025-01-01"), (id_number(3), "2025-02-01")]),
        "screening_list_rows",
        [(3, "与第 2 行是同一个人")],
    ),
    (
        "relation outside the list",
        "cadre_relatives",
        roster_csv(
            [(CADRE, CADRE, SANGUANZHAI, "村文书", "本人"), (SPOUSE, CADRE, "", "", "表兄弟")]
        ),
        "screening_list_rows",
        [(3, "配偶、父母")],
    ),
    (
        "cadre not on the roster",
        "cadre_relatives",
        roster_csv([(SPOUSE, CADRE, SANGUANZHAI, "村文书", "配偶")]),
        "screening_list_rows",
        [(2, "干部本人不在名册中")],
    ),
    (
        "unknown village",
        "cadre_relatives",
        roster_csv([(CADRE, CADRE, "511923103999", "村文书", "本人")]),
        "screening_list_rows",
        [(2, "不是本县的村")],
    ),
    (
        "a township is no village",
        "cadre_relatives",
        roster_csv([(CADRE, CADRE, XIXING, "村文书", "本人")]),
        "screening_list_rows",
        [(2, "不是本县的村")],
    ),
    (
        "relative's post differs",
        "cadre_relatives",
        roster_csv(
            [(CADRE, CADRE, SANGUANZHAI, "村文书", "本人"), (SON, CADRE, "", "村主任", "子女")]
        ),
        "screening_list_rows",
        [(3, "职务与干部本人那一行（第 2 行）不同")],
    ),
    (
        "self who is not the cadre",
        "cadre_relatives",
        roster_csv(
            [
                (CADRE, CADRE, SANGUANZHAI, "村文书", "本人"),
                (SON, CADRE, SANGUANZHAI, "村文书", "本人"),
            ]
        ),
        "screening_list_rows",
        [(3, "关系为“本人”时")],
    ),
    (
        "duplicate relative",
        "cadre_relatives",
        roster_csv(
            [
                (CADRE, CADRE, SANGUANZHAI, "村文书", "本人"),
                (SON, CADRE, "", "", "子女"),
                (SON, CADRE, "", "", "子女"),
            ]
        ),
        "screening_list_rows",
        [(4, "与第 3 行重复")],
    ),
    (
        "an ID number in the village column",
        "cadre_relatives",
        roster_csv([(CADRE, CADRE, SPOUSE, "村文书", "本人")]),
        "screening_list_rows",
        [(2, "12 位数字")],
    ),
]


@pytest.mark.parametrize(
    ("kind", "data", "code", "rows"),
    [case[1:] for case in BAD_FILES],
    ids=[case[0] for case in BAD_FILES],
)
def test_a_bad_file_gets_its_chinese_problem_and_leaves_the_old_lists_whole(
    client: TestClient,
    session: Session,
    admin: Staff,
    kind: str,
    data: bytes,
    code: str,
    rows: list[tuple[int, str]],
) -> None:
    old = _old_deceased(client, admin, session)
    upload(client, admin, "public_employees", employees_csv([id_number(9)]))
    upload(
        client, admin, "cadre_relatives", roster_csv([(CADRE, CADRE, HUANGLIU, "村文书", "本人")])
    )
    before = session.scalars(select(ReferenceList).order_by(ReferenceList.kind)).all()
    before_rows = [(r.kind, r.entries, r.uploaded_at) for r in before]
    audits = _count(session, AuditEntry)
    response = upload(client, admin, kind, data)
    body = assert_problem(response, 422, code)
    for row, words in rows:
        assert any(p["row"] == row and words in p["message"] for p in body["rows"]), body
    if rows:
        assert body["rows_total"] == len(body["rows"]) == len(rows)
    text = response.text
    for number in (CADRE, SPOUSE, SON, BAD, id_number(3), id_number(4)):
        assert number[:17] not in text and number[6:14] + number[14:17] not in text
    session.expire_all()
    assert set(session.scalars(select(Deceased.id_hash))) == old
    assert set(session.scalars(select(PublicEmployee.id_hash))) == {id_hash(id_number(9))}
    assert set(session.scalars(select(RosterEntry.village_code))) == {HUANGLIU}
    after = session.scalars(select(ReferenceList).order_by(ReferenceList.kind)).all()
    assert [(r.kind, r.entries, r.uploaded_at) for r in after] == before_rows
    assert _count(session, AuditEntry) == audits


def test_the_encoding_problem_names_the_encodings_read(
    client: TestClient, session: Session, admin: Staff
) -> None:
    response = upload(client, admin, "deceased", b"id_number,died_on\r\n\xff\xfe\xfa\x80\r\n")
    body = assert_problem(response, 422, "screening_list_encoding")
    assert "UTF-8" in body["detail"] and "GBK" in body["detail"]
    utf16 = upload(client, admin, "deceased", "id_number\r\n".encode("utf-16"))
    assert "UTF-16" in utf16.json()["detail"]


def test_many_bad_rows_are_listed_up_to_a_limit_with_their_count(
    client: TestClient, session: Session, admin: Staff
) -> None:
    numbers = [with_bad_check(id_number(n)) for n in range(MAX_REPORTED_ROWS + 20)]
    response = upload(client, admin, "public_employees", employees_csv(numbers))
    body = assert_problem(response, 422, "screening_list_rows")
    assert body["rows_total"] == MAX_REPORTED_ROWS + 20
    assert [p["row"] for p in body["rows"]] == list(range(2, MAX_REPORTED_ROWS + 2))
    assert f"{MAX_REPORTED_ROWS + 20} 处问题" in body["detail"]


def test_a_file_over_10_mb_is_refused(client: TestClient, session: Session, admin: Staff) -> None:
    row = f"{id_number(3)}\r\n".encode()
    data = b"id_number\r\n" + row * (10 * 1024 * 1024 // len(row) + 1)
    response = upload(client, admin, "public_employees", data)
    body = assert_problem(response, 413, "screening_list_too_large")
    assert "10 MB" in body["detail"]
    assert _count(session, PublicEmployee) == 0


def test_a_50_mb_upload_is_refused_before_it_is_read(
    client: TestClient, session: Session, admin: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[int] = []
    monkeypatch.setattr(lists, "check_file", lambda *a, **k: read.append(1))
    data = b"id_number\r\n" + b"0" * (50 * 1024 * 1024)
    response = upload(client, admin, "public_employees", data)
    assert_problem(response, 413, "payload_too_large")
    assert read == []


def test_only_the_commission_and_county_admins_upload_and_list(
    client: TestClient, session: Session
) -> None:
    data = employees_csv([id_number(3)])
    for role in (Role.village_clerk, Role.township_officer, Role.editor):
        staff = make_staff(
            session,
            role=role,
            region_code=HUANGLIU if role == Role.village_clerk else "511923000000",
        )
        assert upload(client, staff, "public_employees", data).status_code == 403
        assert client.get(URL, headers=auth_headers(staff)).status_code == 403
    county = make_staff(session, role=Role.county_admin)
    assert upload(client, county, "public_employees", data).status_code == 200
    anonymous = client.post(f"{URL}/public_employees", files={"file": ("a.csv", data, "text/csv")})
    assert_problem(anonymous, 401, "authentication_required")
    # the caller is checked before the body is read
    editor = make_staff(session, role=Role.editor)
    assert_problem(client.post(f"{URL}/public_employees"), 401, "authentication_required")
    no_body = client.post(f"{URL}/public_employees", headers=auth_headers(editor))
    assert_problem(no_body, 403, "forbidden")


def test_an_unknown_kind_or_no_file_is_a_chinese_problem(
    client: TestClient, session: Session, admin: Staff
) -> None:
    unknown = upload(client, admin, "relatives", employees_csv([id_number(3)]))
    assert_problem(unknown, 422, "validation_failed")
    no_file = client.post(
        f"{URL}/public_employees",
        data={"note": "x"},
        files={"other": ("a.csv", b"x", "text/csv")},
        headers=auth_headers(admin),
    )
    assert_problem(no_file, 422, "screening_list_file_missing")


def test_no_id_number_of_any_list_reaches_the_database_files_or_the_logs(
    committed_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    people = [id_number(n, "19451231") for n in range(20, 30)]
    x_number = next(
        id_number(n, "19630303") for n in range(100) if id_number(n, "19630303").endswith("X")
    )
    people.append(x_number)
    cadre, relative, employee, dead, bad = people[0], people[1], people[2], people[3], people[4]
    with session_scope().begin() as session:
        admin = make_staff(session, role=Role.commission)
        headers = auth_headers(admin)
    files: list[tuple[str, bytes]] = [
        ("deceased", deceased_csv([(dead, "2025-06-01"), (x_number.lower(), "2025-07-01")])),
        ("public_employees", employees_csv([employee, f" {people[5]} "], encoding="gbk")),
        (
            "cadre_relatives",
            roster_csv(
                [
                    (cadre, cadre, SANGUANZHAI, "村党支部书记", "本人"),
                    (relative, cadre, "", "", "配偶"),
                ]
            ),
        ),
        # refused: the rows' content must not reach the logs either
        (
            "deceased",
            deceased_csv([(with_bad_check(bad), "2025-01-01"), (people[6], "2999-01-01")]),
        ),
        ("cadre_relatives", roster_csv([(people[7], people[8], people[9], "村文书", "表哥")])),
    ]
    with (
        caplog.at_level(logging.DEBUG),
        TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client,
    ):
        statuses = [
            client.post(
                f"{URL}/{kind}", files={"file": ("名单.csv", data, "text/csv")}, headers=headers
            ).status_code
            for kind, data in files
        ]
    assert statuses == [200, 200, 200, 422, 422]
    with session_scope().begin() as session:
        assert _count(session, Deceased) == 2 and _count(session, RosterEntry) == 2
    logs = "\n".join(f"{r.getMessage()} {r.args} {vars(r)}" for r in caplog.records)
    assert "/api/v1/admin/screening/lists" in logs  # the uploads did log
    dump = database_dump(committed_db)
    for number in people:
        for form in (number, number[:17], number.lower(), number[6:17], " ".join(number)):
            assert form.encode() not in dump, "an ID number is in the database"
            assert form.encode("utf-16-le") not in dump, "an ID number is in the database"
            assert form not in logs, "an ID number is in the logs"


def test_two_uploads_at_once_leave_the_second_list_whole(committed_db: str) -> None:
    """The second upload waits for the first to commit and then replaces all of it: never a
    mix of the two, never a clash of their rows."""
    first_list = [id_number(n, "19550505") for n in range(0, 6)]
    second_list = [id_number(n, "19550505") for n in range(4, 9)]  # two people in both
    settings = get_settings()
    with session_scope().begin() as session:
        admin = make_staff(session, role=Role.commission)
        admin_id = admin.id
        lists.upload_list(
            session,
            ListKind.public_employees,
            data=employees_csv([id_number(99)]),
            actor=admin,
            settings=settings,
        )
    failures: list[BaseException] = []

    def second_upload() -> None:
        try:
            with session_scope().begin() as session:
                session.connection(execution_options={WRITE_INTENT: True})  # as a POST's
                actor = session.get_one(Staff, admin_id)
                lists.upload_list(
                    session,
                    ListKind.public_employees,
                    data=employees_csv(second_list),
                    actor=actor,
                    settings=settings,
                )
        except BaseException as exc:  # reported by the test
            failures.append(exc)

    first = session_scope()()
    with first.begin():
        first.connection(execution_options={WRITE_INTENT: True})
        lists.upload_list(
            first,
            ListKind.public_employees,
            data=employees_csv(first_list),
            actor=first.get_one(Staff, admin_id),
            settings=settings,
        )
        thread = threading.Thread(target=second_upload)
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive(), "the second upload did not wait for the first"
    thread.join(timeout=30)
    first.close()
    assert not failures, failures
    with session_scope().begin() as session:
        kept = set(session.scalars(select(PublicEmployee.id_hash)))
        assert kept == {id_hash(n) for n in second_list}
        assert session.get_one(ReferenceList, "public_employees").entries == len(second_list)
        audits = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "screening.list.upload")
        ).all()
        befores = sorted(e.before["entries"] for e in audits if e.before is not None)
        assert befores == sorted([1, len(first_list)])  # the second replaced the first's
