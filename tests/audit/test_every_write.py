"""Every staff write route, found in the app's routes (so a new one is covered the day it is
added), writes an audit entry naming its actor and what changed. A route this module does not
know how to call fails the test: add a valid request for it to WRITES."""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import ratelimit
from app.audit.models import AuditEntry
from app.config import Settings, settings_dependency
from app.contacts import service as contacts_service
from app.contacts.models import ContactKind, SupervisionContact
from app.contacts.schemas import ContactCreate
from app.exams import service as exams_service
from app.forum import service as forum_service
from app.forum.schemas import ForumAnswerCreate
from app.inquiries.models import ItemState
from app.policies import service as policies_service
from app.screening.models import Flag, FlagState, ItemStandard
from app.screening.rules import RuleCode
from app.staff.deps import current_account, current_staff, examinee_token
from app.staff.models import Role, Staff
from app.subsidies import service as subsidies_service
from app.surveys.models import SurveyState
from app.sync import scheduler
from app.tips.models import Tip
from tests.articles.factories import CASE, make_article, make_case
from tests.exams.factories import exam_data, load_bank, make_exam
from tests.factories import DEFAULT_PASSWORD, FOLOU, SANGUANZHAI, auth_headers, make_staff
from tests.forum.factories import answer_data, make_question
from tests.inquiries.factories import days, item_data, make_item, make_meeting, meeting_data
from tests.onboarding.factories import link_settings
from tests.policies.factories import make_policy
from tests.screening.factories import flag as make_flag
from tests.screening.lists_data import employees_csv, id_number
from tests.subsidies.factories import make_payout
from tests.surveys.factories import make_survey, survey_data
from tests.sync.test_router import quarantine_in_a_new_village
from tests.tips import files
from tests.tips.test_router import submit

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def api_routes(routes: Sequence[Any]) -> Iterator[APIRoute]:
    """Every APIRoute of the app, inside the routers it includes too."""
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's included router
        if included is not None:
            yield from api_routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def needs_staff(dependant: Dependant) -> bool:
    """Whether the route asks for a signed-in account: staff, or a cadre taking an exam."""
    return any(
        d.call in (current_staff, current_account, examinee_token) or needs_staff(d)
        for d in dependant.dependencies
    )


def staff_write_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for route in api_routes(app.routes)
        if needs_staff(route.dependant)
        for method in route.methods & WRITE_METHODS
    )


# A cadre's saved answer is its slot's own record (which slot, what, when), not an audit entry:
# 2 000 cadres × 50 answers an exam would bury the log. The attempt's start and submit are
# audited (WRITES).
NOT_AUDITED = {("PUT", "/api/v1/exam-attempts/{attempt_id}/answers/{slot}")}
# The routes of one's own account, open to every account holder: staff of any role and cadres.
OWN_ACCOUNT_ROUTES = {"/api/v1/auth/me", "/api/v1/auth/password"}


@dataclass
class Call:
    session: Session
    client: TestClient
    actor: Staff


@dataclass(frozen=True)
class Write:
    """How to make one valid request: who may, and the URL and body, made ready in the
    database by `prepare`. `changes_existing`: the entry must also hold the state before."""

    role: Role
    prepare: Callable[[Call], tuple[str, dict[str, Any]]]
    changes_existing: bool = True
    region_code: str = field(default="511923000000")
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None  # sent as multipart


def _tip_id(call: Call) -> int:
    ratelimit.reset()
    submit(call.client)
    return call.session.scalars(select(Tip.id).order_by(Tip.id.desc())).first() or 0


def _policy(call: Call, *, published: bool, submitted: bool = False) -> int:
    policy = make_policy(call.session, published=published)
    if submitted:
        policies_service.submit_policy(call.session, policy.id, actor=call.actor)
    return policy.id


def _clerk(call: Call) -> int:
    return make_staff(call.session, role=Role.village_clerk, region_code=SANGUANZHAI).id


def _quarantined(call: Call) -> dict[str, Any]:
    """A replay request for every record, one of them quarantined."""
    quarantine_in_a_new_village(call.session, "AUDIT-WALK-1")
    return {}


