"""A township officer sees and changes only what lies in their own township. For every staff
route, found in the app's routes, the officer of 佛楼镇 asking about an object of 西兴镇 gets a
403 or a 404 problem (staff accounts answer 403 forbidden; surveys, posters and tips answer 404,
so that ids outside the region tell nothing) and writes nothing; lists and region filters show
nothing of 西兴镇. A path parameter this module cannot fill fails the test: add it to OBJECTS."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.config import settings_dependency
from app.contacts import service as contacts_service
from app.contacts.models import ContactKind
from app.contacts.schemas import ContactCreate
from app.exams import service as exams_service
from app.inquiries.models import ItemState
from app.screening.rules import RuleCode
from app.staff.models import Role, Staff
from app.subsidies import service as subsidies_service
from app.surveys.models import SurveyState
from app.sync.models import SyncRun
from app.tips.models import Tip
from tests.articles.factories import CASE, make_article, make_case
from tests.audit.test_every_write import (
    OWN_ACCOUNT_ROUTES,
    WRITE_METHODS,
    api_routes,
    needs_staff,
)
from tests.exams.factories import exam_data, load_bank, make_cadre, make_exam
from tests.factories import (
    FOLOU,
    HUANGLIU,
    SANGUANZHAI,
    XIXING,
    auth_headers,
    make_staff,
)
from tests.forum.factories import answer_data, make_question
from tests.inquiries.factories import days, item_data, make_item, make_meeting, meeting_data
from tests.onboarding.factories import link_settings, make_poster
from tests.policies.factories import make_policy
from tests.screening.factories import flag as make_flag
from tests.subsidies.factories import make_payout
from tests.surveys.factories import make_survey, survey_data
from tests.tips.test_router import submit


@dataclass
class Township:
    """One township's objects, one of each kind a route can name."""

    code: str
    village: str
    officer: Staff
    clerk: Staff
    survey_id: int
    poster_code: str
    tip_id: int
    meeting_id: int
    number: str  # an item of the meeting
    flag_id: int  # a screening flag on a line of the village
    contact_id: int  # the 包片 leader's number of the village
    exam_id: int  # an open exam of the township
    attempt_id: int  # a cadre's attempt at it
    article_id: int  # proposed by the township's officer
    case_id: int  # a case of the village, proposed by the officer
    question_id: int  # a villager's question to the commission (云端话廉) about the village

    def path_values(self) -> dict[str, object]:
        return {
            "contact_id": self.contact_id,
            "village_code": self.village,
            "period": "2026-10",  # the month of the flag's line
            "staff_id": self.clerk.id,
            "survey_id": self.survey_id,
            "code": self.poster_code,
            "tip_id": self.tip_id,
            "attachment_id": 1,
            "meeting_id": self.meeting_id,
            "number": self.number,
            "flag_id": self.flag_id,
            "exam_id": self.exam_id,
            "attempt_id": self.attempt_id,
            "slot": 1,
            "article_id": self.article_id,
            "case_id": self.case_id,
            "question_id": self.question_id,
        }


def _township(client: TestClient, session: Session, code: str, village: str) -> Township:
    officer = make_staff(session, role=Role.township_officer, region_code=code)
    clerk = make_staff(session, role=Role.village_clerk, region_code=village)
    survey = make_survey(session, officer, state=SurveyState.closed, region_code=code)
    poster = make_poster(session, officer, village_code=village, settings=link_settings())
    submit(client, village_code=village)
    tip_id = session.scalars(select(Tip.id).order_by(Tip.id.desc())).first()
    assert tip_id is not None
    meeting = make_meeting(session, officer, village_code=village)
    item = make_item(session, officer, meeting_id=meeting.id, state=ItemState.rectifying)
    record_id = f"BORDER-{village}"
    subsidies_service.store_payouts(
        session, [make_payout(record_id=record_id, village_code=village)]
    )
    flag = make_flag(session, RuleCode.duplicate, (record_id,), village_code=village)
    contact = contacts_service.create_contact(
        session,
        data=ContactCreate(
            kind=ContactKind.area_leader, region_code=village, title="包片", phone="0827-5"
        ),
        actor=officer,
    )
    load_bank(session)
    now = datetime.now(UTC)
    exam = make_exam(
        session,
        officer,
        region_code=code,
        opens_at=(now - timedelta(hours=1)).isoformat(),
        closes_at=(now + timedelta(days=7)).isoformat(),
    )
    attempt, _ = exams_service.start_attempt(session, exam.id, cadre=make_cadre(session, village))
    article_id = make_article(session, publish=False, actor=officer)
    case_id = make_case(
        session, publish=False, actor=officer, township_code=code, village_code=village
    )
    return Township(
        code,
        village,
        officer,
        clerk,
        survey.id,
        poster.code,
        tip_id,
        meeting.id,
        item.number,
        flag.id,
        contact.id,
        exam.id,
        attempt.id,
        article_id,
        case_id,
        make_question(session, village_code=village)[0].id,
    )


@pytest.fixture
def townships(app: FastAPI, client: TestClient, session: Session) -> tuple[Township, Township]:
    settings = link_settings()
    app.dependency_overrides[settings_dependency] = lambda: settings
    return (
        _township(client, session, FOLOU, SANGUANZHAI),
        _township(client, session, XIXING, HUANGLIU),
    )


ARTICLE = {"column": "work", "title": "越界", "body_markdown": "越界"}
# Path parameters of objects that are county-wide (no township owns them): the officer's role
# alone refuses them.
COUNTY_WIDE: dict[str, Callable[[Session], object]] = {
    "policy_id": lambda session: make_policy(session).id,
    "run_id": lambda session: _sync_run(session),
    "kind": lambda session: "public_employees",
    "item_name": lambda session: "高龄津贴",
}


def _sync_run(session: Session) -> int:
    run = SyncRun(trigger="cli", outcome="succeeded")
    session.add(run)
    session.flush()
    return run.id


