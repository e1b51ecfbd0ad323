import base64
import json
import time
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jose import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.config import get_settings
from app.staff.models import Role
from tests.asserts import assert_problem
from tests.factories import (
    COUNTY,
    DEFAULT_PASSWORD,
    FOLOU,
    HUANGLIU,
    SANGUANZHAI,
    XIXING,
    auth_headers,
    make_staff,
)

TOKEN_URL = "/api/v1/auth/token"


def b64url(data: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def login(client: TestClient, username: str, password: str = DEFAULT_PASSWORD) -> dict[str, object]:
    response = client.post(TOKEN_URL, data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


# --- sign-in ---------------------------------------------------------------------------------


def test_login_issues_short_lived_jwt_with_role_and_region(
    client: TestClient, session: Session
) -> None:
    staff = make_staff(session, role=Role.village_clerk, region_code=SANGUANZHAI)
    tokens = login(client, staff.username)

    assert tokens["token_type"] == "bearer"
    assert isinstance(tokens["expires_in"], int) and tokens["expires_in"] <= 1800
    header = jwt.get_unverified_header(str(tokens["access_token"]))
    assert header["alg"] == "HS256"
    claims = jwt.decode(
        str(tokens["access_token"]),
        get_settings().secret("secret_key"),
        algorithms=["HS256"],
        audience="lianyun-staff",
    )
    assert claims["sub"] == str(staff.id)
    assert claims["role"] == "village_clerk"
    assert claims["region"] == SANGUANZHAI
    assert claims["exp"] - datetime.now(UTC).timestamp() <= 30 * 60

    me = client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["username"] == staff.username
    assert "password_hash" not in me.json()


def test_wrong_password_and_unknown_user_get_the_same_answer(
    client: TestClient, session: Session
) -> None:
    staff = make_staff(session)
    wrong = client.post(TOKEN_URL, data={"username": staff.username, "password": "not-the-one-1"})
    unknown = client.post(TOKEN_URL, data={"username": "nobody", "password": "not-the-one-1"})
    first = assert_problem(wrong, 401, "invalid_credentials")
    second = assert_problem(unknown, 401, "invalid_credentials")
    assert first["detail"] == second["detail"]
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_disabled_account_cannot_sign_in(client: TestClient, session: Session) -> None:
    staff = make_staff(session, is_active=False)
    response = client.post(
        TOKEN_URL, data={"username": staff.username, "password": DEFAULT_PASSWORD}
    )
    assert_problem(response, 401, "invalid_credentials")


def test_bad_login_body_is_a_chinese_validation_problem(client: TestClient) -> None:
    response = client.post(TOKEN_URL, data={"username": "admin"})
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [{"field": "password", "message": "此项必填"}]
    assert "password" in str(body["detail"]) and "此项必填" in str(body["detail"])


def client_at(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, client=(address, 50000), raise_server_exceptions=False)


def sign_in(client: TestClient, username: str, password: str) -> httpx.Response:
    return client.post(TOKEN_URL, data={"username": username, "password": password})


def assert_limited(response: httpx.Response) -> None:
    body = assert_problem(response, 429, "rate_limited")
    assert 0 < int(response.headers["retry-after"]) <= 60
    assert body["retry_after"] == int(response.headers["retry-after"])


def test_five_failures_of_an_account_from_one_client_are_answered_then_refused(
    app: FastAPI, session: Session
) -> None:
    staff = make_staff(session)
    attacker = client_at(app, "198.51.100.66")
    answers = [sign_in(attacker, staff.username, "wrong-password") for _ in range(5)]
    assert [answer.status_code for answer in answers] == [401] * 5
    assert_limited(sign_in(attacker, staff.username, DEFAULT_PASSWORD))
    # another account from the same client is not locked by this one's failures
    other = make_staff(session)
    assert sign_in(attacker, other.username, DEFAULT_PASSWORD).status_code == 200


def test_a_success_forgets_the_failures_of_that_account_from_that_client(
    app: FastAPI, session: Session
) -> None:
    staff = make_staff(session)
    owner = client_at(app, "198.51.100.8")
    statuses = [sign_in(owner, staff.username, "mistyped").status_code for _ in range(4)]
    statuses.append(sign_in(owner, staff.username, DEFAULT_PASSWORD).status_code)
    statuses += [sign_in(owner, staff.username, "mistyped").status_code for _ in range(6)]
    assert statuses == [401] * 4 + [200] + [401] * 5 + [429]


def test_failures_from_another_client_do_not_lock_the_owner_out(
    app: FastAPI, session: Session
) -> None:
    staff = make_staff(session)
    attacker = client_at(app, "198.51.100.66")
    statuses = [sign_in(attacker, staff.username, "wrong-password").status_code for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    owner = client_at(app, "198.51.100.7")
    assert sign_in(owner, staff.username, DEFAULT_PASSWORD).status_code == 200


def test_fifty_failures_of_an_account_from_all_clients_stop_it_for_everyone(
    app: FastAPI, session: Session
) -> None:
    staff = make_staff(session)
    statuses = []
    for i in range(10):  # ten addresses, five failures each: the per-client limit is not met
        attacker = client_at(app, f"198.51.100.{i}")
        statuses += [sign_in(attacker, staff.username, "wrong").status_code for _ in range(5)]
    assert statuses == [401] * 50
    owner = client_at(app, "198.51.100.200")
    assert_limited(sign_in(owner, staff.username, DEFAULT_PASSWORD))
    other = make_staff(session)  # only that account is stopped
    assert sign_in(owner, other.username, DEFAULT_PASSWORD).status_code == 200


def test_twenty_sign_ins_from_one_client_are_answered_then_refused(
    client: TestClient, session: Session
) -> None:
    staff = make_staff(session)
    answers = [sign_in(client, f"guess{i}", "wrong-password") for i in range(19)]
    answers.append(sign_in(client, staff.username, DEFAULT_PASSWORD))  # a success counts too
    assert [answer.status_code for answer in answers] == [401] * 19 + [200]
    assert_limited(sign_in(client, "guess-new", "wrong-password"))


def test_missing_or_forged_tokens_are_refused(client: TestClient, session: Session) -> None:
    staff = make_staff(session)
    assert_problem(client.get("/api/v1/auth/me"), 401, "authentication_required")
    forged = jwt.encode({"sub": str(staff.id), "type": "access", "exp": 9999999999}, "x" * 40)
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert_problem(response, 401, "token_invalid")
    none_alg = ".".join(
        [
            b64url({"alg": "none", "typ": "JWT"}),
            b64url({"sub": str(staff.id), "type": "access"}),
            "",
        ]
    )
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {none_alg}"})
    assert_problem(response, 401, "token_invalid")


def signed_claims(staff_id: int, **changes: object) -> dict[str, object]:
    """The claims of a valid access token, signed with the real key, with `changes` applied
    (a value of None removes the claim)."""
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(staff_id),
        "type": "access",
        "aud": "lianyun-staff",
        "iat": now,
        "exp": now + 600,
        "role": "county_admin",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def get_me(client: TestClient, claims: dict[str, object]) -> httpx.Response:
    token = jwt.encode(claims, get_settings().secret("secret_key"), algorithm="HS256")
    return client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def test_a_token_with_every_claim_is_accepted(client: TestClient, session: Session) -> None:
    staff = make_staff(session)
    response = get_me(client, signed_claims(staff.id))
    assert response.status_code == 200, response.text


def test_a_token_without_exp_or_aud_is_refused(client: TestClient, session: Session) -> None:
    """The outside test's token: signed with the real key, it would never expire."""
    staff = make_staff(session)
    response = get_me(client, {"sub": str(staff.id), "type": "access", "iat": int(time.time())})
    assert_problem(response, 401, "token_invalid")


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": None},
        {"iat": None},
        {"aud": None},
        {"type": None},
        {"sub": None},
        {"aud": "another-service"},
        {"type": "refresh"},
    ],
    ids=["no-exp", "no-iat", "no-aud", "no-type", "no-sub", "other-aud", "other-type"],
)
def test_a_token_missing_a_required_claim_is_refused(
    client: TestClient, session: Session, changes: dict[str, object]
) -> None:
    staff = make_staff(session)
    response = get_me(client, signed_claims(staff.id, **changes))
    assert_problem(response, 401, "token_invalid")


@pytest.mark.parametrize(
    "changes",
    [
        {"sub": str(2**64)},
        {"sub": str(2**31)},
        {"sub": "0"},
        {"sub": "-1"},
        {"sub": "١"},
        {"sub": 7},
        {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 3900},
        {"exp": 10**20},
        {"exp": int(time.time()) + 31 * 60},
    ],
    ids=[
        "sub-past-64-bits",
        "sub-past-the-ids",
        "sub-zero",
        "sub-negative",
        "sub-other-digits",
        "sub-a-number",
        "issued-in-an-hour",
        "never-expires",
        "longer-than-the-setting",
    ],
)
def test_a_forged_token_s_odd_claims_are_refused_not_a_500(
    client: TestClient, session: Session, changes: dict[str, object]
) -> None:
    """Tokens only a holder of the key could sign, yet not any the app issues: a subject that
    names no staff row (the outside test's 2**64 gave a 500), a token issued in the future or
    living longer than LIANYUN_ACCESS_TOKEN_MINUTES (15) allows."""
    staff = make_staff(session)
    response = get_me(client, signed_claims(staff.id, **changes))
    assert_problem(response, 401, "token_invalid")


def test_refresh_rotates_and_a_reused_token_ends_the_session(
    client: TestClient, session: Session
) -> None:
    staff = make_staff(session)
    first = login(client, staff.username)
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]

    reused = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert_problem(reused, 401, "token_invalid")
    # the reuse revoked the whole family, the newest token included
    newest = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second.json()["refresh_token"]}
    )
    assert_problem(newest, 401, "token_invalid")


