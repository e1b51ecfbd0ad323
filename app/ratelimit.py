"""Rate limits with the `limits` library: in memory, or in Redis when LIANYUN_REDIS_URL is set.

Counters expire by themselves; a key is never written anywhere else, and every key is a keyed
hash that changes daily (`_private_key`): the store never holds an address or a username.

When Redis cannot be reached, each worker counts in its own memory instead (the limits still
hold, per worker) and tries Redis again once `LIANYUN_REDIS_RETRY_SECONDS` have passed: one
request of the worker tries, the others count in memory meanwhile, so a dead Redis costs one
timeout per worker and period, not one per request. Limits that guard
passwords (`fail_closed`) refuse instead: a per-worker count would multiply the guesses an
attacker gets by the number of workers.
"""

import hashlib
import hmac
import logging
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Annotated, Any, Literal

from anyio import CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from app.config import get_settings
from app.errors import RateLimited, UpstreamUnavailable
from app.logs import anonymous_var
from app.observability import RATE_LIMIT_FALLBACK, RATE_LIMIT_FALLBACK_HITS

logger = logging.getLogger(__name__)

# A counter that takes longer than this is not worth waiting for: the request goes on with
# the worker's own count.
_REDIS_TIMEOUT_SECONDS = 0.5


class RateLimitUnavailable(UpstreamUnavailable):
    code = "rate_limit_unavailable"
    title = "登录暂时不可用"

    def __init__(self, retry_after: int) -> None:
        retry_after = max(1, retry_after)
        super().__init__(
            f"登录次数的计数服务暂时不可用，为防止密码被猜，登录暂停。请 {retry_after} 秒后再试。",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


@dataclass(frozen=True)
class Limiter:
    moving: MovingWindowRateLimiter
    fixed: FixedWindowRateLimiter
    storage: Storage


def _limiter(storage: Storage) -> Limiter:
    return Limiter(MovingWindowRateLimiter(storage), FixedWindowRateLimiter(storage), storage)


class _WorkerMemory(MemoryStorage):
    """`limits`' memory storage, forgetting expired counts on the counting thread, a few
    hundred clients a call. `limits` does it on a timer thread that it starts again 10 ms after
    each run (under load a new thread every ~10 ms), walking every client ever counted at once
    while holding the GIL, and it keeps an empty list for each of them: a worker's pause grew
    with the clients it had met (docs/performance.md#per-request-cost). Only memory is at stake:
    every count checks its own window's times. It hooks `limits`' private `__schedule_expiry`
    and reads its `events`, `expirations` and `locks`; a test (tests/test_ratelimit.py) fails
    if a release renames them."""

    # A new pass over the clients at most this often: each pass looks at every client met in
    # the last window, so a pass a second cost a worker with a phone a lookup about a tenth of
    # its time; a client is now forgotten at most this long after its window has passed
    # (docs/performance.md#many-clients-in-the-rate-limit).
    SWEEP_SECONDS = 10.0
    SWEEP_CHUNK = 256  # clients of each kind looked at by one call

    _swept: float  # time.monotonic() when the pass under way began
    _moving: list[str]  # clients of the pass under way, to look at
    _fixed: list[str]

    def __init__(self) -> None:
        super().__init__()
        self._start_pass()  # of no client yet

    def _start_pass(self) -> None:
        self._swept = time.monotonic()
        self._moving, self._fixed = list(self.events), list(self.expirations)

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 (limits names it so)
        if not self._moving and not self._fixed:
            if time.monotonic() - self._swept < self.SWEEP_SECONDS:
                return
            self._start_pass()
        self._forget_expired(time.time())

    def _forget_expired(self, now: float) -> None:
        """The next chunk of the pass: moments past their window, a moving-window client left
        with none, and a fixed window that has ended."""
        for key in _taken(self._moving, self.SWEEP_CHUNK):
            with self.locks[key]:
                events = self.events.get(key)
                if events:  # newest first
                    events[:] = [event for event in events if event.expiry > now]
                if not events:
                    self.clear(key)
        for key in _taken(self._fixed, self.SWEEP_CHUNK):
            self.get(key)  # `limits` forgets the count there once its window has ended


def _taken(keys: list[str], most: int) -> Iterator[str]:
    """Up to `most` keys taken off the end of `keys`, each by one of the threads sharing it."""
    for _ in range(most):
        try:
            key = keys.pop()
        except IndexError:  # none left (or another thread took the last)
            return
        yield key


# This worker's own counters: all of them without Redis, and those counted while Redis is away.
_memory = _limiter(_WorkerMemory())


@lru_cache
def _redis(url: str) -> Limiter:
    options: dict[str, Any] = {  # passed on to redis-py, whose types `limits` does not know
        "wrap_exceptions": True,  # every failure of the store is a StorageError
        "socket_timeout": _REDIS_TIMEOUT_SECONDS,
        "socket_connect_timeout": _REDIS_TIMEOUT_SECONDS,
        # one immediate retry when a pooled connection died with a restarted Redis (refused or
        # closed: no wait); never after a timeout, so a Redis that does not answer costs one
        # timeout, not two
        "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    }
    storage = storage_from_string(url, **options)
    assert isinstance(storage, Storage)  # noqa: S101 (a sync storage URI gives a sync storage)
    return _limiter(storage)


def limiter() -> Limiter:
    """The shared counters: Redis when configured, else this worker's memory."""
    url = get_settings().redis_url
    return _memory if url is None else _redis(url)


class _RedisOutage:
    """Whether Redis is away and when to try it again, and what the log and the gauge last said
    about it; shared by the threads of one worker.

    The log line and the gauge follow the state only outside anonymous requests (tips): a line
    or a gauge that changed at the moment of a tip would say when the tipster acted. An outage
    a tip found is told by the next other request that counts."""

    retry_at: float | None  # time.monotonic(); None while Redis answers
    _reported: bool  # what the log and the gauge last said: Redis is away
    _cause: str  # the type of the error that began the outage (set by `failed`)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.forget()

    def claim_try(self) -> bool:
        """Whether this caller should ask Redis: always while it answers; during an outage,
        once the retry time has passed, the first caller only (it moves the retry time on
        before it tries), so the others count in memory instead of waiting for Redis too."""
        with self._lock:
            if self.retry_at is None:
                return True
            now = time.monotonic()
            if now < self.retry_at:
                return False
            self.retry_at = now + get_settings().redis_retry_seconds
            return True

    def retry_due(self) -> bool:
        retry_at = self.retry_at
        return retry_at is not None and time.monotonic() >= retry_at

    def seconds_left(self) -> int:
        """Until Redis is tried again; none when it answers (again, since the caller looked)."""
        now = time.monotonic()
        return math.ceil((self.retry_at or now) - now)

    def failed(self, error: StorageError) -> None:
        with self._lock:
            self.retry_at = time.monotonic() + get_settings().redis_retry_seconds
            if not self._reported:
                # the cause's type only: its text may name the Redis host
                self._cause = type(error.storage_error).__name__
            self._report()

    def answered(self) -> None:
        with self._lock:
            self.retry_at = None
            self._report()

    def report(self) -> None:
        """Bring the log and the gauge in line with the state, if they lag behind it."""
        with self._lock:
            self._report()

    def _report(self) -> None:
        # the caller holds the lock: one line per change, and the gauge as the state is
        away = self.retry_at is not None
        if away == self._reported or anonymous_var.get():
            return
        self._reported = away
        RATE_LIMIT_FALLBACK.set(1 if away else 0)
        if away:
            logger.warning(
                "rate limits: Redis unreachable (%s); counting in this worker's memory, "
                "sign-in refused; trying Redis again every %s s",
                self._cause,
                get_settings().redis_retry_seconds,
            )
        else:
            logger.warning("rate limits: Redis answers again; counting in Redis")

    def forget(self) -> None:
        with self._lock:
            self.retry_at = None
            self._reported = False
            RATE_LIMIT_FALLBACK.set(0)


_outage = _RedisOutage()


@lru_cache(maxsize=64)
def _rate(rate: str) -> RateLimitItem:
    """`limits`' parse of a rate from the settings ("10/minute"): a regular expression and
    five checks, a fifth of what counting a hit costs, done once per rate."""
    return parse(rate)


def _private_key(key: str) -> str:
    """A keyed hash that changes every UTC day: the counter store never holds the address."""
    secret = get_settings().secret("secret_key").encode()
    year, month, day = time.gmtime()[:3]
    return hmac.digest(secret, f"{year}-{month}-{day}:{key}".encode(), hashlib.sha256).hex()


def _hit_or_refusal(
    limiter: Limiter, item: RateLimitItem, namespace: str, key: str, *, private: bool
) -> RateLimited | None:
    """Count one attempt; the refusal when it is one too many.

    `private` (tips): fixed windows keep only a count and an expiry, where a moving window
    would keep the moment of every attempt."""
    strategy = limiter.fixed if private else limiter.moving
    if strategy.hit(item, namespace, key):
        return None
    stats = strategy.get_window_stats(item, namespace, key)
    return RateLimited(retry_after=math.ceil(stats.reset_time - time.time()))


def hit(
    rate: str, namespace: str, key: str, *, private: bool = False, fail_closed: bool = False
) -> None:
    """Count one attempt under `namespace:key`; raise RateLimited once `rate` is exceeded: in
    Redis, or while Redis is away in this worker's memory (RateLimitUnavailable instead when
    `fail_closed`)."""
    item, key = _rate(rate), _private_key(key)
    if get_settings().redis_url is not None:
        if _outage.claim_try():
            try:
                refusal = _hit_or_refusal(limiter(), item, namespace, key, private=private)
            except StorageError as error:
                _outage.failed(error)
            else:
                _outage.answered()
                if refusal is not None:
                    raise refusal
                return
        anonymous = anonymous_var.get()
        if not anonymous:
            _outage.report()
        if fail_closed:
            raise RateLimitUnavailable(_outage.seconds_left())
        if not anonymous:  # a sample at the moment of a tip would date it
            RATE_LIMIT_FALLBACK_HITS.inc()
    refusal = _hit_or_refusal(_memory, item, namespace, key, private=private)
    if refusal is not None:
        raise refusal


# Threads of a worker that may wait for Redis at once for code on the event loop: a Redis slow
# to answer holds these, never the pool that every plain `def` route shares.
REDIS_THREADS = 4
_REDIS_LANE: RunVar[CapacityLimiter] = RunVar("redis_lane")


async def hit_off_loop(rate: str, namespace: str, key: str, *, private: bool = False) -> None:
    """`hit` for code on the event loop: with Redis, on a few threads of its own, so that a
    round trip (or a timeout while Redis does not answer) never stalls the loop nor takes the
    threads other routes run on; in memory, on the loop itself (a few microseconds, where a
    thread hop would cost more)."""
    count = partial(hit, rate, namespace, key, private=private)
    if get_settings().redis_url is None:
        count()
        return
    try:
        lane = _REDIS_LANE.get()
    except LookupError:
        lane = CapacityLimiter(REDIS_THREADS)
        _REDIS_LANE.set(lane)
    await to_thread.run_sync(count, limiter=lane)


def clear(rate: str, namespace: str, key: str) -> None:
    """Forget the attempts counted under `namespace:key` (moving windows), wherever they were
    counted; a Redis that fails now keeps its count until the window expires."""
    item, key = _rate(rate), _private_key(key)
    _memory.moving.clear(item, namespace, key)
    if get_settings().redis_url is not None and _outage.claim_try():
        try:
            limiter().moving.clear(item, namespace, key)
        except StorageError as error:
            _outage.failed(error)
        else:
            _outage.answered()


def redis_state() -> Literal["not_configured", "ok", "unavailable"]:
    """For /readyz: does Redis answer a ping now?"""
    if get_settings().redis_url is None:
        return "not_configured"
    return "ok" if limiter().storage.check() else "unavailable"


def redis_retry_due() -> bool:
    """Whether Redis is away and the time to try it again has come (tests)."""
    return _outage.retry_due()


def reset_outage() -> None:
    """Forget any outage, as if Redis had always answered (tests)."""
    _outage.forget()


def reset() -> None:
    """Forget every counter and any outage (between tests)."""
    limiter().storage.reset()
    _memory.storage.reset()
    _outage.forget()


def client_address(request: Request) -> str:
    """The connection's address (a trusted proxy's X-Forwarded-For when uvicorn is told so):
    a rate-limit key only, never stored or logged."""
    return request.client.host if request.client else "unknown"


async def _client_address(request: Request) -> str:
    """`client_address` for FastAPI: `async`, so that it costs no thread hop."""
    return client_address(request)


ClientAddress = Annotated[str, Depends(_client_address)]
