"""The app's GZipMiddleware answers exactly as Starlette's does: the same messages, at the same
points of the app's progress, for every kind of response and client; and a phone that accepts
gzip gets a large answer compressed."""

import copy
import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.middleware.gzip import GZipMiddleware as StarletteGZipMiddleware
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.compression import GZipMiddleware

MINIMUM = 1024  # the app's minimum_size (app.main)
LARGE = ("村民查询补贴" * 400).encode()
SMALL = b'{"status":"ok"}'
BARE_START = {"type": "http.response.start", "status": 200}
TRAILERS = {"type": "http.response.trailers", "headers": [], "more_trailers": False}


def _start(content_type: bytes = b"application/json", *extra: Any, status: int = 200) -> Message:
    headers = [(b"content-type", content_type), *extra]
    return {"type": "http.response.start", "status": status, "headers": headers}


def _body(body: bytes, *, more: bool = False) -> Message:
    return {"type": "http.response.body", "body": body, "more_body": more}


class _Boom(Exception):
    pass


# What an app does, step by step: a message to send, "mark" (a note in the trace: how far the
# app got when each message went out), or "raise".
SCRIPTS: dict[str, list[Any]] = {
    "short JSON": [_start(), _body(SMALL)],
    "large JSON": [_start(), _body(LARGE)],
    "large JSON with a length": [
        _start(b"application/json", (b"content-length", b"4800")),
        _body(LARGE),
    ],
    "large JSON with a Vary of its own": [
        _start(b"application/json", (b"vary", b"Origin")),
        _body(LARGE),
    ],
    "a start without headers, short": [BARE_START, _body(b"x")],
    "a start without headers, large": [BARE_START, _body(LARGE)],
    "no content type (a redirect)": [{**_start(), "headers": []}, _body(b"")],
    "zero-length body": [_start(), _body(b"")],
    "a body message without its keys": [_start(), {"type": "http.response.body"}],
    "one byte short of the minimum": [_start(), _body(b"x" * (MINIMUM - 1))],
    "exactly the minimum": [_start(), _body(b"x" * MINIMUM)],
    "large picture (never compressed)": [_start(b"image/png"), _body(LARGE)],
    "short picture": [_start(b"image/png"), _body(b"x")],
    "type with parameters, upper case": [_start(b"Text/HTML; charset=utf-8"), _body(LARGE)],
    "gRPC": [_start(b"application/grpc+proto"), _body(LARGE)],
    "encoded already": [_start(b"text/plain", (b"content-encoding", b"br")), _body(LARGE)],
    "a range (206), large": [_start(status=206), _body(LARGE)],
    "a range (206), short": [_start(status=206), _body(b"x")],
    "304": [_start(status=304), _body(b"")],
    "204 without a body message": [_start(status=204)],
    "no body message, text": [_start(b"text/plain")],
    "no body message, a picture": [_start(b"image/png")],
    "streamed page": [_start(b"text/html"), _body(b"<p>" * 10, more=True), _body(LARGE)],
    "streamed, short in all": [_start(b"text/html"), _body(b"<p>", more=True), _body(b"")],
    "streamed, first piece empty": [_start(b"text/html"), _body(b"", more=True), _body(LARGE)],
    "streamed page, waiting before its first piece": [
        _start(b"text/html"),
        "mark",
        _body(b"x", more=True),
        _body(b""),
    ],
    "events (SSE), waiting before the first": [
        _start(b"text/event-stream"),
        "mark",
        _body(b"data: 1\n\n", more=True),
        _body(b""),
    ],
    "trailers, short": [{**_start(b"text/plain"), "trailers": True}, _body(b"x"), TRAILERS],
    "trailers, large": [{**_start(b"text/plain"), "trailers": True}, _body(LARGE), TRAILERS],
    "trailers, streamed": [
        {**_start(b"text/plain"), "trailers": True},
        _body(b"a", more=True),
        _body(LARGE),
        TRAILERS,
    ],
    "early hint first": [{"type": "http.response.early_hint", "links": []}, _start(), _body(SMALL)],
    "early hint after the start": [
        _start(),
        {"type": "http.response.early_hint", "links": []},
        _body(SMALL),
    ],
    "path to send": [_start(), {"type": "http.response.pathsend", "path": "/x"}],
    "raises before its start": ["raise"],
    "raises after its start": [_start(), "raise"],
    "raises after a picture's start": [_start(b"image/png"), "raise"],
    "raises after a range's start": [_start(status=206), "raise"],
    "raises after an encoded start": [
        _start(b"text/plain", (b"content-encoding", b"gzip")),
        "raise",
    ],
    "raises after a first piece": [_start(b"text/html"), _body(b"x", more=True), "raise"],
    "raises after a short whole body": [_start(), _body(b"x"), "raise"],
    "raises after a large whole body": [_start(), _body(LARGE), "raise"],
}


