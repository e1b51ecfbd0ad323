"""The mock 一卡通 payout platform as an ASGI app: FEED.md v1, `GET /api/payouts`.

Not part of the Lianyun API: `lianyun mock-feed` serves it on its own port. Errors are small
JSON bodies `{"error": code, "message": text}` as a foreign platform would send them, not
Lianyun's problem details.
"""

import hashlib
import hmac
import re
import threading
from collections import OrderedDict

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.mockfeed.generator import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MIN_LIMIT,
    CursorError,
    FeedGenerator,
    MockFeedConfig,
    mix,
)

_LIMIT = re.compile(r"[0-9]{1,6}")
_ATTEMPTS_KEPT = 10_000


class TransientFaults:
    """About `rate` of page requests fail with 503 (mostly), 429 or 500.

    The decision is a hash of (seed, cursor, failures of that cursor so far), so two mocks with
    the same config fail the same requests, and a cursor never fails more than
    MAX_IN_A_ROW times in a row: asked again soon, the same request succeeds.
    """

    MAX_IN_A_ROW = 2

    def __init__(self, *, seed: int, rate: float) -> None:
        self.rate = rate
        self._salt = mix(mix(seed & ((1 << 64) - 1)) ^ 0xFA17)
        self._failures: OrderedDict[str, int] = OrderedDict()

    def status(self, cursor: str) -> int | None:
        """The error status to answer this request with, or None to answer it."""
        if not self.rate:
            return None
        failures = self._failures.pop(cursor, 0)
        if failures >= self.MAX_IN_A_ROW:
            return None
        digest = hashlib.blake2b(cursor.encode(), digest_size=8).digest()
        h = mix(self._salt ^ int.from_bytes(digest) ^ failures << 62)
        if (h >> 11) / (1 << 53) >= self.rate:
            return None
        self._failures[cursor] = failures + 1
        if len(self._failures) > _ATTEMPTS_KEPT:
            self._failures.popitem(last=False)
        kind = h & 0xFF
        return 503 if kind < 179 else 429 if kind < 218 else 500


_TRANSIENT = {
    503: ("unavailable", "服务暂时不可用，请稍后重试", {}),
    429: ("too_many_requests", "请求过于频繁，请稍后重试", {"Retry-After": "1"}),
    500: ("internal_error", "内部错误，请稍后重试", {}),
}


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": code, "message": message}, status, headers=headers)


def create_mock_feed_app(config: MockFeedConfig) -> Starlette:
    """The app for one config; the persons table and their profiles are built here, before the
    first request."""
    generator = FeedGenerator(config)
    generator.prepare()
    faults = TransientFaults(seed=config.seed, rate=config.fault_rate)
    expected = f"Bearer {config.token}".encode()
    lock = threading.Lock()  # the generator's caches and the fault counters are not thread-safe

    def list_payouts(request: Request) -> Response:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        given = f"Bearer {token.strip()}".encode() if scheme.lower() == "bearer" else b""
        if not hmac.compare_digest(given, expected):
            return _error(
                401,
                "unauthorized",
                "缺少或错误的访问令牌",
                {"WWW-Authenticate": 'Bearer realm="payouts"'},
            )
        raw_limit = request.query_params.get("limit")
        if raw_limit is None:
            limit = DEFAULT_LIMIT
        elif _LIMIT.fullmatch(raw_limit) and MIN_LIMIT <= int(raw_limit) <= MAX_LIMIT:
            limit = int(raw_limit)
        else:
            return _error(400, "bad_limit", f"limit 须为 {MIN_LIMIT} 到 {MAX_LIMIT} 的整数")
        cursor = request.query_params.get("cursor") or ""
        try:
            position = generator.decode_cursor(cursor)
        except CursorError:
            return _error(400, "bad_cursor", "cursor 无效")
        with lock:
            status = faults.status(cursor)
            body = generator.page_at(position, limit).body() if status is None else b""
        if status is not None:
            code, message, headers = _TRANSIENT[status]
            return _error(status, code, message, headers)
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/api/payouts", list_payouts, methods=["GET"])])


def mock_feed_server(
    config: MockFeedConfig, *, host: str, port: int, log_level: str = "info"
) -> uvicorn.Server:
    """A uvicorn server for the mock feed: `.run()` blocks; from another thread, set
    `.should_exit = True` to stop it (tests run it in a thread this way)."""
    return uvicorn.Server(
        uvicorn.Config(
            create_mock_feed_app(config),
            host=host,
            port=port,
            access_log=False,
            server_header=False,
            log_level=log_level,
        )
    )


def serve_mock_feed(config: MockFeedConfig, *, host: str, port: int) -> None:
    """Serve the mock feed until interrupted (blocks)."""
    mock_feed_server(config, host=host, port=port).run()
