"""Answers of a platform that misbehaves (for TinyFeed's `answers`): it loops, lies, stalls or
sends too much. Each is served over real HTTP on 127.0.0.1."""

import asyncio
import json
import threading
import zlib
from typing import Any

from tests.sync.feed_server import Answer, send_json

# A looping answer gives up after this many requests (400), so that a client without a guard
# fails instead of looping for ever.
LOOP_LIMIT = 200


def page(records: list[Any], next_cursor: Any, has_more: bool) -> Answer:
    async def answer(_receive: Any, send: Any) -> None:
        await send_json(
            send, 200, {"records": records, "next_cursor": next_cursor, "has_more": has_more}
        )

    return answer


class Looping:
    """`has_more` with `next_cursor` and no records, every time: up to LOOP_LIMIT requests."""

    def __init__(self, next_cursor: str) -> None:
        self.next_cursor = next_cursor
        self.requests = 0

    async def __call__(self, receive: Any, send: Any) -> None:
        self.requests += 1
        if self.requests > LOOP_LIMIT:
            await send_json(send, 400, {"error": "enough"})
            return
        await send_json(
            send, 200, {"records": [], "next_cursor": self.next_cursor, "has_more": True}
        )


def raw(body: bytes) -> Answer:
    """A 200 with `body` as it is (malformed JSON, a lone surrogate...)."""

    async def answer(_receive: Any, send: Any) -> None:
        await _start(send, len(body))
        await send({"type": "http.response.body", "body": body})

    return answer


class Trickling:
    """A sound page whose body comes a few bytes every `pause` seconds: each read is quick, the
    whole takes `len(body) / step * pause`. The first `times` requests trickle, later ones are
    served at once."""

    def __init__(self, body: dict[str, Any], *, pause: float, step: int, times: int) -> None:
        self.body = json.dumps(body).encode()
        self.pause, self.step, self.times = pause, step, times
        self.requests = 0

    async def __call__(self, receive: Any, send: Any) -> None:
        self.requests += 1
        await _start(send, len(self.body))
        if self.requests > self.times:
            await send({"type": "http.response.body", "body": self.body})
            return
        for start in range(0, len(self.body), self.step):
            await send(
                {
                    "type": "http.response.body",
                    "body": self.body[start : start + self.step],
                    "more_body": True,
                }
            )
            await asyncio.sleep(self.pause)
        await send({"type": "http.response.body", "body": b""})


class Oversized:
    """A page of `total` bytes (padding in a sound page), streamed in chunks of 64 KiB, with or
    without its length declared; `sent` counts the bytes sent until the client hung up."""

    CHUNK = b" " * 65536

    def __init__(self, total: int, *, declare_length: bool) -> None:
        self.total, self.declare_length = total, declare_length
        self.sent = 0

    async def __call__(self, receive: Any, send: Any) -> None:
        head = b'{"records": [], "next_cursor": "0", "has_more": false, "pad": "'
        tail = b'"}'
        pad = self.total - len(head) - len(tail)
        hung_up = asyncio.Event()
        watcher = asyncio.create_task(_watch(receive, hung_up))
        await _start(send, self.total if self.declare_length else None)
        await self._send(send, head)
        while pad > 0 and not hung_up.is_set():
            chunk = self.CHUNK[:pad]
            await self._send(send, chunk)
            pad -= len(chunk)
            await asyncio.sleep(0)  # lets the watcher see a hang-up
        if not hung_up.is_set():
            await self._send(send, tail, more=False)
        watcher.cancel()

    async def _send(self, send: Any, body: bytes, *, more: bool = True) -> None:
        await send({"type": "http.response.body", "body": body, "more_body": more})
        self.sent += len(body)


def gzipped(body: bytes, *, padding: int = 0) -> bytes:
    """`body` gzipped, with `padding` spaces inserted before its last byte (a JSON object's
    closing brace): a few hundred kilobytes that inflate to `padding` bytes."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [deflate.compress(body[:-1])]
    block = b" " * (1024 * 1024)
    for start in range(0, padding, len(block)):
        parts.append(deflate.compress(block[: padding - start]))
    parts += [deflate.compress(body[-1:]), deflate.flush()]
    return b"".join(parts)


def gzip_page(compressed: bytes) -> Answer:
    """A 200 with `compressed` as a gzip-encoded body."""

    async def answer(_receive: Any, send: Any) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-encoding", b"gzip"),
            (b"content-length", str(len(compressed)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": compressed})

    return answer


class Blocking:
    """Holds each request until `release` is set; `entered` is set when one arrives. Then serves
    `then`."""

    def __init__(self, then: Answer) -> None:
        self.then = then
        self.entered = threading.Event()
        self.release = threading.Event()

    async def __call__(self, receive: Any, send: Any) -> None:
        self.entered.set()
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        await self.then(receive, send)


async def _watch(receive: Any, hung_up: asyncio.Event) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    hung_up.set()


async def _start(send: Any, length: int | None) -> None:
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