def test_logout_revokes_the_refresh_token(client: TestClient, session: Session) -> None:
    staff = make_staff(session)
    tokens = login(client, staff.username)
    assert (
        client.post(
            "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}
        ).status_code
        == 204
    )
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(response, 401, "token_invalid")


# --- staff administration --------------------------------------------------------------------


def test_county_admin_creates_staff_and_the_write_is_audited(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session)
    response = client.post(
        "/api/v1/admin/staff",
        headers=auth_headers(admin),
        json={
            "username": "yuan.guifang",
            "display_name": "袁桂芳",
            "password": "a-long-password-1",
            "role": "village_clerk",
            "region_code": SANGUANZHAI,
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["region_code"] == SANGUANZHAI and created["is_active"] is True
    assert "password" not in response.text

    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "staff.create")).one()
    assert entry.actor_id == admin.id
    assert entry.entity_id == str(created["id"])
    assert entry.after is not None and entry.after["username"] == "yuan.guifang"
    assert "password_hash" not in str(entry.after) and "a-long-password-1" not in str(entry.after)

    login(client, "yuan.guifang", "a-long-password-1")


def test_duplicate_username_is_a_conflict(client: TestClient, session: Session) -> None:
    admin = make_staff(session)
    body = {
        "username": admin.username,
        "display_name": "重复",
        "password": "a-long-password-1",
        "role": "editor",
    }
    response = client.post("/api/v1/admin/staff", headers=auth_headers(admin), json=body)
    assert_problem(response, 409, "conflict")


