"""The server's log of a villager asking, following and rating holds no address, user agent,
request id or code; a copy of the database holds no code."""

import json
from pathlib import Path

import httpx

from tests.serving import log_once_logged
from tests.test_serve import server  # noqa: F401 (a fixture)

AGENT = "VillagePhone/8.1 (Redmi 10A; AskerAgentString)"
QUESTION = {
    "kind": "complaint",
    "village_code": "511923103204",
    "title": "低保评议从不开会",
    "body": "PLAIN-QUESTION-我们村的低保评议从来不开会，名单也不公示。-4e1f",
}


def test_the_server_log_of_a_question_round_trip_identifies_no_one(
    server: tuple[str, Path],  # noqa: F811
) -> None:
    base, log_path = server
    headers = {"User-Agent": AGENT}
    asked = httpx.post(f"{base}/api/v1/questions", json=QUESTION, headers=headers)
    assert asked.status_code == 201, asked.text
    assert "x-request-id" not in asked.headers
    code = asked.json()["code"]
    for form in (code, code.replace(" ", "")):
        status = httpx.post(f"{base}/api/v1/questions/status", json={"code": form}, headers=headers)
        assert status.status_code == 200 and "x-request-id" not in status.headers
    rating = httpx.post(
        f"{base}/api/v1/questions/rating", json={"code": code, "score": 5}, headers=headers
    )
    assert rating.status_code == 422 and "request_id" not in rating.json()
    wrong = httpx.post(f"{base}/api/v1/questions/status", json={"code": "0" * 16}, headers=headers)
    assert wrong.status_code == 404 and "request_id" not in wrong.json()
    bad = httpx.post(f"{base}/api/v1/questions", json={**QUESTION, "body": "短"}, headers=headers)
    assert bad.status_code == 422 and "x-request-id" not in bad.headers
    assert httpx.get(f"{base}/api/v1/questions/stats").status_code == 200

    text = "\n".join(
        line
        for line in log_once_logged(base, log_path).splitlines()
        if "Uvicorn running on" not in line
    )
    for secret in ("127.0.0.1", AGENT, "AskerAgentString", code, code.replace(" ", "")):
        assert secret not in text, secret
    assert QUESTION["body"] not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    asker_routes = {"/api/v1/questions", "/api/v1/questions/status", "/api/v1/questions/rating"}
    assert not [line for line in lines if line.get("route") in asker_routes]
    assert any(line.get("route") == "/api/v1/questions/stats" for line in lines)
    metrics = httpx.get(f"{base}/metrics").text
    assert "/api/v1/questions/status" not in metrics and "/api/v1/questions/rating" not in metrics
