"""Every public write route (found in the app's routes, so a new one is covered the day it is
added), called with an ID number, a name, tip text, codes and tokens we know, leaves none of
them in any table of the database (every table the models know) or in any log line, at any
level. A public write route this module cannot call fails the test: add it to STEPS."""

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db.engines import session_scope
from app.exams import bank
from app.exams.models import ExamQuestion
from app.inquiries.models import ItemState
from app.main import create_app
from app.public_writes import is_anonymous
from app.staff.models import Role
from app.subsidies import service as subsidies_service
from app.surveys.models import SurveyState
from app.web.inquiries import PHONE_COOKIE, vote_key
from tests.audit.test_every_write import WRITE_METHODS, api_routes, needs_staff
from tests.factories import DEFAULT_PASSWORD, make_staff
from tests.inquiries.factories import make_item
from tests.onboarding.factories import LINK_ENV, make_poster
from tests.privacy import database_dump
from tests.subsidies.factories import ID_A, ID_C, make_payout
from tests.surveys.factories import answers_for, make_survey
from tests.web.factories import PNG, web_answers

NAME = "张秀英"
UNKNOWN_NAME = "王德胜"
WRONG_PASSWORD = "wrong-password-5e1d"
CONTENT = "PLAIN-CONTENT-村主任冒领低保-3b9f"
ACCUSED = "PLAIN-ACCUSED-李大富"
CONTACT = "PLAIN-CONTACT-13900002222"
FOLLOW_UP = "PLAIN-FOLLOWUP-又扣了两个月"
DEVICE_TOKEN = "PLAIN-DEVICE-TOKEN-8c2a7f31d4"
OBJECTION = "PLAIN-OBJECTION-这户早就搬走了-5d0e"
QUESTION = "PLAIN-QUESTION-村里的低保评议从来不开会-2a7c"
AGENT = "VillagePhone/9.1 (Android 13; PLAIN-AGENT-Redmi)"
CLIENT_ADDRESS = "testclient"  # what TestClient gives as the client's address


class Walk:
    """The calls made so far, and every value they sent that must not be kept in clear."""

    def __init__(self, client: TestClient, context: dict[str, Any]) -> None:
        self.client = client
        self.context = context
        self.secrets: list[str] = [CLIENT_ADDRESS, AGENT]

    def post(self, url: str, **kwargs: Any) -> Any:
        response = self.client.post(url, headers={"User-Agent": AGENT}, **kwargs)
        assert response.status_code < 500, response.text
        return response


def _lookups(walk: Walk) -> None:
    url = "/api/v1/subsidies/lookup"
    assert walk.post(url, json={"id_number": ID_A, "name": NAME}).status_code == 200
    assert walk.post(url, json={"id_number": ID_A, "name": UNKNOWN_NAME}).status_code == 404
    assert walk.post(url, json={"id_number": ID_C, "name": UNKNOWN_NAME}).status_code == 404
    walk.secrets += [ID_A, ID_A[:17], ID_A.lower(), ID_C, ID_C[:17], NAME, UNKNOWN_NAME]


def _sign_in_refresh_and_out(walk: Walk) -> None:
    username = walk.context["username"]
    form = {"username": username, "password": WRONG_PASSWORD}
    assert walk.post("/api/v1/auth/token", data=form).status_code == 401
    form["password"] = DEFAULT_PASSWORD
    first = walk.post("/api/v1/auth/token", data=form).json()["refresh_token"]
    second = walk.post("/api/v1/auth/refresh", json={"refresh_token": first}).json()
    assert walk.post(
        "/api/v1/auth/logout", json={"refresh_token": second["refresh_token"]}
    ).is_success
    walk.secrets += [DEFAULT_PASSWORD, WRONG_PASSWORD, first, second["refresh_token"]]
    walk.secrets += [second["access_token"]]


def _tip_and_follow_up(walk: Walk) -> None:
    tip = {
        "category": "dibao",
        "village_code": "511923103204",
        "accused": ACCUSED,
        "content": CONTENT,
        "contact": CONTACT,
        "amount_involved": "8765.43",
    }
    code = walk.post("/api/v1/tips", json=tip).json()["receipt_code"]
    assert walk.post("/api/v1/tips/receipt", json={"receipt_code": code}).status_code == 200
    message = {"receipt_code": code, "body": FOLLOW_UP}
    assert walk.post("/api/v1/tips/receipt/messages", json=message).status_code == 201
    walk.secrets += [CONTENT, ACCUSED, CONTACT, FOLLOW_UP, code, code.replace(" ", ""), "8765.43"]