def _flag(call: Call, *, confirmed: bool) -> int:
    """A flag of a rule on a line of its own (made as a rule makes one), open or confirmed."""
    number = call.session.scalar(select(func.count()).select_from(Flag)) or 0
    record_id = f"AUDIT-FLAG-{number + 1}"
    subsidies_service.store_payouts(call.session, [make_payout(record_id=record_id)])
    flag = make_flag(call.session, RuleCode.duplicate, (record_id,))
    if confirmed:
        flag.state, flag.reason = FlagState.confirmed, "属实"
        call.session.flush()
    return flag.id


def _standard(call: Call) -> str:
    call.session.add(ItemStandard(item_name="高龄津贴", max_fen=90000, basis="走查"))
    call.session.flush()
    return "高龄津贴"


def _contact(call: Call) -> int:
    """The 包片 leader's number of a village that has none yet (one of a kind per village)."""
    taken = set(call.session.scalars(select(SupervisionContact.region_code)))
    village = next(v for v in ("511923102205", "511923104010", "511923103202") if v not in taken)
    data = ContactCreate(
        kind=ContactKind.area_leader, region_code=village, title="包片", phone="0827-3"
    )
    return contacts_service.create_contact(call.session, data=data, actor=call.actor).id


def _survey(call: Call, state: SurveyState) -> int:
    return make_survey(call.session, call.actor, state=state).id


def _meeting(call: Call, *, published: bool) -> int:
    return make_meeting(call.session, call.actor, published=published).id


def _question(call: Call, *, answered: bool = False) -> int:
    question, _code = make_question(call.session)
    if answered:
        forum_service.answer(
            call.session, question.id, data=ForumAnswerCreate(**answer_data()), actor=call.actor
        )
    return question.id


def _inquiry(call: Call, state: ItemState = ItemState.registered) -> str:
    return make_item(call.session, call.actor, state=state).number


def _open_exam_for(call: Call) -> int:
    """An exam open now, for the cadre calling."""
    load_bank(call.session)
    now = datetime.now(UTC)
    officer = make_staff(call.session, role=Role.township_officer, region_code=FOLOU)
    return make_exam(
        call.session,
        officer,
        opens_at=(now - timedelta(hours=1)).isoformat(),
        closes_at=(now + timedelta(days=7)).isoformat(),
    ).id


def _attempt(call: Call) -> int:
    attempt, _ = exams_service.start_attempt(call.session, _open_exam_for(call), cadre=call.actor)
    return attempt.id


def _draft_exam(call: Call) -> int:
    """A draft exam whose window is still ahead, whatever the day the test runs."""
    load_bank(call.session)
    closes_at = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    return make_exam(call.session, call.actor, open_it=False, closes_at=closes_at).id


BANK_CSV = (
    "kind,tag,text,options,answer,explanation\ntrue_false,走查,走查用的判断题。,,T,走查用的解析。\n"
).encode()


def _article(call: Call, *, published: bool = False) -> int:
    return make_article(call.session, publish=published, actor=call.actor)


def _case(call: Call, *, published: bool = False) -> int:
    return make_case(call.session, publish=published, actor=call.actor)


