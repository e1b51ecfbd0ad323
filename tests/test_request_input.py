"""What any request may bring in: text without control characters, bounded strict ids, ISO 8601
times, and a body that is not JSON at all answered like any other invalid input."""

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.main import openapi_schema
from app.staff.models import Role
from tests.asserts import assert_problem
from tests.factories import SANGUANZHAI, auth_headers, make_staff

NUL = "a\x00b"
OPENAPI = openapi_schema()
REGION_SCOPED = {"region_code", "township_code"}  # read by require_role(region_param=...)
SAMPLE_PATH_VALUES = {
    r"^\d{12}$": SANGUANZHAI,
    r"^\d{4}-(0[1-9]|1[0-2])$": "2026-10",
    r"^[Ww][Ll]-\d{4}-\d{4,6}$": "WL-2026-0001",
}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return _resolve(OPENAPI["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    variants = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return _resolve(variants[0]) if len(variants) == 1 else schema


def _text_fields(
    schema: dict[str, Any], path: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """The path and schema of every free-text string in a body (lists walked through item 0)."""
    schema = _resolve(schema)
    if schema.get("type") == "string" and "enum" not in schema and "const" not in schema:
        if schema.get("format") not in ("binary", "date", "date-time"):  # not free text
            yield path, schema
    elif schema.get("type") == "array":
        yield from _text_fields(schema["items"], (*path, 0))
    for name, sub in schema.get("properties", {}).items():
        yield from _text_fields(sub, (*path, name))


def _payload(path: tuple[Any, ...], value: str) -> Any:
    if not path:
        return value
    head, *rest = path
    inner = _payload(tuple(rest), value)
    return [inner] if head == 0 else {head: inner}


def _with_nul(schema: dict[str, Any]) -> str:
    """Long enough for the field, so that the NUL is what is refused."""
    return "a\x00" + "b" * max(schema.get("minLength", 0), 1)


def _url(path: str, operation: dict[str, Any]) -> str:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            schema = _resolve(parameter["schema"])
            pattern = schema.get("pattern", "")
            value = "1" if schema.get("type") == "integer" else "abcdefgh"
            value = SAMPLE_PATH_VALUES.get(pattern, value)
            path = path.replace("{" + parameter["name"] + "}", value)
    return path


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in OPENAPI["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _refused_field(response: Any, field: str) -> str:
    """The message a 422 gives for `field` (every other field may be missing)."""
    body = assert_problem(response, 422, "validation_failed")
    messages = [e["message"] for e in body["errors"] if e["field"] == field]
    assert messages, f"{field} not refused: {body['errors']}"
    return messages[0]


@pytest.fixture
def staff_headers(session: Session) -> list[dict[str, str]]:
    """Staff, and a cadre (an account that only takes exams)."""
    return [
        *(
            auth_headers(make_staff(session, role=role))
            for role in (Role.county_admin, Role.commission)
        ),
        auth_headers(make_staff(session, role=Role.cadre, region_code=SANGUANZHAI)),
    ]


def _send(
    client: TestClient, method: str, url: str, headers: list[dict[str, str]], **kwargs: Any
) -> Any:
    """As the first staff member whose role reaches the operation (tips: the commission only)."""
    for header in headers:
        response = client.request(method, url, headers=header, **kwargs)
        if response.status_code not in (403, 404):
            return response
    return response


def test_every_text_field_of_every_body_refuses_control_characters(
    client: TestClient, staff_headers: list[dict[str, str]]
) -> None:
    tried = 0
    for path, method, operation in _operations():
        content = operation.get("requestBody", {}).get("content", {})
        for media_type, body in content.items():
            if media_type == "multipart/form-data":
                continue  # the same model as its application/json variant
            for field, schema in _text_fields(body["schema"]):
                payload = _payload(field, _with_nul(schema))
                send = {"json": payload} if media_type == "application/json" else {"data": payload}
                response = _send(client, method, _url(path, operation), staff_headers, **send)
                name = ".".join(str(p) for p in field)
                message = _refused_field(response, name)
                assert "U+0000" in message or message == "格式不正确", (path, name, message)
                tried += 1
    assert tried > 50  # every operation with a body was walked


def test_every_text_query_and_path_parameter_refuses_control_characters(
    client: TestClient, staff_headers: list[dict[str, str]]
) -> None:
    tried = 0
    for path, method, operation in _operations():
        for parameter in operation.get("parameters", []):
            schema = _resolve(parameter["schema"])
            if parameter["in"] not in ("query", "path") or schema.get("type") != "string":
                continue
            if "enum" in schema:
                continue
            value = _with_nul(schema)
            name = parameter["name"]
            if parameter["in"] == "path":
                url = _url(path.replace("{" + name + "}", quote(value)), operation)
                response = _send(client, method, url, staff_headers)
            else:
                url = _url(path, operation)
                response = _send(client, method, url, staff_headers, params={name: value})
            if response.status_code == 403 and name in REGION_SCOPED:
                continue  # the region check reads the raw parameter: refused before validation
            _refused_field(response, name)
            tried += 1
    assert tried > 10


@pytest.mark.parametrize(
    ("url", "body", "message"),
    [
        ("/api/v1/admin/policies", {"title": "低保\x00"}, "控制字符"),
        ("/api/v1/admin/staff", {"display_name": "袁\x00桂芳"}, "控制字符"),
        ("/api/v1/admin/staff", {"display_name": "袁\x85"}, "控制字符"),  # C1
        ("/api/v1/admin/staff", {"display_name": "\ud800"}, "代理项"),  # a lone surrogate
        ("/api/v1/admin/surveys", {"title": "测评\x07"}, "控制字符"),
    ],
)
def test_staff_text_with_control_characters_is_refused_in_chinese(
    client: TestClient, session: Session, url: str, body: dict[str, Any], message: str
) -> None:
    headers = {**auth_headers(make_staff(session)), "content-type": "application/json"}
    response = client.post(url, content=json.dumps(body), headers=headers)  # \ud800 escaped
    field = next(iter(body))
    assert message in _refused_field(response, field)


def test_an_anonymous_survey_answer_with_nul_is_a_422_not_a_500(
    client: TestClient, session: Session
) -> None:
    from tests.surveys.factories import answers_for, make_survey

    survey = make_survey(session, make_staff(session, role=Role.commission))
    answers = answers_for(survey, text="好\x00")
    body = {"device_token": "phone-0123456789abcdef", "answers": answers}
    response = client.post(f"/api/v1/surveys/{survey.id}/responses", json=body)
    assert "控制字符" in _refused_field(response, f"answers.{len(answers) - 1}.text")


def test_multi_line_text_keeps_line_breaks_and_tabs(client: TestClient) -> None:
    body = {"category": "dibao", "content": "村干部把低保\n给了自己的亲戚。\t\r\n请核查。"}
    assert client.post("/api/v1/tips", json=body).status_code == 201
    body["accused"] = "村主任\n张三"  # a name is one line
    assert "控制字符" in _refused_field(client.post("/api/v1/tips", json=body), "accused")


def test_sign_in_with_a_nul_in_the_form_is_refused(client: TestClient, session: Session) -> None:
    make_staff(session, username="clerk")
    response = client.post(
        "/api/v1/auth/token", data={"username": "clerk\x00", "password": "correct-horse-battery"}
    )
    assert "控制字符" in _refused_field(response, "username")
    response = client.post("/api/v1/auth/token", data={"username": "clerk", "password": NUL})
    assert "控制字符" in _refused_field(response, "password")


# --- ids --------------------------------------------------------------------------------------


@pytest.mark.parametrize("ids", [[2**64], [False], [True], ["5"], [1.0], [0]])
def test_replay_takes_only_real_ids(client: TestClient, session: Session, ids: list[Any]) -> None:
    response = client.post(
        "/api/v1/admin/sync/rejected/replay",
        json={"ids": ids},
        headers=auth_headers(make_staff(session)),
    )
    _refused_field(response, "ids.0")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/admin/policies/99999999999999999999",
        "/api/v1/admin/staff/2147483648",
        "/api/v1/admin/audit?actor_id=99999999999999999999",
        "/api/v1/admin/surveys/1/text-answers?question_id=99999999999999999999",
    ],
)
def test_an_id_past_the_columns_is_a_422(client: TestClient, session: Session, url: str) -> None:
    headers = auth_headers(make_staff(session))
    assert_problem(client.get(url, headers=headers), 422, "validation_failed")


def test_json_ids_and_counts_are_integers_not_booleans(
    client: TestClient, session: Session
) -> None:
    headers = auth_headers(make_staff(session, role=Role.commission))
    response = client.post("/api/v1/admin/tips/1/assign", json={"staff_id": True}, headers=headers)
    _refused_field(response, "staff_id")
    response = client.post(
        "/api/v1/subsidies/lookup", json={"id_number": "1", "name": "徐平", "year": "2026"}
    )
    _refused_field(response, "year")


# --- times ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0.5", "1700000000", "yesterday"])
def test_audit_times_are_iso_8601_only(client: TestClient, session: Session, value: str) -> None:
    headers = auth_headers(make_staff(session))
    response = client.get("/api/v1/admin/audit", params={"until": value}, headers=headers)
    assert "ISO 8601" in _refused_field(response, "until")
    response = client.get(
        "/api/v1/admin/audit", params={"since": "2026-01-01T00:00:00+08:00"}, headers=headers
    )
    assert response.status_code == 200


def test_tip_filter_dates_are_iso_8601_only(client: TestClient, session: Session) -> None:
    headers = auth_headers(make_staff(session, role=Role.commission))
    response = client.get("/api/v1/admin/tips", params={"submitted_from": "0"}, headers=headers)
    _refused_field(response, "submitted_from")


# --- bodies that are not JSON -----------------------------------------------------------------

NOT_JSON = [b"{not json", b"\xff\xfe{\x00", b'{"title": "\xe4"}']


@pytest.mark.parametrize("raw", NOT_JSON)
def test_a_body_that_is_not_json_is_a_422_after_the_sign_in_check(
    client: TestClient, session: Session, raw: bytes
) -> None:
    json_type = {"content-type": "application/json"}
    assert_problem(
        client.post("/api/v1/admin/policies", content=raw, headers=json_type),
        401,
        "authentication_required",
    )
    headers = {**json_type, **auth_headers(make_staff(session))}
    response = client.post("/api/v1/admin/policies", content=raw, headers=headers)
    assert _refused_field(response, "body") == "不是有效的 JSON"
    public = client.post("/api/v1/subsidies/lookup", content=raw, headers=json_type)
    assert _refused_field(public, "body") == "不是有效的 JSON"


DEEP = b"[" * 100_000 + b"]" * 100_000  # past the parser's recursion limit


@pytest.mark.parametrize(
    "url", ["/api/v1/tips", "/api/v1/tips/receipt/messages", "/api/v1/subsidies/lookup"]
)
def test_a_body_nested_too_deep_is_a_422_not_a_500(client: TestClient, url: str) -> None:
    response = client.post(url, content=DEEP, headers={"content-type": "application/json"})
    assert _refused_field(response, "body") == "不是有效的 JSON"


@pytest.mark.parametrize("raw", [b'{"ids": [1]', b"not json", b"[" * 100_000])
def test_a_broken_body_replays_nothing(client: TestClient, session: Session, raw: bytes) -> None:
    """A body whose fields are all optional ({} replays every record) is not taken for `{}`
    when it cannot be read: the outside test's truncated body replayed every record."""
    headers = {"content-type": "application/json", **auth_headers(make_staff(session))}
    response = client.post("/api/v1/admin/sync/rejected/replay", content=raw, headers=headers)
    assert _refused_field(response, "body") == "不是有效的 JSON"


def test_every_operation_with_a_body_documents_its_422_413_and_the_401_first() -> None:
    for path, method, operation in _operations():
        if "requestBody" not in operation:
            continue
        assert "422" in operation["responses"], f"{method} {path}"
        too_large = operation["responses"]["413"]["content"]["application/problem+json"]
        assert too_large["schema"]["$ref"].endswith("/Problem"), f"{method} {path}"
        if operation.get("security"):
            assert "401" in operation["responses"], f"{method} {path}"


# --- methods ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "allow"),
    [
        ("OPTIONS", "/api/v1/admin/policies", "GET, POST"),
        ("DELETE", "/api/v1/admin/policies/1", "GET, PATCH"),
        ("OPTIONS", "/api/v1/admin/surveys/1", "GET, PUT"),
        ("OPTIONS", "/healthz", "GET, HEAD"),
    ],
)
def test_an_unsupported_method_names_every_method_of_the_path(
    client: TestClient, method: str, url: str, allow: str
) -> None:
    response = client.request(method, url)
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow
