"""A second, minimal FEED.md server (not our mock), served over real HTTP on 127.0.0.1, so that
the sync client is proven against more than one implementation."""

import json
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from app.servers import serving_in_thread as serving

__all__ = ["TOKEN", "Answer", "TinyFeed", "send_json", "serving"]

TOKEN = "tiny-feed-token"
# Answers a request in place of the page: called with ASGI's `receive` and `send`.
Answer = Callable[[Any, Any], Awaitable[None]]


class TinyFeed:
    """Cursor = the index of the next record, as a decimal string. `failures[cursor]` is a list
    of statuses to answer before the page is served (e.g. [503, 429]); `answers[cursor]`
    answers every request at that cursor instead of the page (a faulty platform: see
    tests/faults). `requests_at` counts the requests by cursor."""

    def __init__(
        self,
        records: list[Any],
        failures: dict[str, list[int]] | None = None,
        answers: dict[str, Answer] | None = None,
    ) -> None:
        self.records = records
        self.failures = failures or {}
        self.answers = answers or {}
        self.requests = 0
        self.requests_at: Counter[str] = Counter()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.requests += 1
        headers = dict(scope["headers"])
        if headers.get(b"authorization") != f"Bearer {TOKEN}".encode():
            await send_json(send, 401, {"error": "unauthorized"})
            return
        query = dict(
            part.split("=", 1) for part in scope["query_string"].decode().split("&") if "=" in part
        )
        cursor = query.get("cursor", "0") or "0"
        limit = int(query.get("limit", "1000"))
        self.requests_at[cursor] += 1
        answer = self.answers.get(cursor)
        if answer is not None:
            await answer(receive, send)
            return
        if not cursor.isdigit():
            await send_json(send, 400, {"error": "bad cursor"})
            return
        planned = self.failures.get(cursor)
        if planned:
            await send_json(send, planned.pop(0), {"error": "try again"}, {"retry-after": "0"})
            return
        await self.serve_page(send, cursor, limit)

    async def serve_page(self, send: Any, cursor: str, limit: int) -> None:
        start = int(cursor)
        page = self.records[start : start + limit]
        end = start + len(page)
        await send_json(
            send,
            200,
            {"records": page, "next_cursor": str(end), "has_more": end < len(self.records)},
        )


async def send_json(
    send: Any, status: int, body: Any, headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    raw_headers += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})