@pytest.mark.parametrize(
    ("role", "region_code"),
    [("village_clerk", FOLOU), ("township_officer", SANGUANZHAI), ("village_clerk", None)],
)
def test_region_must_fit_the_role(
    client: TestClient, session: Session, role: str, region_code: str | None
) -> None:
    admin = make_staff(session)
    body = {
        "username": "newbie",
        "display_name": "新人",
        "password": "a-long-password-1",
        "role": role,
        "region_code": region_code,
    }
    response = client.post("/api/v1/admin/staff", headers=auth_headers(admin), json=body)
    assert_problem(response, 422, "region_role_mismatch")


def test_only_county_admin_creates_staff(client: TestClient, session: Session) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    body = {
        "username": "newbie",
        "display_name": "新人",
        "password": "a-long-password-1",
        "role": "village_clerk",
        "region_code": SANGUANZHAI,
    }
    response = client.post("/api/v1/admin/staff", headers=auth_headers(officer), json=body)
    assert_problem(response, 403, "forbidden")


def test_village_clerk_sees_only_own_village(client: TestClient, session: Session) -> None:
    clerk = make_staff(session, role=Role.village_clerk, region_code=SANGUANZHAI)
    neighbour = make_staff(session, role=Role.village_clerk, region_code=HUANGLIU)
    make_staff(session, role=Role.township_officer, region_code=FOLOU)
    headers = auth_headers(clerk)

    listed = client.get("/api/v1/admin/staff", headers=headers)
    assert listed.status_code == 200
    assert {s["region_code"] for s in listed.json()["items"]} == {SANGUANZHAI}

    assert_problem(
        client.get(f"/api/v1/admin/staff/{neighbour.id}", headers=headers), 403, "forbidden"
    )
    assert_problem(
        client.get("/api/v1/admin/staff", params={"region_code": HUANGLIU}, headers=headers),
        403,
        "forbidden",
    )
    assert_problem(client.get("/api/v1/admin/audit", headers=headers), 403, "forbidden")


