import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import public_writes
from app.main import create_app
from app.screening import objections
from app.screening.flagging import record_findings
from app.screening.models import Flag, Objection
from app.screening.objections import find_objections
from app.screening.rules import RuleCode
from app.staff.models import Role
from app.tips.models import Tip
from tests.asserts import assert_problem
from tests.factories import HUANGLIU, SANGUANZHAI, auth_headers, make_staff
from tests.privacy import database_dump
from tests.screening.factories import person_of, seed_lines

LIST = f"/api/v1/villages/{SANGUANZHAI}/disclosures/2026-10"
URL = f"{LIST}/objections"
REASON = "PLAINTEXT-REASON-这户早就搬走了-3f9a"
AGENT = "VillagePhone/7.3 (Redmi 9A; SecretAgentString)"


def _flag(session: Session, record_id: str) -> Flag:
    session.expire_all()
    flags = session.scalars(select(Flag).where(Flag.rule == RuleCode.objection)).all()
    (found,) = [flag for flag in flags if flag.record_ids == [record_id]]
    return found


def test_an_objection_gives_a_receipt_code_a_tip_and_a_flag(
    client: TestClient, session: Session
) -> None:
    seed_lines(session)
    response = client.post(URL, json={"record_id": "A-1", "reason": REASON})
    assert response.status_code == 201, response.text
    assert "x-request-id" not in response.headers
    body = response.json()
    assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", body["receipt_code"])
    assert body["submitted_on"] == public_writes.today().isoformat()

    (objection,) = session.scalars(select(Objection)).all()
    assert (objection.record_id, objection.village_code, objection.period) == (
        "A-1",
        SANGUANZHAI,
        "2026-10",
    )
    assert objection.created_on == public_writes.today() and objection.tip_id is not None

    flag = _flag(session, "A-1")
    assert flag.record_ids == ["A-1"] and flag.state == "open"
    assert flag.village_code == SANGUANZHAI and flag.period == "2026-10"
    assert flag.person_id == person_of(session, "A-1")
    assert flag.figures == {
        "objections": 1,
        "item_name": "城乡居民基础养老金",
        "amount": "143.00",
        "period": "2026-10",
        "status": "paid",
    }

    # the receipt code follows the tip, as any tip's
    status = client.post("/api/v1/tips/receipt", json={"receipt_code": body["receipt_code"]})
    assert status.status_code == 200, status.text
    assert status.json()["state"] == "submitted" and status.json()["category"] == "funds"

    # the commission sees it among the tips, tied to the line, the reason decrypted
    headers = auth_headers(make_staff(session, role=Role.commission))
    listed = client.get("/api/v1/admin/tips", params={"source": "objection"}, headers=headers)
    (brief,) = listed.json()["items"]
    assert brief["id"] == objection.tip_id and brief["source_name"] == "晒账异议"
    tip = client.get(f"/api/v1/admin/tips/{objection.tip_id}", headers=headers).json()
    assert tip["payout_record_id"] == "A-1" and REASON in tip["content"]
    assert "143 元" in tip["content"] and tip["is_real_name"] is False
    stored = session.get(Tip, objection.tip_id)
    assert stored is not None and stored.content_enc is not None
    assert REASON.encode() not in stored.content_enc

    # and the flag shows on the flag list
    flags = client.get(
        "/api/v1/admin/screening/flags", params={"rule": "objection"}, headers=headers
    ).json()
    assert [item["id"] for item in flags["items"]] == [flag.id]
    assert flags["items"][0]["rule_name"] == "群众提出异议"


def test_another_objection_updates_the_figures_and_reopens_a_dismissed_flag(
    client: TestClient, session: Session
) -> None:
    seed_lines(session)
    assert client.post(URL, json={"record_id": "A-1"}).status_code == 201
    flag_id = _flag(session, "A-1").id
    headers = auth_headers(make_staff(session, role=Role.commission))
    closed = client.post(
        f"/api/v1/admin/screening/flags/{flag_id}/close",
        json={"state": "dismissed", "reason": "已核实无误"},
        headers=headers,
    )
    assert closed.status_code == 200

    assert client.post(URL, json={"record_id": "A-1", "reason": "还是不对"}).status_code == 201
    flag = _flag(session, "A-1")
    assert flag.id == flag_id and flag.state == "open" and flag.reason is None
    assert flag.figures["objections"] == 2
    assert len(session.scalars(select(Objection)).all()) == 2
    assert len(session.scalars(select(Tip)).all()) == 2


def test_a_reversed_line_on_the_list_may_be_objected_to(
    client: TestClient, session: Session
) -> None:
    seed_lines(session)
    response = client.post(URL, json={"record_id": "C-1"})
    assert response.status_code == 201, response.text
    flag = _flag(session, "C-1")
    assert flag.figures["status"] == "reversed"
    tip = session.get(Tip, session.scalars(select(Objection.tip_id)).one())
    assert tip is not None and tip.category == "dibao"


