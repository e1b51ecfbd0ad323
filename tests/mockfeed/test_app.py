import socket
import threading
import time
from collections import Counter

import httpx
import pytest
from fastapi.testclient import TestClient

from app.mockfeed.app import create_mock_feed_app, mock_feed_server
from app.mockfeed.generator import FeedGenerator, MockFeedConfig
from tests.mockfeed.checks import problem

TOKEN = "mock-feed-test-token"
CONFIG = MockFeedConfig(token=TOKEN, persons=350, months=8)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
Record = dict[str, object]


def client_for(config: MockFeedConfig = CONFIG) -> TestClient:
    return TestClient(create_mock_feed_app(config))


@pytest.fixture(scope="module")
def client() -> TestClient:
    return client_for()


@pytest.fixture(scope="module")
def stream() -> list[Record]:
    return list(FeedGenerator(CONFIG).iter_records())


def sync(
    client: TestClient, limit: int, cursor: str = ""
) -> tuple[list[Record], str, Counter[int]]:
    """Page to the end as a client would: retry transient failures, never skip a page."""
    records: list[Record] = []
    failures: Counter[int] = Counter()
    in_a_row = 0
    while True:
        response = client.get(
            "/api/payouts", params={"cursor": cursor, "limit": limit}, headers=AUTH
        )
        if response.status_code in (429, 500, 503):
            failures[response.status_code] += 1
            in_a_row += 1
            assert in_a_row <= 2
            continue
        in_a_row = 0
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        records += body["records"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return records, cursor, failures


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer"},
    ],
)
def test_a_missing_or_wrong_token_is_refused(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/api/payouts", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("limit", ["0", "5001", "-1", "abc", "", "1.5", "10e2", "１０"])
def test_a_limit_out_of_range_or_not_an_integer_is_refused(client: TestClient, limit: str) -> None:
    response = client.get("/api/payouts", params={"limit": limit}, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_limit"


@pytest.mark.parametrize("cursor", ["nonsense", "djE6MDowOjA=", "djI6MDowOjA", "%%%"])
def test_a_malformed_cursor_is_refused(client: TestClient, cursor: str) -> None:
    response = client.get("/api/payouts", params={"cursor": cursor}, headers=AUTH)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_cursor"


def test_the_default_page_has_1000_records(client: TestClient) -> None:
    body = client.get("/api/payouts", headers=AUTH).json()
    assert len(body["records"]) == 1000 and body["has_more"] is True
    assert body["next_cursor"]


@pytest.mark.parametrize(
    ("limit", "config"),
    [(1, MockFeedConfig(token=TOKEN, persons=80, months=6)), (37, CONFIG), (5000, CONFIG)],
)
def test_paging_over_http_yields_each_record_version_the_expected_number_of_times(
    limit: int, config: MockFeedConfig
) -> None:
    stream = list(FeedGenerator(config).iter_records())
    records, _, failures = sync(client_for(config), limit)
    assert not failures
    assert records == stream
    counts = Counter((r["record_id"], r["version"]) for r in records)
    expected = Counter((r["record_id"], r["version"]) for r in stream)
    assert counts == expected
    assert set(counts.values()) == {1, 2}
    assert max(int(str(version)) for _, version in counts) >= 2


def test_two_apps_with_the_same_config_serve_identical_pages() -> None:
    one, two = client_for(), client_for()
    cursor = ""
    for _ in range(4):
        a = one.get("/api/payouts", params={"cursor": cursor, "limit": 200}, headers=AUTH)
        b = two.get("/api/payouts", params={"cursor": cursor, "limit": 200}, headers=AUTH)
        assert a.content == b.content
        cursor = a.json()["next_cursor"]


def test_the_end_cursor_resumes_when_the_mock_has_more_months(stream: list[Record]) -> None:
    client = client_for()
    _, end, _ = sync(client, 5000)
    again = client.get("/api/payouts", params={"cursor": end}, headers=AUTH).json()
    assert again == {"records": [], "next_cursor": end, "has_more": False}

    later = MockFeedConfig(token=TOKEN, persons=350, months=10)
    new, _, _ = sync(client_for(later), 500, cursor=end)
    full = list(FeedGenerator(later).iter_records())
    assert new and new == full[len(stream) :]
    assert {r["period"] for r in new} >= {"2026-07", "2026-08"}


def test_faults_give_malformed_records_and_transient_errors_that_a_retry_gets_past() -> None:
    config = MockFeedConfig(token=TOKEN, persons=350, months=8, fault_rate=0.2)
    # Small pages: enough requests for each kind of failure to occur.
    records, _, failures = sync(client_for(config), 10)
    pages = len(records) // 10 + 1
    assert 0.1 * pages < sum(failures.values()) < 0.4 * pages
    assert failures[503] > failures[429] > 0 and failures[500] > 0
    bad = [r for r in records if problem(r) is not None]
    assert 0.05 * len(records) < len(bad) < 0.3 * len(records)
    clean = list(FeedGenerator(MockFeedConfig(token=TOKEN, persons=350, months=8)).iter_records())
    assert [r for r in records if problem(r) is None] == clean


def test_a_failed_request_succeeds_when_asked_again_soon() -> None:
    client = client_for(MockFeedConfig(token=TOKEN, persons=350, months=8, fault_rate=0.9))
    generator = FeedGenerator(CONFIG)
    cursors = [""]
    for _ in range(9):
        cursors.append(generator.page(cursors[-1], 100).next_cursor)
    tries = []
    for cursor in cursors:
        statuses: list[int] = []
        while not statuses or statuses[-1] != 200:
            response = client.get("/api/payouts", params={"cursor": cursor}, headers=AUTH)
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert response.headers["retry-after"] == "1"
            assert len(statuses) <= 3, statuses
        tries.append(len(statuses))
    assert max(tries) == 3
    # Once answered, the cursor may fail afresh later (say, the next night).
    assert client.get("/api/payouts", params={"cursor": ""}, headers=AUTH).status_code != 200


def test_without_faults_no_request_fails(client: TestClient) -> None:
    assert all(
        client.get("/api/payouts", params={"limit": 1}, headers=AUTH).status_code == 200
        for _ in range(30)
    )


def test_the_server_answers_over_real_http() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = mock_feed_server(CONFIG, host="127.0.0.1", port=port, log_level="warning")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive()
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        response = httpx.get(f"{base}/api/payouts", params={"limit": 5}, headers=AUTH)
        assert response.status_code == 200 and len(response.json()["records"]) == 5
        assert "server" not in response.headers
        assert httpx.get(f"{base}/api/payouts").status_code == 401
    finally:
        server.should_exit = True
        thread.join(10)
    assert not thread.is_alive()
