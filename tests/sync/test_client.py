import gc

import httpx
import pytest

from app.sync.client import FeedClient, FeedRejected, FeedUnavailable
from tests.sync.feed_server import TOKEN, TinyFeed, serving

PAGE = {"records": [{"record_id": "a"}], "next_cursor": "c1", "has_more": False}


def client_with(
    responses: list[object], attempts: int = 4
) -> tuple[FeedClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, httpx.Response)
        # As a real transport gives it: a stream not read yet (the client reads it raw).
        return httpx.Response(
            answer.status_code, headers=answer.headers, content=iter([answer.content])
        )

    client = FeedClient(
        "http://feed.test",
        "tok",
        max_attempts=attempts,
        backoff_initial=0.001,
        backoff_max=0.01,
        transport=httpx.MockTransport(handler),
    )
    return client, seen


def test_transient_failures_are_retried_until_the_page_arrives() -> None:
    client, seen = client_with(
        [
            httpx.Response(503),
            httpx.Response(429, headers={"retry-after": "0"}),
            httpx.ConnectError("dropped"),
            httpx.ReadTimeout("slow"),
            httpx.Response(200, content=b'{"records": [trunc'),
            httpx.Response(200, json=PAGE),
        ],
        attempts=6,
    )
    page = client.fetch_page("c0", 500)
    assert page.records == PAGE["records"] and page.next_cursor == "c1" and not page.has_more
    assert len(seen) == 6
    assert all(r.url.params["cursor"] == "c0" and r.url.params["limit"] == "500" for r in seen)
    assert seen[0].headers["authorization"] == "Bearer tok"


def test_a_failure_that_lasts_ends_after_a_bounded_number_of_tries() -> None:
    client, seen = client_with([httpx.Response(502)] * 4, attempts=4)
    with pytest.raises(FeedUnavailable, match="连续 4 次"):
        client.fetch_page(None, 10)
    assert len(seen) == 4
    assert "cursor" not in seen[0].url.params


@pytest.mark.parametrize(("status", "text"), [(401, "令牌"), (400, "HTTP 400")])
def test_refusals_are_not_retried(status: int, text: str) -> None:
    client, seen = client_with([httpx.Response(status), httpx.Response(200, json=PAGE)])
    with pytest.raises(FeedRejected, match=text):
        client.fetch_page("x", 10)
    assert len(seen) == 1


def test_json_the_fast_parser_refuses_is_still_read_so_its_record_can_be_quarantined() -> None:
    """A lone surrogate escape and an integer past 64 bits are well-formed JSON text: the page
    arrives whole, and the checker quarantines just those records."""
    body = (
        b'{"records": [{"name": "\\ud800"}, {"version": 18446744073709551616}, {"ok": 1}],'
        b' "next_cursor": "c1", "has_more": true}'
    )
    client, _ = client_with([httpx.Response(200, content=body)])
    page = client.fetch_page(None, 10)
    assert page.records == [{"name": "\ud800"}, {"version": 2**64}, {"ok": 1}]
    assert page.has_more and page.next_cursor == "c1"


def test_a_page_fetched_is_freed_at_once_not_left_to_the_garbage_collector() -> None:
    # A page's body is a few MB: left to the cyclic collector, bodies piled up in the sync's
    # child by the dozen (httpx ties a response and its stream in a reference cycle).
    feed = TinyFeed([{"record_id": f"r{i}", "name": "张三" * 40} for i in range(300)])
    with serving(feed) as url, FeedClient(url, TOKEN) as client:
        client.fetch_page(None, 10)  # connections and pools set up before counting
        gc.collect()
        gc.disable()
        try:
            pages = [client.fetch_page(str(i * 50), 50) for i in range(6)]
            left = [o for o in gc.get_objects() if isinstance(o, httpx.Response)]
        finally:
            gc.enable()
    assert [len(page.records) for page in pages] == [50] * 6
    assert left == []
