"""A copy of the database and of the attachment store reveals nothing of a tip; the server's
log of a tip round-trip holds no address, user agent, request id or receipt code."""

import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app import logs
from app.main import create_app
from tests.privacy import database_dump
from tests.serving import log_once_logged
from tests.test_serve import server  # noqa: F401 (a fixture)
from tests.tips import files

CONTENT = "PLAINTEXT-CONTENT-举报村主任冒领低保-7c1e"
ACCUSED = "PLAINTEXT-ACCUSED-王大富"
CONTACT = "PLAINTEXT-CONTACT-13800001111"
FOLLOW_UP = "PLAINTEXT-FOLLOWUP-又扣了一个月"
AGENT = "VillagePhone/7.3 (Redmi 9A; SecretAgentString)"
TIP = {
    "category": "dibao",
    "village_code": "511923103204",
    "accused": ACCUSED,
    "content": CONTENT,
    "contact": CONTACT,
    "amount_involved": "4321.98",
}


def test_a_database_copy_holds_no_plaintext(committed_db: str) -> None:
    app = create_app(configure_logs=False, schedule_jobs=False)
    with TestClient(app) as client:
        response = client.post(
            "/api/v1/tips",
            data=TIP,
            files=[("attachments", ("p.jpg", files.jpeg_with_gps(), "image/jpeg"))],
            headers={"User-Agent": AGENT},
        )
        assert response.status_code == 201, response.text
        code = response.json()["receipt_code"]
        follow = client.post(
            "/api/v1/tips/receipt/messages",
            data={"receipt_code": code, "body": FOLLOW_UP},
            files=[("attachments", ("d.pdf", files.pdf_with_author(), "application/pdf"))],
        )
        assert follow.status_code == 201, follow.text
    dump = database_dump(committed_db)
    amounts = ("4321.98", "432198")
    secrets = (CONTENT, ACCUSED, CONTACT, FOLLOW_UP, code, code.replace(" ", ""), AGENT, *amounts)
    for secret in secrets:
        assert secret.encode() not in dump, secret
    for secret in (b"SpyPhoneMaker", files.AUTHOR.encode(), b"testclient"):
        assert secret not in dump
    assert b"testclient" not in dump and b"SecretAgentString" not in dump


def test_the_server_log_of_a_tip_round_trip_identifies_no_one(
    server: tuple[str, Path],  # noqa: F811
) -> None:
    base, log_path = server
    headers = {"User-Agent": AGENT}
    created = httpx.post(f"{base}/api/v1/tips", json=TIP, headers=headers)
    assert created.status_code == 201, created.text
    assert "x-request-id" not in created.headers
    code = created.json()["receipt_code"]
    for form in (code, code.replace(" ", "")):
        status = httpx.post(
            f"{base}/api/v1/tips/receipt", json={"receipt_code": form}, headers=headers
        )
        assert status.status_code == 200 and "x-request-id" not in status.headers
    message = httpx.post(
        f"{base}/api/v1/tips/receipt/messages",
        data={"receipt_code": code, "body": FOLLOW_UP},
        files=[("attachments", ("p.png", files.png(), "image/png"))],
        headers=headers,
    )
    assert message.status_code == 201, message.text
    wrong = httpx.post(
        f"{base}/api/v1/tips/receipt", json={"receipt_code": "0" * 16}, headers=headers
    )
    assert wrong.status_code == 404 and "request_id" not in wrong.json()
    bad = httpx.post(f"{base}/api/v1/tips", json={**TIP, "content": "短"}, headers=headers)
    assert bad.status_code == 422 and "request_id" not in bad.json()
    assert "x-request-id" not in bad.headers

    # The one line naming an address is the server's own (where it listens), before any request.
    text = "\n".join(
        line
        for line in log_once_logged(base, log_path).splitlines()
        if "Uvicorn running on" not in line
    )
    for secret in ("127.0.0.1", AGENT, "SecretAgentString", code, code.replace(" ", "")):
        assert secret not in text, secret
    for secret in (CONTENT, ACCUSED, CONTACT, FOLLOW_UP):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    # A tip request leaves no line at all (even a line's time would date it), while other
    # requests of the same server are logged as usual.
    assert not [line for line in lines if str(line.get("route", "")).startswith("/api/v1/tips")]
    assert any(line.get("route") == "/readyz" for line in lines)
    metrics = httpx.get(f"{base}/metrics").text
    assert "/api/v1/tips" not in metrics and "_created" not in metrics


@pytest.fixture
def app_log() -> Iterator[io.StringIO]:
    """What the app's configured log handler (its filter included) would write."""
    with pytest.MonkeyPatch.context() as later:  # the counts of earlier tests, written away
        later.setattr(logs, "_hour", lambda: 10**9)
        logs.anonymous_trouble.write_closed_hours()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.WARNING)  # not the test client's own request lines
    handler.addFilter(logs.RequestIdFilter())
    second = logging.StreamHandler(io.StringIO())  # a second handler, as a served app may have
    second.addFilter(logs.RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.addHandler(second)
    level = root.level
    root.setLevel(logging.INFO)
    yield stream
    root.setLevel(level)
    root.removeHandler(handler)
    root.removeHandler(second)


def test_a_failing_tip_writes_no_line_then_only_an_hourly_count(
    app: FastAPI, app_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    class TipTrouble(RuntimeError):  # a name of its own: no other test's error is counted
        pass

    @app.post("/api/v1/tips/broken")
    def broken() -> None:
        raise TipTrouble(CONTENT)

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/api/v1/tips/broken").status_code == 500
        assert app_log.getvalue() == ""  # nothing at the moment of the tip
        client.get("/healthz")
        assert "anonymous routes" not in app_log.getvalue()  # not before the hour is over

        this_hour = logs._hour()
        monkeypatch.setattr(logs, "_hour", lambda: this_hour + 1)
        client.get("/healthz")
    summary = [line for line in app_log.getvalue().splitlines() if "TipTrouble" in line]
    assert summary == [
        "anonymous routes: unhandled exception: TipTrouble, 1 times in the hour from "
        + time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(this_hour * 3600))
    ]
    assert CONTENT not in app_log.getvalue() and "/api/v1/tips" not in app_log.getvalue()
