"""Request ids, the access log and Prometheus metrics, as one pure ASGI middleware.

Metrics are labelled by route template (`/api/v1/regions/{code}`), never by raw path. Every
request passes here: one pass over the headers, metric children looked up once per label set.
What each part costs a request: docs/performance.md#per-request-cost.
"""

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import INTERNAL_ERROR, PROBLEM_MEDIA_TYPE, problem_body
from app.logs import AccessLog, anonymous_trouble, anonymous_var, request_id_var

error_logger = logging.getLogger("app.errors")

access_log = AccessLog(logging.getLogger("app.access"))
disable_created_metrics()  # type: ignore[no-untyped-call]  # creation times would date requests

REQUESTS = Counter(
    "lianyun_http_requests_total",
    "HTTP requests by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "lianyun_http_request_duration_seconds",
    "HTTP request latency by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# Rate limits while Redis is away (app.ratelimit): 1 while a worker counts in its own memory.
# Both change only during other requests than tips (an anonymous request leaves no sample).
RATE_LIMIT_FALLBACK = Gauge(
    "lianyun_rate_limit_fallback",
    "1 while rate limits are counted in a worker's memory because Redis does not answer",
    multiprocess_mode="livemax",
)
RATE_LIMIT_FALLBACK_HITS = Counter(
    "lianyun_rate_limit_fallback_hits",
    "Rate-limited requests (tips excepted) counted in a worker's memory because Redis did "
    "not answer",
)
# 阳光问廉: published items past their deadline and not yet rectified (app.scheduler sets it).
INQUIRIES_OVERDUE = Gauge(
    "lianyun_inquiries_overdue",
    "阳光问廉 items past their deadline and not yet rectified",
    multiprocess_mode="livemax",
)
# 云端话廉: questions past their due date and not yet answered (app.scheduler sets it).
QUESTIONS_OVERDUE = Gauge(
    "lianyun_questions_overdue",
    "云端话廉 questions past their due date (working days) and not yet answered",
    multiprocess_mode="livemax",
)
UNMATCHED = "<unmatched>"
# Body limits above the app-wide one for multipart uploads, by path prefix (tips carry up to
# 5 files of 10 MB, 阳光问廉 9 photos); other bodies on those paths keep the app-wide limit.
BODY_LIMITS = {
    "/api/v1/tips": 52 * 1024 * 1024,
    "/tips/new": 52 * 1024 * 1024,  # the H5 app's tip form (app.web)
    "/api/v1/admin/inquiry-meetings": 92 * 1024 * 1024,  # 9 photos of 10 MB
    "/api/v1/admin/inquiries": 92 * 1024 * 1024,
    "/api/v1/admin/articles": 92 * 1024 * 1024,  # 9 pictures of 10 MB
    # a screening list of 10 MB (app.screening.lists.MAX_LIST_BYTES) and the form around it
    "/api/v1/admin/screening/lists": 10 * 1024 * 1024 + 64 * 1024,
}


class _RouteMetrics:
    """REQUESTS and LATENCY by label values, each child looked up once: `labels()` checks the
    values and takes a lock on every call."""

    def __init__(self) -> None:
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[tuple[str, str], Any] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = REQUESTS.labels(method, route, str(status))
            self._counters[method, route, status] = counter
        counter.inc()
        histogram = self._histograms.get((method, route))
        if histogram is None:
            histogram = self._histograms[method, route] = LATENCY.labels(method, route)
        histogram.observe(seconds)


_route_metrics = _RouteMetrics()


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    if isinstance(route, BaseRoute):
        path = getattr(route, "path", None)
        if isinstance(path, str):
            return path
    return UNMATCHED


class RequestContextMiddleware:
    """Request id, metrics, the access line, a size limit on request bodies, and a problem
    response (logged once, with the request id) for any error the app did not handle.

    Requests whose callers must stay unidentifiable (`is_anonymous(path)`: the public writes)
    get no request id anywhere, and leave no log line or metric sample at all (their times
    would say when the villager acted); trouble they meet reaches the log only as an hourly
    count (app.logs.AnonymousTroubleTally)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = 1024 * 1024,
        body_limits: Mapping[str, int] = BODY_LIMITS,
        is_anonymous: Callable[[str], bool],
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_limits = dict(body_limits)
        self.is_anonymous = is_anonymous

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        anonymous = self.is_anonymous(path)
        max_body = self.max_body_bytes
        length: bytes | None = None
        multipart = False
        for name, value in scope.get("headers", ()):  # names are lower case in ASGI
            if name == b"content-length":
                length = value if length is None else length
            elif name == b"content-type" and value.lower().startswith(b"multipart/form-data"):
                multipart = True
        if multipart:  # the larger limits are for file uploads only
            max_body = next(
                (limit for prefix, limit in self.body_limits.items() if _under(path, (prefix,))),
                max_body,
            )
        declared_too_large = length is not None and (not length.isdigit() or int(length) > max_body)
        request_id = None if anonymous else os.urandom(16).hex()
        token = request_id_var.set(request_id)
        anonymous_token = anonymous_var.set(anonymous)
        if request_id is not None:
            scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False
        too_large = False
        received = 0

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:  # a chunked body declares no length
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if too_large:  # whatever the app answers to the cut-off body, the answer is 413
                if message["type"] == "http.response.start" and not response_started:
                    response_started = True
                    status = 413
                    await self._problem(send, 413, _TOO_LARGE, scope, request_id)
                return
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                if request_id is not None:
                    headers = list(message.get("headers", []))
                    headers.append((b"x-request-id", request_id.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        try:
            if declared_too_large:
                status = 413
                await self._problem(send, 413, _TOO_LARGE, scope, request_id)
            else:
                await self.app(scope, limited_receive, send_with_id)
        except Exception as exc:
            if too_large:
                status = 413
                if not response_started:
                    await self._problem(send, 413, _TOO_LARGE, scope, request_id)
            else:
                if anonymous:  # counted for the hourly summary (app.logs), by type only
                    error_logger.error(
                        "unhandled exception: %s",
                        type(exc).__name__,
                        extra={"anonymous_safe": True},
                    )
                else:
                    error_logger.error(
                        "unhandled exception",
                        exc_info=(type(exc), exc, exc.__traceback__),
                        extra={"request_id": request_id},
                    )
                if not response_started:
                    await self._problem(send, 500, INTERNAL_ERROR, scope, request_id)
                status = 500
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            method: str = scope["method"]
            if not anonymous:  # an anonymous request leaves no line and no sample behind
                anonymous_trouble.write_closed_hours()
                _route_metrics.observe(method, route, status, elapsed)
                access_log.write(method, route, status, round(elapsed * 1000, 2))
            request_id_var.reset(token)
            anonymous_var.reset(anonymous_token)

    @staticmethod
    async def _problem(
        send: Send, status: int, problem: dict[str, Any], scope: Scope, request_id: str | None
    ) -> None:
        body = json.dumps(
            problem_body(instance=scope["path"], request_id=request_id, **problem),
            ensure_ascii=False,
        ).encode()
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
        ]
        if request_id is not None:
            headers.append((b"x-request-id", request_id.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


class _BodyTooLarge(Exception):
    pass


_TOO_LARGE = {
    "status": 413,
    "code": "payload_too_large",
    "title": "提交的内容太大",
    "detail": "提交的内容超过了允许的大小。",
}


def metrics_payload() -> tuple[bytes, str]:
    """The exposition text; across all workers when `PROMETHEUS_MULTIPROC_DIR` is set."""
    registry: Any = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST
