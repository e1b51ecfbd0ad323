import random
from datetime import date
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.subsidies import identity, service, store
from tests.factories import HUANGLIU, SANGUANZHAI
from tests.subsidies.factories import ID_A, ID_B, ID_C, make_payout


def _hash(id_number: str) -> bytes:
    return identity.keyed_hash(get_settings().secret("id_pepper").encode(), id_number)


def test_a_person_is_found_by_the_hash_of_their_id_number(session: Session) -> None:
    service.store_payouts(session, [make_payout(id_number=ID_A, name="张秀英")])
    connection = session.connection()
    person = store.person_by_hash(connection, _hash(ID_A))
    assert person is not None
    assert (person.name_masked, person.village_code, person.village) == (
        "张*英",
        SANGUANZHAI,
        "平昌县佛楼镇三官寨村",
    )
    assert person.id_masked.startswith("511923") and "*" in person.id_masked
    assert store.person_by_hash(connection, _hash(ID_B)) is None


def test_a_persons_lines_come_newest_first_with_paid_totals(session: Session) -> None:
    service.store_payouts(
        session,
        [
            make_payout(record_id="A-1", period="2025-12", amount_fen=100),
            make_payout(record_id="A-2", period="2026-01", amount_fen=200, category_code="01"),
            make_payout(record_id="A-3", period="2026-02", amount_fen=400, status="reversed"),
            make_payout(record_id="B-1", id_number=ID_B, amount_fen=800),
        ],
    )
    connection = session.connection()
    person = store.person_by_hash(connection, _hash(ID_A))
    assert person is not None
    lines = store.lines_of_person(connection, person.id, year=None, category=None)
    assert [line.record_id for line in lines] == ["A-3", "A-2", "A-1"]
    assert date.fromisoformat(str(lines[0].paid_on)) == date(2026, 2, 10)
    by_category = service.paid_by_category(lines)
    assert by_category == [("01", 200, 1), ("05", 100, 1)]  # A-3, reversed, left out
    assert by_category[0].total_fen == 200
    by_year = service.paid_by_year(lines)
    assert [(y.year, y.total, y.count) for y in by_year] == [(2026, 200, 1), (2025, 100, 1)]

    in_2026 = store.lines_of_person(connection, person.id, year=2026, category=None)
    assert [line.record_id for line in in_2026] == ["A-3", "A-2"]
    pensions = store.lines_of_person(connection, person.id, year=None, category="05")
    assert [(y.year, y.total, y.count) for y in service.paid_by_year(pensions)] == [(2025, 100, 1)]
    assert store.lines_of_person(connection, person.id, year=2024, category=None) == []


def test_a_village_month_lists_masked_names_and_paid_totals(session: Session) -> None:
    service.store_payouts(
        session,
        [
            make_payout(record_id="V-2", name="李四", amount_fen=300),
            make_payout(record_id="V-1", id_number=ID_B, name="王五", amount_fen=500),
            make_payout(record_id="V-3", name="李四", category_code="01", status="reversed"),
            make_payout(record_id="V-4", name="李四", period="2026-09"),
            make_payout(record_id="H-1", id_number=ID_C, village_code=HUANGLIU),
        ],
    )
    lines = store.village_month_lines(session, SANGUANZHAI, period="2026-10", category=None)
    assert [(line.record_id, line.name_masked) for line in lines] == [
        ("V-3", "李*"),
        ("V-1", "王*"),
        ("V-2", "李*"),
    ]
    assert store.village_month_paid_by_category(
        session, SANGUANZHAI, period="2026-10", category=None
    ) == [("05", 800, 2)]
    only = store.village_month_lines(session, SANGUANZHAI, period="2026-10", category="01")
    assert [line.record_id for line in only] == ["V-3"]
    assert store.village_periods(session, SANGUANZHAI) == ["2026-10", "2026-09"]
    assert store.village_has_month(session, SANGUANZHAI, "2026-09")
    assert not store.village_has_month(session, SANGUANZHAI, "2026-08")


def test_a_payout_exists_once_stored(session: Session) -> None:
    assert not store.payout_exists(session, "P-1")
    service.store_payouts(session, [make_payout(record_id="P-1")])
    assert store.payout_exists(session, "P-1")


def test_versions_and_contents_are_read_from_the_line_and_its_history(session: Session) -> None:
    first = make_payout(record_id="R-1", amount_fen=100)
    second = first._replace(version=2, amount_fen=200)
    service.store_payouts(session, [first])
    service.store_payouts(session, [second])
    assert store.versions_of(session, ["R-1", "R-1", "R-9"]) == {"R-1": 2}
    contents = store.contents_of_versions(session, ["R-1"])
    assert contents == {
        ("R-1", 1): store.content_of(first),
        ("R-1", 2): store.content_of(second),
    }
    assert contents[("R-1", 2)].person_hash == first.id_hash


