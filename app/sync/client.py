"""An HTTP client for any server that speaks FEED.md v1.

Transient trouble (429, 5xx, timeouts, dropped connections, a broken body) is retried with
exponential backoff and jitter, honouring Retry-After, up to a bounded number of tries; then
`FeedUnavailable`. A refused token or a refused request is `FeedRejected` at once.
"""

import json
import random
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

TRANSIENT_STATUSES = {429, 500, 502, 503, 504}


class FeedError(Exception):
    """The sync cannot go on; the message is Chinese and names the cause."""


class FeedRejected(FeedError):
    pass


class FeedUnavailable(FeedError):
    pass


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class FeedPage:
    records: list[Any]
    next_cursor: str
    has_more: bool


class FeedClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        max_attempts: int = 6,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
        )
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._transport = transport
        self._args = (base_url, token)
        self._options = {
            "timeout": timeout,
            "max_attempts": max_attempts,
            "backoff_initial": backoff_initial,
            "backoff_max": backoff_max,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        """A copy with its own connections, for the sync's child process."""
        if self._transport is not None:
            raise TypeError("a FeedClient with its own transport cannot leave its process")
        return (_rebuilt, (self._args, self._options))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "FeedClient":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _wait(self, state: RetryCallState) -> float:
        exponential = min(self.backoff_max, self.backoff_initial * 2 ** (state.attempt_number - 1))
        wait = random.uniform(exponential / 2, exponential)  # noqa: S311 (jitter, not crypto)
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            wait = max(wait, min(error.retry_after, self.backoff_max))
        return wait

    def fetch_page(self, cursor: str | None, limit: int) -> FeedPage:
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._fetch_once(cursor, limit)
        except _Transient as exc:
            raise FeedUnavailable(
                f"一卡通接口连续 {self.max_attempts} 次请求失败（最后一次：{exc}），本次同步中止。"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _fetch_once(self, cursor: str | None, limit: int) -> FeedPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        try:
            response = self._http.get("/api/payouts", params=params)
        except httpx.TimeoutException:
            raise _Transient("超时") from None
        except httpx.TransportError as exc:
            raise _Transient(f"连接错误 {type(exc).__name__}") from None
        status = response.status_code
        if status in TRANSIENT_STATUSES:
            raise _Transient(f"HTTP {status}", _retry_after(response))
        if status == 401:
            raise FeedRejected("一卡通接口拒绝了令牌（HTTP 401），请检查 LIANYUN_FEED_TOKEN。")
        if status != 200:
            raise FeedRejected(f"一卡通接口拒绝了请求（HTTP {status}）。")
        body = _parsed(_body(response))
        records, next_cursor, has_more = (
            (
                body.get("records"),
                body.get("next_cursor"),
                body.get("has_more"),
            )
            if isinstance(body, dict)
            else (None, None, None)
        )
        if (
            not isinstance(records, list)
            or not isinstance(next_cursor, str)
            or not isinstance(has_more, bool)
        ):
            raise _Transient("响应缺少 records、next_cursor 或 has_more")
        return FeedPage(records=records, next_cursor=next_cursor, has_more=has_more)


def _rebuilt(args: tuple[str, str], options: dict[str, Any]) -> FeedClient:
    return FeedClient(*args, **options)


def _body(response: httpx.Response) -> bytes:
    """The response's body, with the response freed as soon as it is dropped. httpx 0.28 ties a
    response and its stream in a reference cycle (encode/httpx#3733), so each page's body (a
    few MB) waited for Python's cyclic garbage collector: in the sync's child, whose checking
    makes few objects that would set the collector off, that held about 90 MB of bodies."""
    content = response.content
    response.stream = httpx.ByteStream(b"")  # the stream of the cycle, closed once read
    return content


def _parsed(content: bytes) -> Any:
    """The page's JSON. orjson parses in a third of the time; it refuses some JSON that is still
    well-formed text (a lone surrogate escape, an integer past 64 bits), which the standard
    parser reads, so that such a record is quarantined on its own instead of failing the page."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _Transient("响应不是完整的 JSON") from None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None