ARTICLE = {"column": "work", "title": "走查文章", "body_markdown": "走查用的正文。"}
POLICY = {
    "category_code": "01",
    "title": "审计走查补助",
    "summary": "走查每一个写操作。",
    "department": "县民政局",
    "body_md": "## 谁能享受\n\n走查用的正文。\n",
}
WRITES: dict[tuple[str, str], Write] = {
    ("POST", "/api/v1/admin/staff"): Write(
        Role.county_admin,
        lambda c: (
            "/api/v1/admin/staff",
            {
                "username": "audit-walk",
                "display_name": "走查",
                "password": "walk-every-route-7",
                "role": "village_clerk",
                "region_code": SANGUANZHAI,
            },
        ),
        changes_existing=False,
    ),
    ("PATCH", "/api/v1/admin/staff/{staff_id}"): Write(
        Role.county_admin,
        lambda c: (
            f"/api/v1/admin/staff/{_clerk(c)}",
            {"display_name": "改过的名字"},
        ),
    ),
    ("POST", "/api/v1/admin/sync/runs"): Write(
        Role.county_admin, lambda c: ("/api/v1/admin/sync/runs", {}), changes_existing=False
    ),
    ("POST", "/api/v1/admin/sync/rejected/replay"): Write(
        Role.county_admin,
        lambda c: ("/api/v1/admin/sync/rejected/replay", _quarantined(c)),
        changes_existing=False,
    ),
    ("POST", "/api/v1/admin/screening/runs"): Write(
        Role.commission,
        lambda c: ("/api/v1/admin/screening/runs", {"scope": "full"}),
        changes_existing=False,
    ),
    ("POST", "/api/v1/admin/policies"): Write(
        Role.editor, lambda c: ("/api/v1/admin/policies", POLICY), changes_existing=False
    ),
    ("PATCH", "/api/v1/admin/policies/{policy_id}"): Write(
        Role.editor,
        lambda c: (
            f"/api/v1/admin/policies/{_policy(c, published=True)}",
            {"title": "改过的标题"},
        ),
    ),
    ("POST", "/api/v1/admin/policies/{policy_id}/submit"): Write(
        Role.editor,
        lambda c: (f"/api/v1/admin/policies/{_policy(c, published=False)}/submit", {}),
    ),
    ("POST", "/api/v1/admin/policies/{policy_id}/publish"): Write(
        Role.editor,
        lambda c: (
            f"/api/v1/admin/policies/{_policy(c, published=False, submitted=True)}/publish",
            {},
        ),
    ),
    ("POST", "/api/v1/admin/policies/{policy_id}/unpublish"): Write(
        Role.editor,
        lambda c: (f"/api/v1/admin/policies/{_policy(c, published=True)}/unpublish", {}),
    ),
    ("POST", "/api/v1/admin/screening/flags/{flag_id}/close"): Write(
        Role.commission,
        lambda c: (
            f"/api/v1/admin/screening/flags/{_flag(c, confirmed=False)}/close",
            {"state": "dismissed", "reason": "已核实"},
        ),
    ),
    ("POST", "/api/v1/admin/screening/flags/{flag_id}/tip"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/screening/flags/{_flag(c, confirmed=True)}/tip", {}),
    ),
    ("POST", "/api/v1/admin/tips/{tip_id}/assign"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/tips/{_tip_id(c)}/assign", {"staff_id": c.actor.id}),
    ),
    ("POST", "/api/v1/admin/tips/{tip_id}/notes"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/tips/{_tip_id(c)}/notes", {"body": "内部备注"}),
        changes_existing=False,  # a new message; the tip itself is unchanged
    ),
    ("POST", "/api/v1/admin/tips/{tip_id}/replies"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/tips/{_tip_id(c)}/replies", {"body": "已收到，正在核实。"}),
        changes_existing=False,
    ),
    ("POST", "/api/v1/admin/tips/{tip_id}/state"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/tips/{_tip_id(c)}/state", {"state": "accepted"}),
    ),
    ("POST", "/api/v1/admin/surveys"): Write(
        Role.county_admin, lambda c: ("/api/v1/admin/surveys", survey_data()), False
    ),
    ("PUT", "/api/v1/admin/surveys/{survey_id}"): Write(
        Role.county_admin,
        lambda c: (
            f"/api/v1/admin/surveys/{_survey(c, SurveyState.draft)}",
            survey_data(title="改过的测评"),
        ),
    ),
    ("POST", "/api/v1/admin/surveys/{survey_id}/open"): Write(
        Role.county_admin,
        lambda c: (f"/api/v1/admin/surveys/{_survey(c, SurveyState.draft)}/open", {}),
    ),
    ("POST", "/api/v1/admin/surveys/{survey_id}/close"): Write(
        Role.county_admin,
        lambda c: (f"/api/v1/admin/surveys/{_survey(c, SurveyState.open)}/close", {}),
    ),
    ("POST", "/api/v1/admin/surveys/{survey_id}/publish"): Write(
        Role.county_admin,
        lambda c: (f"/api/v1/admin/surveys/{_survey(c, SurveyState.closed)}/publish", {}),
    ),
    ("POST", "/api/v1/admin/articles"): Write(
        Role.editor, lambda c: ("/api/v1/admin/articles", ARTICLE), changes_existing=False
    ),
    ("PATCH", "/api/v1/admin/articles/{article_id}"): Write(
        Role.editor, lambda c: (f"/api/v1/admin/articles/{_article(c)}", {"title": "改过的文章"})
    ),
    ("POST", "/api/v1/admin/articles/{article_id}/submit"): Write(
        Role.editor, lambda c: (f"/api/v1/admin/articles/{_article(c)}/submit", {})
    ),
    ("POST", "/api/v1/admin/articles/{article_id}/publish"): Write(
        Role.editor, lambda c: (f"/api/v1/admin/articles/{_article(c)}/publish", {})
    ),
    ("POST", "/api/v1/admin/articles/{article_id}/unpublish"): Write(
        Role.editor,
        lambda c: (f"/api/v1/admin/articles/{_article(c, published=True)}/unpublish", {}),
    ),
    ("POST", "/api/v1/admin/articles/{article_id}/images"): Write(
        Role.editor,
        lambda c: (f"/api/v1/admin/articles/{_article(c)}/images", {}),
        changes_existing=False,
        files=[("images", ("p.png", files.png(), "image/png"))],
    ),
    ("POST", "/api/v1/admin/cases"): Write(
        Role.commission, lambda c: ("/api/v1/admin/cases", CASE), changes_existing=False
    ),
    ("PATCH", "/api/v1/admin/cases/{case_id}"): Write(
        Role.commission, lambda c: (f"/api/v1/admin/cases/{_case(c)}", {"post": "村会计"})
    ),
    ("POST", "/api/v1/admin/cases/{case_id}/submit"): Write(
        Role.commission, lambda c: (f"/api/v1/admin/cases/{_case(c)}/submit", {})
    ),
    ("POST", "/api/v1/admin/cases/{case_id}/publish"): Write(
        Role.commission, lambda c: (f"/api/v1/admin/cases/{_case(c)}/publish", {})
    ),
    ("POST", "/api/v1/admin/cases/{case_id}/unpublish"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/cases/{_case(c, published=True)}/unpublish", {}),
    ),
    ("POST", "/api/v1/admin/inquiry-meetings"): Write(
        Role.commission,
        lambda c: ("/api/v1/admin/inquiry-meetings", meeting_data()),
        changes_existing=False,
    ),
    ("POST", "/api/v1/admin/inquiry-meetings/{meeting_id}/publish"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/inquiry-meetings/{_meeting(c, published=False)}/publish", {}),
    ),
    ("POST", "/api/v1/admin/inquiry-meetings/{meeting_id}/items"): Write(
        Role.commission,
        lambda c: (
            f"/api/v1/admin/inquiry-meetings/{_meeting(c, published=True)}/items",
            item_data(),
        ),
        changes_existing=False,
    ),
    ("POST", "/api/v1/admin/inquiry-meetings/{meeting_id}/photos"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/inquiry-meetings/{_meeting(c, published=True)}/photos", {}),
        files=[("photos", ("p.png", files.png(), "image/png"))],
    ),
    ("PATCH", "/api/v1/admin/inquiries/{number}"): Write(
        Role.commission,
        lambda c: (
            f"/api/v1/admin/inquiries/{_inquiry(c)}",
            {"question": "更正后的问题内容。", "reason": "删去姓名"},
        ),
    ),
    ("POST", "/api/v1/admin/inquiries/{number}/progress"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/inquiries/{_inquiry(c)}/progress", {"text": "已经开始整改。"}),
    ),
    ("POST", "/api/v1/admin/inquiries/{number}/extend"): Write(
        Role.commission,
        lambda c: (
            f"/api/v1/admin/inquiries/{_inquiry(c)}/extend",
            {"deadline": days(60).isoformat(), "reason": "等资金下达"},
        ),
    ),
    ("POST", "/api/v1/admin/inquiries/{number}/confirmations"): Write(
        Role.commission,
        lambda c: (
            f"/api/v1/admin/inquiries/{_inquiry(c, ItemState.awaiting_confirmation)}/confirmations",
            {
                "meeting_id": make_meeting(c.session, c.actor, held_on=days(0).isoformat()).id,
                "confirmed_by_count": 9,
            },
        ),
    ),
    ("POST", "/api/v1/admin/questions/{question_id}/assign"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/questions/{_question(c)}/assign", {"answerer_unit": "县民政局"}),
    ),
    ("POST", "/api/v1/admin/questions/{question_id}/extend"): Write(
        Role.commission,
        lambda c: (
            f"/api/v1/admin/questions/{_question(c)}/extend",
            {"working_days": 2, "reason": "要到村里核实情况。"},
        ),
    ),
    ("POST", "/api/v1/admin/questions/{question_id}/answer"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/questions/{_question(c)}/answer", answer_data()),
    ),
    ("POST", "/api/v1/admin/questions/{question_id}/publish"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/questions/{_question(c, answered=True)}/publish", {}),
    ),
    ("POST", "/api/v1/admin/questions/{question_id}/to-tip"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/questions/{_question(c)}/to-tip", {"category": "conduct"}),
    ),
    ("POST", "/api/v1/admin/questions/{question_id}/to-inquiry"): Write(
        Role.commission,
        lambda c: (
            f"/api/v1/admin/questions/{_question(c)}/to-inquiry",
            {**item_data(), "meeting_id": _meeting(c, published=True)},
        ),
    ),
    ("POST", "/api/v1/admin/inquiries/{number}/state"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/inquiries/{_inquiry(c)}/state", {"state": "rectifying"}),
    ),
    ("POST", "/api/v1/admin/screening/lists/{kind}"): Write(
        Role.commission,
        lambda c: ("/api/v1/admin/screening/lists/public_employees", {}),
        changes_existing=False,
        files=[("file", ("名单.csv", employees_csv([id_number(1)]), "text/csv"))],
    ),
    ("PUT", "/api/v1/admin/screening/standards/{item_name}"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/screening/standards/{_standard(c)}", {"max_fen": 91000}),
    ),
    ("DELETE", "/api/v1/admin/screening/standards/{item_name}"): Write(
        Role.county_admin,
        lambda c: (f"/api/v1/admin/screening/standards/{_standard(c)}", {}),
    ),
    ("POST", "/api/v1/admin/exam-questions/import"): Write(
        Role.commission,
        lambda c: ("/api/v1/admin/exam-questions/import", {}),
        changes_existing=False,
        files=[("file", ("题库.csv", BANK_CSV, "text/csv"))],
    ),
    ("POST", "/api/v1/admin/exams"): Write(
        Role.commission,
        lambda c: (load_bank(c.session), ("/api/v1/admin/exams", exam_data()))[1],
        changes_existing=False,
    ),
    ("POST", "/api/v1/admin/exams/{exam_id}/open"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/exams/{_draft_exam(c)}/open", {}),
    ),
    ("POST", "/api/v1/exams/{exam_id}/attempts"): Write(
        Role.cadre,
        lambda c: (f"/api/v1/exams/{_open_exam_for(c)}/attempts", {}),
        changes_existing=False,
        region_code=SANGUANZHAI,
    ),
    ("POST", "/api/v1/exam-attempts/{attempt_id}/submit"): Write(
        Role.cadre,
        lambda c: (f"/api/v1/exam-attempts/{_attempt(c)}/submit", {}),
        region_code=SANGUANZHAI,
    ),
    ("POST", "/api/v1/auth/password"): Write(
        Role.cadre,
        lambda c: (
            "/api/v1/auth/password",
            {"current_password": DEFAULT_PASSWORD, "new_password": "xin-mima-2026-shan"},
        ),
        changes_existing=False,
        region_code=SANGUANZHAI,
    ),
    ("POST", "/api/v1/admin/staff/import"): Write(
        Role.county_admin,
        lambda c: ("/api/v1/admin/staff/import", {}),
        changes_existing=False,
        files=[
            (
                "file",
                (
                    "干部.csv",
                    f"username,display_name,role,region_code\nwalk.cadre,走查,cadre,{SANGUANZHAI}\n".encode(),
                    "text/csv",
                ),
            )
        ],
    ),
    ("POST", "/api/v1/admin/posters"): Write(
        Role.county_admin,
        lambda c: ("/api/v1/admin/posters", {"village_code": SANGUANZHAI, "channel": "走查"}),
        changes_existing=False,
    ),
    ("POST", "/api/v1/admin/contacts"): Write(
        Role.commission,
        lambda c: (
            "/api/v1/admin/contacts",
            {"kind": "area_leader", "region_code": SANGUANZHAI, "title": "包片", "phone": "0827-1"},
        ),
        changes_existing=False,
    ),
    ("PUT", "/api/v1/admin/contacts/{contact_id}"): Write(
        Role.commission,
        lambda c: (f"/api/v1/admin/contacts/{_contact(c)}", {"title": "包片", "phone": "0827-2"}),
    ),
    ("DELETE", "/api/v1/admin/contacts/{contact_id}"): Write(
        Role.commission, lambda c: (f"/api/v1/admin/contacts/{_contact(c)}", {})
    ),
}


@pytest.fixture
def walk_settings(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Settings under which every write can succeed (a feed to sync from, poster links); a
    sync started here is recorded but not run: the ids of the runs asked for."""
    settings: Settings = link_settings(feed_url="http://127.0.0.1:9", feed_token=SecretStr("x"))
    app.dependency_overrides[settings_dependency] = lambda: settings
    started: list[int] = []
    monkeypatch.setattr(
        scheduler, "run_in_thread", lambda settings, *, holder, run_id: started.append(run_id)
    )
    return started


def _last_entry_id(session: Session) -> int:
    return session.scalar(select(func.max(AuditEntry.id))) or 0


def test_every_staff_write_route_is_called_here(app: FastAPI) -> None:
    routes = staff_write_routes(app)
    assert ("POST", "/api/v1/admin/staff") in routes  # the discovery finds staff routes
    assert ("POST", "/api/v1/tips") not in routes  # and only those
    unknown = [route for route in routes if route not in WRITES and route not in NOT_AUDITED]
    assert not unknown, f"no known valid request for {unknown}: add one to WRITES"
    assert not set(WRITES) - set(routes), "WRITES names a route that no longer exists"


def test_every_staff_write_is_audited_with_its_actor_and_the_change(
    app: FastAPI, client: TestClient, session: Session, walk_settings: list[int]
) -> None:
    unaudited: list[str] = []
    for method, path in staff_write_routes(app):
        if (method, path) in NOT_AUDITED:
            continue
        write = WRITES[(method, path)]
        actor = make_staff(session, role=write.role, region_code=write.region_code)
        url, body = write.prepare(Call(session, client, actor))
        since = _last_entry_id(session)
        if write.files:
            response = client.request(
                method, url, data=body, files=write.files, headers=auth_headers(actor)
            )
        else:
            response = client.request(method, url, json=body, headers=auth_headers(actor))
        assert response.is_success, f"{method} {path}: {response.text}"
        entries = session.scalars(select(AuditEntry).where(AuditEntry.id > since)).all()
        if not any(
            entry.actor_id == actor.id
            and entry.actor_username == actor.username
            and entry.after is not None
            and (entry.before is not None or not write.changes_existing)
            for entry in entries
        ):
            unaudited.append(f"{method} {path}: {[(e.action, e.actor_id) for e in entries]}")
    assert not unaudited, "writes without an audit entry of actor and change:\n" + "\n".join(
        unaudited
    )
    assert len(walk_settings) == 1  # the sync run was asked for, once it was recorded
