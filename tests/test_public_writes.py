"""The shared rules of public writes (app.public_writes): codes, device hashes, anonymous routes
and per-client limits, as tips, surveys and 阳光问廉 confirmations use them."""

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import public_writes
from app.config import get_settings
from app.staff.models import Role
from app.surveys.service import RESPONSE_LIMIT
from tests.asserts import assert_problem
from tests.factories import make_staff
from tests.surveys.factories import answers_for, make_survey

SURVEYS = "/api/v1/surveys"


def test_codes_are_16_random_digits_shown_in_groups_of_four() -> None:
    codes = {public_writes.new_code() for _ in range(20)}
    assert len(codes) == 20 and all(len(c) == 16 and c.isdigit() for c in codes)
    assert max(int(c) for c in codes) >= 10**15  # not all of them small numbers
    assert public_writes.grouped("1234567890123456") == "1234 5678 9012 3456"


def test_a_code_hash_depends_on_every_digit_and_on_the_salt() -> None:
    code, salt = "1234567890123456", b"s" * 16
    digest = public_writes.code_hash(code, salt)
    assert len(digest) == 64 and code not in digest
    assert public_writes.code_hash("1234567890123457", salt) != digest  # the last digit counts
    assert public_writes.code_hash(code, b"t" * 16) != digest


def test_one_phone_hashes_differently_in_each_scope_and_never_in_clear() -> None:
    settings = get_settings()
    token = "phone-token-0123456789"
    survey = public_writes.device_hash("survey:1", token, settings=settings)
    assert token not in survey and len(survey) == 64
    assert public_writes.device_hash("survey:1", token, settings=settings) == survey
    assert public_writes.device_hash("survey:2", token, settings=settings) != survey
    assert public_writes.device_hash("inquiry:1", token, settings=settings) != survey
    assert public_writes.device_hash("survey:1", token + "x", settings=settings) != survey


@pytest.mark.parametrize(
    ("path", "anonymous"),
    [
        ("/api/v1/tips", True),
        ("/api/v1/tips/receipt/messages", True),
        ("/api/v1/surveys/7/responses", True),
        ("/api/v1/inquiries/WL-2026-0001/confirmations", True),
        ("/api/v1/villages/511923103204/disclosures/2026-10/objections", True),
        ("/api/v1/villages/511923103204/disclosures/2026-10", False),
        ("/api/v1/surveys/7", False),
        ("/api/v1/surveys/7/results", False),
        ("/api/v1/inquiries/WL-2026-0001", False),
        ("/api/v1/tipsy", False),
        ("/api/v1/admin/tips", False),
        ("/questions/new", True),
        ("/questions/mine", True),
        ("/questions", False),
        ("/questions/12", False),
    ],
)
def test_the_routes_of_public_writes_are_anonymous(path: str, anonymous: bool) -> None:
    assert public_writes.is_anonymous(path) is anonymous


def test_a_survey_response_leaves_no_request_id_and_no_access_line(
    client: TestClient, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    survey = make_survey(session, make_staff(session, role=Role.commission))
    body = {"device_token": "phone-token-0123456789", "answers": answers_for(survey)}
    with caplog.at_level(logging.INFO, logger="app.access"):
        answered = client.post(f"{SURVEYS}/{survey.id}/responses", json=body)
        read = client.get(f"{SURVEYS}/{survey.id}")
    assert answered.status_code == 201, answered.text
    assert "x-request-id" not in answered.headers and "x-request-id" in read.headers
    routes = [getattr(record, "route", None) for record in caplog.records]
    assert routes == ["/api/v1/surveys/{survey_id}"]  # the read only


def test_survey_responses_are_limited_per_client(client: TestClient, session: Session) -> None:
    survey = make_survey(session, make_staff(session, role=Role.commission))
    allowed = int(RESPONSE_LIMIT.split("/")[0])
    for n in range(allowed):
        body = {"device_token": f"phone-token-{n:012d}", "answers": answers_for(survey)}
        assert client.post(f"{SURVEYS}/{survey.id}/responses", json=body).status_code == 201
    body = {"device_token": "phone-token-one-too-many", "answers": answers_for(survey)}
    refused = client.post(f"{SURVEYS}/{survey.id}/responses", json=body)
    assert_problem(refused, 429, "rate_limited")
    assert int(refused.headers["retry-after"]) > 0