def _bodies(other: Township) -> dict[tuple[str, str], dict[str, Any]]:
    """Valid bodies, naming the other township where a body names a region."""
    return {
        ("POST", "/api/v1/admin/contacts"): {
            "kind": "township_commission",
            "region_code": other.code,
            "title": "越界",
            "phone": "0827-9",
        },
        ("PUT", "/api/v1/admin/contacts/{contact_id}"): {"title": "越界", "phone": "0827-9"},
        ("POST", "/api/v1/admin/staff"): {
            "username": "cross-border",
            "display_name": "越界",
            "password": "cross-the-border-9",
            "role": "village_clerk",
            "region_code": other.village,
        },
        ("PATCH", "/api/v1/admin/staff/{staff_id}"): {"display_name": "越界改名"},
        ("POST", "/api/v1/admin/surveys"): survey_data(region_code=other.code),
        ("PUT", "/api/v1/admin/surveys/{survey_id}"): survey_data(region_code=other.code),
        ("POST", "/api/v1/admin/posters"): {"village_code": other.village, "channel": "越界"},
        ("POST", "/api/v1/admin/tips/{tip_id}/assign"): {"staff_id": other.officer.id},
        ("POST", "/api/v1/admin/tips/{tip_id}/notes"): {"body": "越界"},
        ("POST", "/api/v1/admin/tips/{tip_id}/replies"): {"body": "越界"},
        ("POST", "/api/v1/admin/tips/{tip_id}/state"): {"state": "accepted"},
        ("PATCH", "/api/v1/admin/policies/{policy_id}"): {"title": "越界"},
        ("POST", "/api/v1/admin/policies"): {},
        ("POST", "/api/v1/admin/inquiry-meetings"): meeting_data(village_code=other.village),
        ("POST", "/api/v1/admin/inquiry-meetings/{meeting_id}/items"): item_data(),
        ("POST", "/api/v1/admin/inquiry-meetings/{meeting_id}/photos"): {},
        ("POST", "/api/v1/admin/inquiries/{number}/progress"): {"text": "越界"},
        ("PATCH", "/api/v1/admin/inquiries/{number}"): {
            "question": "越界改写问题",
            "reason": "越界",
        },
        ("POST", "/api/v1/admin/inquiries/{number}/extend"): {
            "deadline": days(90).isoformat(),
            "reason": "越界",
        },
        ("POST", "/api/v1/admin/inquiries/{number}/confirmations"): {
            "meeting_id": other.meeting_id,
            "confirmed_by_count": 3,
        },
        ("POST", "/api/v1/admin/inquiries/{number}/state"): {"state": "awaiting_confirmation"},
        ("POST", "/api/v1/admin/exams"): exam_data(region_code=other.code),
        ("PUT", "/api/v1/exam-attempts/{attempt_id}/answers/{slot}"): {"answer": "A"},
        ("POST", "/api/v1/admin/articles"): {**ARTICLE, "township_code": other.code},
        ("PATCH", "/api/v1/admin/articles/{article_id}"): {"title": "越界"},
        ("POST", "/api/v1/admin/articles/{article_id}/images"): {},
        ("POST", "/api/v1/admin/cases"): {
            **CASE,
            "township_code": other.code,
            "village_code": other.village,
        },
        ("PATCH", "/api/v1/admin/cases/{case_id}"): {"post": "越界"},
        ("POST", "/api/v1/admin/questions/{question_id}/assign"): {"answerer_unit": "越界"},
        ("POST", "/api/v1/admin/questions/{question_id}/extend"): {
            "working_days": 3,
            "reason": "越界延期",
        },
        ("POST", "/api/v1/admin/questions/{question_id}/answer"): answer_data(),
        ("POST", "/api/v1/admin/questions/{question_id}/to-tip"): {"category": "other"},
        ("POST", "/api/v1/admin/questions/{question_id}/to-inquiry"): {
            **item_data(),
            "meeting_id": other.meeting_id,
        },
        ("POST", "/api/v1/admin/screening/flags/{flag_id}/close"): {
            "state": "dismissed",
            "reason": "越界",
        },
    }


def _files(other: Township) -> dict[tuple[str, str], dict[str, tuple[str, bytes]]]:
    """Valid uploads, naming the other township."""
    cadres = f"username,display_name,role,region_code\ncross.border,越界,cadre,{other.village}\n"
    return {("POST", "/api/v1/admin/staff/import"): {"file": ("干部.csv", cadres.encode())}}


def _audit_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_an_officer_reaches_no_object_of_another_township(
    app: FastAPI, client: TestClient, session: Session, townships: tuple[Township, Township]
) -> None:
    own, other = townships
    headers = auth_headers(own.officer)
    values: dict[str, object] = {
        **other.path_values(),
        **{name: make(session) for name, make in COUNTY_WIDE.items()},
    }
    bodies = _bodies(other)
    reached: list[str] = []
    for route in api_routes(app.routes):
        if not needs_staff(route.dependant) or route.path in OWN_ACCOUNT_ROUTES:
            continue
        names = [param.name for param in route.dependant.path_params]
        unknown = [name for name in names if name not in values]
        assert not unknown, f"{route.path}: add an object for {unknown} to this module"
        if not names and not route.methods & WRITE_METHODS:
            continue  # a list: see the test of lists below
        url = route.path.format(**{name: values[name] for name in names})
        for method in sorted(route.methods - {"HEAD"}):
            before = _audit_count(session)
            upload = _files(other).get((method, route.path))
            if upload is not None:
                response = client.request(method, url, files=upload, headers=headers)
            else:
                response = client.request(
                    method, url, json=bodies.get((method, route.path)), headers=headers
                )
            if response.status_code not in (403, 404) or "problem" not in response.headers.get(
                "content-type", ""
            ):
                reached.append(f"{method} {route.path} → {response.status_code}")
            elif method in WRITE_METHODS and _audit_count(session) != before:
                reached.append(f"{method} {route.path} wrote an audit entry")
    assert not reached, "reached across the township border:\n" + "\n".join(reached)