def test_a_line_not_on_that_list_is_not_found(client: TestClient, session: Session) -> None:
    seed_lines(session)
    # B-1 is a line of 黄柳村 (2026-09)
    problem = assert_problem(
        client.post(URL, json={"record_id": "B-1"}), 404, "screening_line_not_listed"
    )
    assert "B-1" in problem["detail"]
    other_month = f"/api/v1/villages/{HUANGLIU}/disclosures/2026-10/objections"
    assert_problem(
        client.post(other_month, json={"record_id": "B-1"}), 404, "screening_line_not_listed"
    )
    assert_problem(
        client.post(URL, json={"record_id": "NO-SUCH"}), 404, "screening_line_not_listed"
    )
    nowhere = "/api/v1/villages/511923999999/disclosures/2026-10/objections"
    assert_problem(
        client.post(nowhere, json={"record_id": "A-1"}), 404, "screening_line_not_listed"
    )
    assert session.scalars(select(Objection)).all() == []
    assert session.scalars(select(Tip)).all() == []
    assert session.scalars(select(Flag)).all() == []

    bad_bodies = (
        {},
        {"record_id": ""},
        {"record_id": "A-1", "reason": "x" * 501},
        {"record_id": "A-1", "device_id": "abc"},
        {"record_id": "A\u0000-1"},
    )
    for body in bad_bodies:
        assert_problem(client.post(URL, json=body), 422, "validation_failed")
    for url in (
        "/api/v1/villages/5119231032/disclosures/2026-10/objections",
        f"/api/v1/villages/{SANGUANZHAI}/disclosures/2026-13/objections",
    ):
        assert_problem(client.post(url, json={"record_id": "A-1"}), 422, "validation_failed")


def test_objections_are_limited_per_client(client: TestClient, session: Session) -> None:
    seed_lines(session)
    for _ in range(10):
        assert client.post(URL, json={"record_id": "A-1"}).status_code == 201
    limited = assert_problem(client.post(URL, json={"record_id": "A-1"}), 429, "rate_limited")
    assert limited["retry_after"] >= 1


def test_find_objections_gives_each_line_objected_to_as_it_stands(
    client: TestClient, session: Session
) -> None:
    seed_lines(session)
    for record_id in ("A-1", "A-1", "A-2"):
        assert client.post(URL, json={"record_id": record_id}).status_code == 201
    findings = sorted(find_objections(session, None), key=lambda f: f.record_ids)
    assert [(f.record_ids, f.figures["objections"]) for f in findings] == [
        (("A-1",), 2),
        (("A-2",), 1),
    ]
    assert all(f.village_code == SANGUANZHAI and f.period == "2026-10" for f in findings)
    # the nightly run finds nothing new in them
    assert tuple(record_findings(session, RuleCode.objection, findings, run_id=None)) == (0, 0, 0)


def test_the_objection_path_is_anonymous() -> None:
    assert public_writes.is_anonymous(URL)
    assert not public_writes.is_anonymous(LIST)


def test_a_database_copy_holds_nothing_identifying_an_objector(committed_db: str) -> None:
    from app.db.engines import session_scope

    with session_scope().begin() as session:
        seed_lines(session)
    application: FastAPI = create_app(configure_logs=False, schedule_jobs=False)
    with TestClient(application) as client:
        response = client.post(
            URL, json={"record_id": "A-1", "reason": REASON}, headers={"User-Agent": AGENT}
        )
        assert response.status_code == 201, response.text
        code = response.json()["receipt_code"]
    dump = database_dump(committed_db)
    for secret in (REASON, code, code.replace(" ", ""), AGENT, "SecretAgentString", "testclient"):
        assert secret.encode() not in dump, secret


def test_an_objection_whose_flag_insert_loses_a_race_tries_again(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another request inserted the line's flag between this one's look and its insert, so the
    flag's unique key refused this one's: the objection is not lost, the flag is raised again
    (here the savepoint took "the other's" flag away with it: one flag, one objection)."""
    seed_lines(session)
    real = objections.record_findings
    calls: list[int] = []

    def raced(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            real(*args, **kwargs)  # "the other request's" flag
            session.flush()
            raise IntegrityError("INSERT", {}, Exception("uq_screening_flag_rule"))
        return real(*args, **kwargs)

    monkeypatch.setattr(objections, "record_findings", raced)
    assert client.post(URL, json={"record_id": "A-1"}).status_code == 201
    assert len(calls) == 2
    assert len(session.scalars(select(Objection)).all()) == 1
    flag = _flag(session, "A-1")
    assert flag.figures["objections"] == 1