def _scripted(steps: list[Any], trace: list[Any]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for step in steps:
            if step == "raise":
                raise _Boom
            if step == "mark":
                trace.append("the app goes on")
            else:
                await send(copy.deepcopy(step))

    return app


def _responding(response: Callable[[], Response]) -> Callable[[list[Any]], ASGIApp]:
    def app(trace: list[Any]) -> ASGIApp:
        async def respond(scope: Scope, receive: Receive, send: Send) -> None:
            await response()(scope, receive, send)

        return respond

    return app


async def _pieces() -> Any:
    yield LARGE[:100]
    yield LARGE


def _responses(tmp_path: Path) -> dict[str, Callable[[], Response]]:
    large_file, small_file = tmp_path / "large.json", tmp_path / "small.txt"
    large_file.write_bytes(LARGE)
    small_file.write_bytes(b"hi")
    return {
        "JSONResponse": lambda: JSONResponse({"status": "ok"}),
        "large PlainTextResponse": lambda: PlainTextResponse(LARGE.decode()),
        "204": lambda: Response(status_code=204),
        "304 with an ETag": lambda: Response(status_code=304, headers={"etag": '"a"'}),
        "RedirectResponse": lambda: RedirectResponse("/x", status_code=303),
        "StreamingResponse": lambda: StreamingResponse(_pieces(), media_type="text/plain"),
        "large FileResponse": lambda: FileResponse(large_file),
        "small FileResponse": lambda: FileResponse(small_file),
    }


def _trace(
    middleware: type, app_of: Callable[[list[Any]], ASGIApp], accept: bytes | None, method: str
) -> list[Any]:
    """What went out, in order with the app's marks, and how the call ended."""
    trace: list[Any] = []

    async def send(message: Message) -> None:
        trace.append(copy.deepcopy(message))

    received: list[bool] = []

    async def receive() -> Message:
        if received:  # the client stays: a response that listens for it to go waits on
            await anyio.sleep_forever()
        received.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    headers = [(b"host", b"example.org")]
    if accept is not None:
        headers.append((b"accept-encoding", accept))
    scope = {"type": "http", "method": method, "path": "/", "headers": headers}
    try:
        anyio.run(middleware(app_of(trace), minimum_size=MINIMUM), scope, receive, send)
    except _Boom:
        trace.append("raised")
    return trace


ACCEPTS = [b"gzip, deflate, br", b"GZIP", b"identity", None]


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("script", list(SCRIPTS))
def test_every_response_goes_out_as_starlette_sends_it(script: str, accept: bytes | None) -> None:
    def app(trace: list[Any]) -> ASGIApp:
        return _scripted(SCRIPTS[script], trace)

    ours = _trace(GZipMiddleware, app, accept, "GET")
    assert ours == _trace(StarletteGZipMiddleware, app, accept, "GET")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("accept", ACCEPTS)
def test_starlettes_responses_go_out_as_starlette_sends_them(
    tmp_path: Path, accept: bytes | None, method: str
) -> None:
    for name, response in _responses(tmp_path).items():
        app = _responding(response)
        ours = _trace(GZipMiddleware, app, accept, method)
        assert ours == _trace(StarletteGZipMiddleware, app, accept, method), name


def test_a_phone_gets_a_large_answer_compressed_and_a_short_one_as_it_is() -> None:
    def app_of(steps: list[Any]) -> Callable[[list[Any]], ASGIApp]:
        return lambda trace: _scripted(steps, trace)

    start, body = _trace(GZipMiddleware, app_of(SCRIPTS["large JSON"]), b"gzip", "GET")
    headers = dict(start["headers"])
    assert headers[b"content-encoding"] == b"gzip"
    assert headers[b"vary"] == b"Accept-Encoding"
    assert int(headers[b"content-length"]) == len(body["body"]) < len(LARGE) / 10
    assert gzip.decompress(body["body"]) == LARGE

    start, body = _trace(GZipMiddleware, app_of(SCRIPTS["short JSON"]), b"gzip", "GET")
    assert b"content-encoding" not in dict(start["headers"])
    assert body["body"] == SMALL


def test_the_app_gzips_through_its_own_middleware(client: Any) -> None:
    short = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert short.status_code == 200
    assert "content-encoding" not in short.headers
    assert short.json() == {"status": "ok"}
    regions = client.get("/api/v1/regions", headers={"Accept-Encoding": "gzip"})
    assert regions.headers["content-encoding"] == "gzip"
    assert regions.headers["vary"] == "Accept-Encoding"
    assert regions.json()  # httpx inflates it