def test_persons_are_read_by_hash_and_given_the_next_id(session: Session) -> None:
    assert store.next_person_id(session) == 1
    service.store_payouts(session, [make_payout(id_number=ID_A)])
    found = store.persons_by_hash(session, [_hash(ID_A), _hash(ID_B)])
    assert list(found) == [_hash(ID_A)]
    assert found[_hash(ID_A)].village_code == SANGUANZHAI
    assert store.next_person_id(session) == found[_hash(ID_A)].id + 1


def test_persons_are_read_among_many_hashes_in_a_few_statements(session: Session) -> None:
    """The sync asks for a page's new persons, a different number each page. Before, each
    number was a statement of its own, kept prepared by the driver (24 MB on the sync's
    connection by the end of 1 000 000 records)."""
    service.store_payouts(
        session,
        [
            make_payout(record_id=f"R-{n}", id_number=number)
            for n, number in enumerate((ID_A, ID_B, ID_C))
        ],
    )
    stored = [_hash(ID_A), _hash(ID_B), _hash(ID_C)]
    unknown = [random.Random(n).randbytes(identity.HASH_BYTES) for n in range(1300)]
    statements: set[str] = set()

    def note(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM person" in statement:
            statements.add(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        # the stored ones first, in the middle and last: in the first, a later and the last,
        # padded, of the lists the hashes go in
        among = [stored[0], *unknown[:700], stored[1], *unknown[700:], stored[2]]
        assert set(store.persons_by_hash(session, among)) == set(stored)
        for length in range(1, 1300, 31):
            assert set(store.persons_by_hash(session, [*unknown[:length], stored[2]])) == {
                stored[2]
            }
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert len(statements) <= 10, len(statements)


def test_replacing_a_line_keeps_the_stored_version_as_history(session: Session) -> None:
    first = make_payout(record_id="R-1", amount_fen=100)
    service.store_payouts(session, [first])
    person_ids = {first.id_hash: store.persons_by_hash(session, [first.id_hash])[first.id_hash].id}
    store.replace_lines(session, [first._replace(version=3, amount_fen=300)], person_ids)
    assert store.versions_of(session, ["R-1"]) == {"R-1": 3}
    contents = store.contents_of_versions(session, ["R-1"])
    assert sorted((version, c.amount_fen) for (_, version), c in contents.items()) == [
        (1, 100),
        (3, 300),
    ]


def _kept_totals(session: Session) -> dict[tuple[str, str, str], int]:
    return {(v, i, p): t for v, i, p, t in session.execute(store.month_totals())}


def _summed_totals(session: Session) -> dict[tuple[str, str, str], int]:
    lines = store.paid_lines(birth_on=False).subquery()
    key = (lines.c.village_code, lines.c.item_name, lines.c.period)
    return {
        (v, i, p): t
        for v, i, p, t in session.execute(select(*key, func.sum(lines.c.amount_fen)).group_by(*key))
    }


def test_the_month_totals_follow_every_write_of_the_lines(session: Session) -> None:
    service.store_payouts(
        session,
        [
            make_payout(record_id="T-1"),
            make_payout(record_id="T-2", id_number=ID_B, name="欧阳明华"),
            make_payout(record_id="T-3", id_number=ID_C, name="李四", status="reversed"),
            make_payout(record_id="T-4", item_name="高龄津贴", amount_fen=5000),
        ],
    )
    assert _kept_totals(session) == {
        (SANGUANZHAI, "城乡居民基础养老金", "2026-10"): 28600,
        (SANGUANZHAI, "高龄津贴", "2026-10"): 5000,
    }
    service.store_payouts(
        session,
        [
            make_payout(record_id="T-1", version=2, amount_fen=15300),  # corrected
            # moved to another village and month, then corrected again in the same page
            make_payout(record_id="T-2", version=2, id_number=ID_B, village_code=HUANGLIU),
            make_payout(
                record_id="T-2",
                version=3,
                id_number=ID_B,
                village_code=HUANGLIU,
                period="2026-09",
            ),
            make_payout(record_id="T-3", version=2, id_number=ID_C, name="李四"),  # paid now
            make_payout(record_id="T-4", version=2, item_name="高龄津贴", status="reversed"),
            make_payout(record_id="T-1", version=1),  # an old version sent again: no change
        ],
    )
    assert (
        _kept_totals(session)
        == _summed_totals(session)
        == {
            (SANGUANZHAI, "城乡居民基础养老金", "2026-10"): 15300 + 14300,
            (HUANGLIU, "城乡居民基础养老金", "2026-09"): 14300,
        }
    )