def test_an_officer_reaches_the_same_objects_of_their_own_township(
    client: TestClient, townships: tuple[Township, Township]
) -> None:
    # The 403s and 404s above come from the border, not from routes an officer never reaches.
    own, _ = townships
    headers = auth_headers(own.officer)
    for url in (
        f"/api/v1/admin/staff/{own.clerk.id}",
        f"/api/v1/admin/surveys/{own.survey_id}",
        f"/api/v1/admin/surveys/{own.survey_id}/results",
        f"/api/v1/admin/posters/{own.poster_code}",
        f"/api/v1/admin/posters/{own.poster_code}/stats",
        f"/api/v1/admin/inquiry-meetings/{own.meeting_id}",
        f"/api/v1/admin/inquiry-meetings/{own.meeting_id}/list.pdf",
        f"/api/v1/admin/inquiries/{own.number}",
        f"/api/v1/admin/screening/flags/{own.flag_id}",
        f"/api/v1/admin/articles/{own.article_id}",
        f"/api/v1/admin/cases/{own.case_id}",
        f"/api/v1/admin/villages/{own.village}/disclosures/2026-10/notice.pdf",
    ):
        assert client.get(url, headers=headers).status_code == 200, url
    change = {"title": "包片领导", "phone": "0827-6"}
    changed = client.put(f"/api/v1/admin/contacts/{own.contact_id}", json=change, headers=headers)
    assert changed.status_code == 200, changed.text
    for step in ("publish",):
        response = client.post(f"/api/v1/admin/surveys/{own.survey_id}/{step}", headers=headers)
        assert response.status_code == 200, response.text


def test_an_officers_lists_and_filters_show_nothing_of_another_township(
    client: TestClient, townships: tuple[Township, Township]
) -> None:
    own, other = townships
    headers = auth_headers(own.officer)
    staff = client.get("/api/v1/admin/staff", headers=headers).json()["items"]
    assert {s["id"] for s in staff} >= {own.clerk.id} and other.clerk.id not in {
        s["id"] for s in staff
    }
    assert other.officer.id not in {s["id"] for s in staff}
    surveys = client.get("/api/v1/admin/surveys", headers=headers).json()["items"]
    assert [s["id"] for s in surveys] == [own.survey_id]
    posters = client.get("/api/v1/admin/posters", headers=headers).json()["items"]
    assert [p["code"] for p in posters] == [own.poster_code]
    due = client.get("/api/v1/admin/inquiries/due", params={"within_days": 365}, headers=headers)
    assert [i["number"] for i in due.json()["items"]] == [own.number]
    flags = client.get("/api/v1/admin/screening/flags", headers=headers).json()["items"]
    assert [f["id"] for f in flags] == [own.flag_id]
    contacts = client.get("/api/v1/admin/contacts", headers=headers).json()["items"]
    assert [c["id"] for c in contacts] == [own.contact_id]
    townships_seen = client.get("/api/v1/admin/posters/townships", headers=headers).json()
    assert {t["township_code"] for t in townships_seen} == {own.code}
    for url, params in (
        ("/api/v1/admin/staff", {"region_code": other.code}),
        ("/api/v1/admin/staff", {"region_code": other.village}),
        ("/api/v1/admin/posters", {"township_code": other.code}),
        ("/api/v1/admin/posters", {"village_code": other.village}),
        ("/api/v1/admin/screening/flags", {"township_code": other.code}),
        ("/api/v1/admin/screening/flags", {"village_code": other.village}),
    ):
        response = client.get(url, params=params, headers=headers)
        assert response.status_code in (403, 404) or not response.json()["items"], (url, params)