def test_township_officer_sees_its_villages_not_others(
    client: TestClient, session: Session
) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    inside = make_staff(session, role=Role.village_clerk, region_code=SANGUANZHAI)
    outside = make_staff(session, role=Role.township_officer, region_code=XIXING)
    headers = auth_headers(officer)
    ids = {s["id"] for s in client.get("/api/v1/admin/staff", headers=headers).json()["items"]}
    assert inside.id in ids and officer.id in ids and outside.id not in ids
    assert client.get(f"/api/v1/admin/staff/{inside.id}", headers=headers).status_code == 200


def test_disabling_ends_access_at_once(client: TestClient, session: Session) -> None:
    admin = make_staff(session)
    target = make_staff(session, role=Role.editor)
    tokens = login(client, target.username)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 200

    response = client.patch(
        f"/api/v1/admin/staff/{target.id}", headers=auth_headers(admin), json={"is_active": False}
    )
    assert response.status_code == 200 and response.json()["is_active"] is False

    assert_problem(client.get("/api/v1/auth/me", headers=bearer), 401, "token_invalid")
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(refreshed, 401, "token_invalid")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "staff.update")).one()
    assert entry.before is not None and entry.before["is_active"] is True
    assert entry.after is not None and entry.after["is_active"] is False


def test_re_role_takes_effect_on_the_next_request(client: TestClient, session: Session) -> None:
    admin = make_staff(session)
    target = make_staff(session, role=Role.county_admin)
    target_headers = auth_headers(target)
    assert client.get("/api/v1/admin/audit", headers=target_headers).status_code == 200

    response = client.patch(
        f"/api/v1/admin/staff/{target.id}",
        headers=auth_headers(admin),
        json={"role": "township_officer", "region_code": FOLOU},
    )
    assert response.status_code == 200, response.text
    assert response.json()["region_code"] == FOLOU
    assert_problem(client.get("/api/v1/admin/audit", headers=target_headers), 403, "forbidden")


def test_admin_cannot_disable_self(client: TestClient, session: Session) -> None:
    admin = make_staff(session)
    response = client.patch(
        f"/api/v1/admin/staff/{admin.id}", headers=auth_headers(admin), json={"is_active": False}
    )
    assert_problem(response, 422, "invalid_state")


def test_password_reset_ends_sessions_and_is_audited_without_the_password(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session)
    target = make_staff(session, role=Role.editor)
    tokens = login(client, target.username)
    response = client.patch(
        f"/api/v1/admin/staff/{target.id}",
        headers=auth_headers(admin),
        json={"password": "brand-new-password-2"},
    )
    assert response.status_code == 200
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert_problem(refreshed, 401, "token_invalid")
    login(client, target.username, "brand-new-password-2")
    entries = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(target.id)))
    assert all("brand-new-password-2" not in str(e.after) for e in entries)