def _survey_response(walk: Walk) -> None:
    survey = walk.context["survey"]
    body = {"device_token": DEVICE_TOKEN, "answers": walk.context["answers"]}
    assert walk.post(f"/api/v1/surveys/{survey}/responses", json=body).status_code == 201
    walk.secrets.append(DEVICE_TOKEN)


def _inquiry_votes(walk: Walk) -> None:
    number = walk.context["inquiry"]
    body = {"device_token": DEVICE_TOKEN + "-wl", "resolved": True, "comment": "路修好了"}
    assert walk.post(f"/api/v1/inquiries/{number}/confirmations", json=body).status_code == 201
    page = walk.client.get(f"/inquiries/{number}", headers={"User-Agent": AGENT})
    phone = page.cookies[PHONE_COOKIE]
    key = vote_key(number, phone, settings=get_settings())
    assert (
        walk.post(f"/inquiries/{number}/votes", data={"resolved": "1", "key": key}).status_code
        == 200
    )
    walk.secrets += [DEVICE_TOKEN + "-wl", phone]


def _objection(walk: Walk) -> None:
    url = "/api/v1/villages/511923103204/disclosures/2026-10/objections"
    body = {"record_id": "PC202610-0000001", "reason": OBJECTION}
    code = walk.post(url, json=body).json()["receipt_code"]
    walk.secrets += [OBJECTION, code, code.replace(" ", "")]


def _web_pages(walk: Walk) -> None:
    """The same writes through the H5 app's forms (app.web)."""
    form = {"id_number": ID_A, "name": NAME}
    assert walk.post("/lookup", data=form).status_code == 200
    assert walk.post("/lookup", data={**form, "name": UNKNOWN_NAME}).status_code == 404
    tip = {"category": "dibao", "content": CONTENT + "-web", "contact": CONTACT + "-web"}
    answer = walk.post("/tips/new", data=tip, files={"attachments": ("a.png", PNG, "image/png")})
    assert answer.status_code == 201 and not answer.cookies
    code = re.search(r'id="receipt-code">([\d ]+)<', answer.text)
    assert code is not None
    found = walk.post("/tips/receipt", data={"receipt_code": code[1], "body": FOLLOW_UP + "-web"})
    assert found.status_code == 200
    url = "/villages/511923103204/2026-10/objections"
    objected = walk.post(url, data={"record_id": "PC202610-0000001", "reason": OBJECTION + "-w"})
    assert objected.status_code == 201
    survey = walk.context["web_survey"]
    fields = {"device_token": DEVICE_TOKEN + "-web", **walk.context["web_answers"]}
    assert walk.post(f"/surveys/{survey}", data=fields).status_code == 200
    number = walk.context["inquiry"]
    assert (
        walk.post(f"/wl/{number}/votes", data={"resolved": "1", "key": "0" * 32}).status_code == 422
    )
    walk.secrets += [CONTENT + "-web", CONTACT + "-web", FOLLOW_UP + "-web", OBJECTION + "-w"]
    walk.secrets += [code[1], code[1].replace(" ", ""), DEVICE_TOKEN + "-web"]


def _question(walk: Walk) -> None:
    body = {"kind": "complaint", "title": "低保评议不公开", "body": QUESTION}
    code = walk.post("/api/v1/questions", json=body).json()["code"]
    assert walk.post("/api/v1/questions/status", json={"code": code}).status_code == 200
    rating = {"code": code, "score": 5}
    assert walk.post("/api/v1/questions/rating", json=rating).status_code == 422  # not answered
    walk.secrets += [code, code.replace(" ", "")]
    form = {"kind": "suggest", "title": "村里的路灯坏了", "body": QUESTION + "-web"}
    asked = walk.post("/questions/new", data=form)
    assert asked.status_code == 201 and not asked.cookies
    web_code = re.search(r'id="receipt-code">([\d ]+)<', asked.text)
    assert web_code is not None
    mine = walk.post("/questions/mine", data={"code": web_code[1], "score": "5"})
    assert mine.status_code == 422 and not mine.cookies  # not answered yet: no rating
    walk.secrets += [web_code[1], web_code[1].replace(" ", "")]


def _practice(walk: Walk) -> None:
    body = {"question_id": walk.context["practice_question"], "answer": "T"}
    assert walk.post("/api/v1/exam-practice/answers", json=body).status_code == 200


def _scan(walk: Walk) -> None:
    # a GET that writes (a count of scans)
    page = walk.client.get(f"/i/{walk.context['poster']}", headers={"User-Agent": AGENT})
    assert page.status_code == 200


