import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import ratelimit
from app.config import get_settings
from app.errors import RateLimited
from tests.factories import DEFAULT_PASSWORD, SANGUANZHAI, make_staff
from tests.private_servers import PrivateRedis

BACKENDS = ["memory"] + (["redis"] if os.environ.get("LIANYUN_TEST_REDIS_URL") else [])


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "redis":
        monkeypatch.setenv("LIANYUN_REDIS_URL", os.environ["LIANYUN_TEST_REDIS_URL"])
    get_settings.cache_clear()
    yield request.param
    get_settings.cache_clear()


def test_the_limit_is_counted_per_key_and_answers_retry_after(backend: str) -> None:
    key = uuid.uuid4().hex
    for _ in range(3):
        ratelimit.hit("3/minute", "test", key)
    with pytest.raises(RateLimited) as info:
        ratelimit.hit("3/minute", "test", key)
    assert 0 < int(info.value.headers["Retry-After"]) <= 60
    ratelimit.hit("3/minute", "test", uuid.uuid4().hex)  # another key is not affected


@pytest.fixture
def private_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateRedis]:
    """The app's rate limits in a Redis of this test's own."""
    server = PrivateRedis(tmp_path)
    server.start()
    monkeypatch.setenv("LIANYUN_REDIS_URL", server.url)
    get_settings.cache_clear()
    yield server
    get_settings.cache_clear()
    server.stop()


def test_redis_keys_hold_no_address_and_no_username(
    private_redis: PrivateRedis, app: FastAPI, session: Session
) -> None:
    address = "203.0.113.77"
    staff = make_staff(session, username="wangjianguo")
    client = TestClient(app, client=(address, 50000), raise_server_exceptions=False)
    token_url = "/api/v1/auth/token"
    assert (
        client.post(
            token_url, data={"username": staff.username, "password": "wrong-password"}
        ).status_code
        == 401
    )
    assert (
        client.post(
            token_url, data={"username": staff.username, "password": DEFAULT_PASSWORD}
        ).status_code
        == 200
    )
    lookup = {"id_number": "511923195203220271", "name": "徐平"}
    assert client.post("/api/v1/subsidies/lookup", json=lookup).status_code == 404
    tip = {
        "category": "dibao",
        "village_code": SANGUANZHAI,
        "content": "村干部把低保给了自己的亲戚。",
    }
    assert client.post("/api/v1/tips", json=tip).status_code == 201
    assert client.post("/api/v1/tips/receipt", json={"receipt_code": "0" * 16}).status_code == 404

    keys = [key.decode() for key in private_redis.client().keys("*")]
    # per client: sign-in, lookup, tips, receipts; per account and client; per account
    assert len(keys) == 6, keys
    for key in keys:
        for private in (address, address.replace(".", ""), staff.username):
            assert private not in key