def test_unknown_staff_is_404(client: TestClient, session: Session) -> None:
    admin = make_staff(session, region_code=COUNTY)
    assert_problem(
        client.get("/api/v1/admin/staff/999999", headers=auth_headers(admin)), 404, "not_found"
    )


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "1234567890", "abababababab"])
def test_trivial_passwords_are_refused(client: TestClient, session: Session, password: str) -> None:
    admin = make_staff(session)
    body = {"username": "weak1", "display_name": "弱", "password": password, "role": "editor"}
    response = client.post("/api/v1/admin/staff", headers=auth_headers(admin), json=body)
    problem = assert_problem(response, 422, "validation_failed")
    assert "密码太简单" in problem["detail"]


def test_a_password_reset_kills_access_tokens_too(client: TestClient, session: Session) -> None:
    admin = make_staff(session)
    target = make_staff(session, role=Role.editor)
    tokens = login(client, target.username)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    client.patch(
        f"/api/v1/admin/staff/{target.id}",
        headers=auth_headers(admin),
        json={"password": "brand-new-password-2"},
    )
    time.sleep(1.05)  # tokens carry whole seconds
    assert_problem(client.get("/api/v1/auth/me", headers=bearer), 401, "token_invalid")
    fresh = login(client, target.username, "brand-new-password-2")
    assert (
        client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh['access_token']}"}
        ).status_code
        == 200
    )


def test_token_responses_are_not_cached(client: TestClient, session: Session) -> None:
    staff = make_staff(session)
    response = client.post(
        TOKEN_URL, data={"username": staff.username, "password": DEFAULT_PASSWORD}
    )
    assert response.headers["cache-control"] == "no-store"


def test_a_county_role_created_without_a_region_holds_the_county(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session)
    body = {
        "username": "editor-wang",
        "display_name": "王编辑",
        "password": "a-long-password-1",
        "role": "editor",
    }
    response = client.post("/api/v1/admin/staff", headers=auth_headers(admin), json=body)
    assert response.status_code == 201, response.text
    assert response.json()["region_code"] == COUNTY


def test_the_staff_list_filters_by_role_and_state_in_the_order_made(
    client: TestClient, session: Session
) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    clerks = [
        make_staff(session, role=Role.village_clerk, region_code=SANGUANZHAI) for _ in range(3)
    ]
    retired = make_staff(session, role=Role.village_clerk, region_code=SANGUANZHAI, is_active=False)
    headers = auth_headers(officer)

    def listed(**params: object) -> list[int]:
        response = client.get("/api/v1/admin/staff", headers=headers, params=params)
        assert response.status_code == 200
        return [s["id"] for s in response.json()["items"]]

    assert listed() == [officer.id, *(c.id for c in clerks), retired.id]
    assert listed(role="village_clerk") == [*(c.id for c in clerks), retired.id]
    assert listed(is_active="false") == [retired.id]
    assert listed(role="village_clerk", is_active="true") == [c.id for c in clerks]


def test_a_region_that_does_not_fit_is_explained(client: TestClient, session: Session) -> None:
    headers = auth_headers(make_staff(session))
    body = {"username": "newbie", "display_name": "新人", "password": "a-long-password-1"}

    def refused(role: str, region_code: str | None, status: int, code: str) -> str:
        data = {**body, "role": role, "region_code": region_code}
        response = client.post("/api/v1/admin/staff", headers=headers, json=data)
        return str(assert_problem(response, status, code)["detail"])

    unfit = "region_role_mismatch"
    assert (
        refused("village_clerk", None, 422, unfit) == "角色 village_clerk 需要指定所辖村（社区）。"
    )
    assert (
        refused("village_clerk", FOLOU, 422, unfit)
        == "角色 village_clerk 的所辖地区应是村（社区）。"
    )
    assert refused("village_clerk", "511923999999", 404, "not_found") == (
        "没有编码为 511923999999 的地区"
    )
    missing = assert_problem(
        client.get("/api/v1/admin/staff/999999", headers=headers), 404, "not_found"
    )
    assert missing["detail"] == "没有这个工作人员"