# Each step, and the public write routes it calls.
STEPS: list[tuple[Callable[[Walk], None], set[tuple[str, str]]]] = [
    (_lookups, {("POST", "/api/v1/subsidies/lookup")}),
    (
        _sign_in_refresh_and_out,
        {
            ("POST", "/api/v1/auth/token"),
            ("POST", "/api/v1/auth/refresh"),
            ("POST", "/api/v1/auth/logout"),
        },
    ),
    (
        _tip_and_follow_up,
        {
            ("POST", "/api/v1/tips"),
            ("POST", "/api/v1/tips/receipt"),
            ("POST", "/api/v1/tips/receipt/messages"),
        },
    ),
    (_survey_response, {("POST", "/api/v1/surveys/{survey_id}/responses")}),
    (
        _inquiry_votes,
        {
            ("POST", "/api/v1/inquiries/{number}/confirmations"),
            ("POST", "/inquiries/{number}/votes"),
        },
    ),
    (
        _objection,
        {("POST", "/api/v1/villages/{village_code}/disclosures/{period}/objections")},
    ),
    (
        _web_pages,
        {
            ("POST", "/lookup"),
            ("POST", "/tips/new"),
            ("POST", "/tips/receipt"),
            ("POST", "/villages/{code}/{period}/objections"),
            ("POST", "/surveys/{survey_id}"),
            ("POST", "/wl/{number}/votes"),
        },
    ),
    (
        _question,
        {
            ("POST", "/api/v1/questions"),
            ("POST", "/api/v1/questions/status"),
            ("POST", "/api/v1/questions/rating"),
            ("POST", "/questions/new"),
            ("POST", "/questions/mine"),
        },
    ),
    (_practice, {("POST", "/api/v1/exam-practice/answers")}),
    (_scan, {("GET", "/i/{code}")}),
]


def _a_true_false_question(session: Session) -> int:
    bank.load_starter_bank(session)
    return session.scalars(
        select(ExamQuestion.id).where(ExamQuestion.kind == "true_false").limit(1)
    ).one()


def public_write_routes() -> set[tuple[str, str]]:
    app = create_app(configure_logs=False, schedule_jobs=False)
    return {
        (method, route.path)
        for route in api_routes(app.routes)
        if not needs_staff(route.dependant)
        for method in route.methods & WRITE_METHODS
    }


def test_every_public_write_route_is_walked() -> None:
    walked = set().union(*(routes for _, routes in STEPS))
    unknown = public_write_routes() - walked
    assert not unknown, f"no known request for {unknown}: add a step to STEPS"


def test_public_writes_keep_nothing_identifying_in_clear(
    committed_db: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name, value in LINK_ENV.items():
        monkeypatch.setenv(name, value)
    from app.config import get_settings

    get_settings.cache_clear()
    with session_scope().begin() as session:
        subsidies_service.store_payouts(session, [make_payout(name=NAME)])
        admin = make_staff(session, role=Role.county_admin)
        survey = make_survey(session, admin, state=SurveyState.open)
        web_survey = make_survey(session, admin, state=SurveyState.open)
        context = {
            "username": admin.username,
            "survey": survey.id,
            "answers": answers_for(survey),
            "web_survey": web_survey.id,
            "web_answers": web_answers(web_survey),
            "poster": make_poster(session, admin, settings=get_settings()).code,
            "practice_question": _a_true_false_question(session),
            "inquiry": make_item(
                session,
                make_staff(session, role=Role.commission),
                state=ItemState.awaiting_confirmation,
            ).number,
        }
    with (
        caplog.at_level(logging.DEBUG),
        TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client,
    ):
        walk = Walk(client, context)
        for step, _ in STEPS:
            step(walk)
    logs = "\n".join(f"{r.getMessage()} {r.args} {vars(r)}" for r in caplog.records)
    assert "/api/v1/subsidies/lookup" in logs  # the walk did log
    dump = database_dump(committed_db)
    assert NAME[0].encode() + b"*" + NAME[-1].encode() in dump  # the data is there, masked
    for secret in walk.secrets:
        assert secret.encode() not in dump, f"stored in clear: {secret}"
        assert secret not in logs, f"logged: {secret}"


# Public writes whose callers are not villagers writing anonymously: a lookup (its own rules)
# and staff signing in.
NOT_ANONYMOUS = {
    ("POST", "/api/v1/subsidies/lookup"),
    ("POST", "/lookup"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
}


def test_every_route_a_villager_writes_through_leaves_no_trace_in_the_log() -> None:
    """A new public write route that is not under the shared rules fails here."""
    routes = public_write_routes()
    assert routes >= NOT_ANONYMOUS, "NOT_ANONYMOUS names a route that no longer exists"
    unlisted = [path for _, path in routes - NOT_ANONYMOUS if not is_anonymous(path)]
    assert not unlisted, f"add to app.public_writes.ANONYMOUS_PATHS: {unlisted}"
