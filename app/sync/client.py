"""An HTTP client for any server that speaks FEED.md v1.

Transient trouble (429, 5xx, timeouts, dropped connections, a broken body, a page not read
whole within the timeout) is retried with exponential backoff and jitter, honouring Retry-After,
up to a bounded number of tries; then `FeedUnavailable`. A refused token or a refused request
is `FeedRejected` at once, and so is a page larger than `max_page_bytes` or a cursor that
cannot be stored. A page that leads back to a cursor the run has visited is asked for again as
often, then `FeedStuck`.
"""

import contextlib
import hashlib
import json
import random
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from app.config import Settings
from app.sync.records import storable_text

TRANSIENT_STATUSES = {429, 500, 502, 503, 504}


class FeedError(Exception):
    """The sync cannot go on; the message is Chinese and names the cause."""


class FeedRejected(FeedError):
    pass


class FeedUnavailable(FeedError):
    pass


class FeedStuck(FeedError):
    """The feed says there is more but leads back to where the run has been."""


# A cursor is stored with every page; the platform's are a few dozen characters.
MAX_CURSOR_CHARS = 1024


class _NoProgress(Exception):
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
        max_page_bytes: int = Settings.model_fields["feed_max_page_bytes"].default,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`timeout` bounds each page as a whole, from the request to the body's last byte
        (a body that trickles in is cut off too), and each wait within it."""
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            # gzip or nothing: the only encoding `_capped_body` decodes.
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "Accept-Encoding": "gzip",
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
        )
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.timeout = timeout
        self.max_page_bytes = max_page_bytes
        self._transport = transport
        self._args = (base_url, token)
        self._options = {
            "timeout": timeout,
            "max_attempts": max_attempts,
            "backoff_initial": backoff_initial,
            "backoff_max": backoff_max,
            "max_page_bytes": max_page_bytes,
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

    @property
    def longest_page_seconds(self) -> float:
        """How long `fetch_page` can take at most: each attempt is cut off within about twice
        `timeout` (the whole-page deadline is checked between reads, each read waits up to
        `timeout`), each followed by at most `backoff_max`."""
        return self.max_attempts * (2 * self.timeout + self.backoff_max)

    def _retrying(self, error: type[Exception]) -> Retrying:
        """Tries again on `error`, up to `max_attempts` in all, with backoff; then raises it."""
        return Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(error),
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        exponential = min(self.backoff_max, self.backoff_initial * 2 ** (state.attempt_number - 1))
        wait = random.uniform(exponential / 2, exponential)  # noqa: S311 (jitter, not crypto)
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Transient) and error.retry_after is not None:
            wait = max(wait, min(error.retry_after, self.backoff_max))
        return wait

    def fetch_page(self, cursor: str | None, limit: int) -> FeedPage:
        try:
            for attempt in self._retrying(_Transient):
                with attempt:
                    return self._fetch_once(cursor, limit)
        except _Transient as exc:
            raise FeedUnavailable(
                f"一卡通接口连续 {self.max_attempts} 次请求失败（最后一次：{exc}），本次同步中止。"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def fetch_next_page(self, cursor: str | None, limit: int, visited: set[bytes]) -> FeedPage:
        """The page at `cursor`, which must lead on to a cursor not in `visited` (the keys,
        `cursor_key`, of the cursors this run has fetched from) unless it is the last: a page
        that leads back (the same cursor again, or a cycle) is asked for again, up to
        `max_attempts` times with backoff, then FeedStuck. Adds the cursor it leads to."""
        try:
            for attempt in self._retrying(_NoProgress):
                with attempt:
                    page = self.fetch_page(cursor, limit)
                    if page.has_more and cursor_key(page.next_cursor) in visited:
                        raise _NoProgress
                    visited.add(cursor_key(page.next_cursor))
                    return page
        except _NoProgress:
            raise FeedStuck(
                f"一卡通接口连续 {self.max_attempts} 次表示还有数据（has_more），"
                "却把同步带回已经走过的游标，同步无法前进，本次同步中止；"
                "下次同步从上次保存的位置继续。"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _fetch_once(self, cursor: str | None, limit: int) -> FeedPage:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        deadline = time.monotonic() + self.timeout
        try:
            with self._response(params) as response:
                status = response.status_code
                if status in TRANSIENT_STATUSES:
                    raise _Transient(f"HTTP {status}", _retry_after(response))
                if status == 401:
                    raise FeedRejected(
                        "一卡通接口拒绝了令牌（HTTP 401），请检查 LIANYUN_FEED_TOKEN。"
                    )
                if status != 200:
                    raise FeedRejected(f"一卡通接口拒绝了请求（HTTP {status}）。")
                content = self._capped_body(response, deadline)
        except httpx.TimeoutException:
            raise _Transient("超时") from None
        except httpx.TransportError as exc:
            raise _Transient(f"连接错误 {type(exc).__name__}") from None
        body = _parsed(content)
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
        _check_cursor(next_cursor)
        return FeedPage(records=records, next_cursor=next_cursor, has_more=has_more)

    @contextlib.contextmanager
    def _response(self, params: dict[str, Any]) -> Iterator[httpx.Response]:
        """The page's response, its body not read yet; closed, and then freed as soon as it is
        dropped. httpx 0.28 ties a response and its stream in a reference cycle
        (encode/httpx#3733), so each response waited for Python's cyclic garbage collector,
        which the sync's child seldom sets off (see
        docs/performance.md#feed-responses-freed-at-once)."""
        with self._http.stream("GET", "/api/payouts", params=params) as response:
            try:
                yield response
            finally:
                response.close()
                response.stream = httpx.ByteStream(b"")  # the stream of the cycle, closed

    def _capped_body(self, response: httpx.Response, deadline: float) -> bytes:
        """The body, read and decoded as it comes: FeedPageTooLarge past `max_page_bytes`, sent
        or decoded (nothing more is read, and a gzip chunk is decoded no further than the cap:
        a small chunk can inflate a thousandfold), a transient failure past `deadline`."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_page_bytes:
            raise self._too_large()
        encoding = response.headers.get("content-encoding", "").strip().lower() or "identity"
        if encoding not in ("identity", "gzip"):
            raise FeedRejected(
                f"一卡通接口使用了不支持的压缩方式（{encoding[:20]}），请改用 gzip 或不压缩。"
            )
        inflate = zlib.decompressobj(wbits=31) if encoding == "gzip" else None
        chunks: list[bytes] = []
        sent = size = 0
        for raw in response.iter_raw():
            sent += len(raw)
            # At most one byte past the cap: enough to know the page is too large.
            chunk = inflate.decompress(raw, self.max_page_bytes + 1 - size) if inflate else raw
            size += len(chunk)
            if max(sent, size) > self.max_page_bytes:
                raise self._too_large()
            if time.monotonic() > deadline:
                raise _Transient(f"一页未能在 {self.timeout:g} 秒内读完")
            chunks.append(chunk)
        if inflate is not None and not inflate.eof:
            raise _Transient("压缩的响应不完整")
        return b"".join(chunks)

    def _too_large(self) -> "FeedPageTooLarge":
        return FeedPageTooLarge(
            f"一卡通接口返回的一页超过了 {self.max_page_bytes} 字节的上限"
            "（LIANYUN_FEED_MAX_PAGE_BYTES），本次同步中止；下次同步从上次保存的位置继续。"
        )


class FeedPageTooLarge(FeedRejected):
    pass


def cursor_key(cursor: str) -> bytes:
    """A short fixed-size key of a cursor, to remember the cursors of a run by."""
    return hashlib.blake2b(cursor.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _check_cursor(cursor: str) -> None:
    """FeedRejected for a cursor the database cannot keep (a NUL, a lone surrogate) or that is
    far longer than any platform's."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise FeedRejected(
            f"一卡通接口返回的游标超过 {MAX_CURSOR_CHARS} 个字符，无法保存，本次同步中止；"
            "下次同步从上次保存的位置继续。"
        )
    if not storable_text(cursor):
        raise FeedRejected(
            "一卡通接口返回的游标含有无法保存的字符（如 NUL 或不成对的代理字符），"
            "本次同步中止；下次同步从上次保存的位置继续。"
        )


def _rebuilt(args: tuple[str, str], options: dict[str, Any]) -> FeedClient:
    return FeedClient(*args, **options)


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
