"""Rate limits with the `limits` library: in memory, or in Redis when LIANYUN_REDIS_URL is set.

Counters expire by themselves; a key is never written anywhere else, and every key is a keyed
hash that changes daily (`_private_key`): the store never holds an address or a username.

When Redis cannot be reached, each worker counts in its own memory instead (the limits still
hold, per worker) and tries Redis again once `LIANYUN_REDIS_RETRY_SECONDS` have passed, so a
dead Redis costs one timeout per worker and period, not one per request. Limits that guard
passwords (`fail_closed`) refuse instead: a per-worker count would multiply the guesses an
attacker gets by the number of workers.
"""

import hmac
import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.config import get_settings
from app.errors import RateLimited, UpstreamUnavailable
from app.observability import RATE_LIMIT_FALLBACK, RATE_LIMIT_FALLBACK_HITS

logger = logging.getLogger(__name__)

MEMORY = "memory://"
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


@lru_cache
def _limiter_for(storage_uri: str) -> Limiter:
    options: dict[str, Any] = {}
    if storage_uri != MEMORY:
        options = {
            "wrap_exceptions": True,  # every failure of the store is a StorageError
            "socket_timeout": _REDIS_TIMEOUT_SECONDS,
            "socket_connect_timeout": _REDIS_TIMEOUT_SECONDS,
            # one immediate retry (a pooled connection that died with a restarted Redis), no
            # sleeping back-off inside a request
            "retry": Retry(NoBackoff(), 1),
        }
    storage = storage_from_string(storage_uri, **options)
    assert isinstance(storage, Storage)  # noqa: S101 (a sync storage URI gives a sync storage)
    return Limiter(MovingWindowRateLimiter(storage), FixedWindowRateLimiter(storage), storage)


def limiter() -> Limiter:
    """The shared counters: Redis when configured, else this worker's memory."""
    return _limiter_for(get_settings().redis_url or MEMORY)


class _RedisOutage:
    """When Redis failed, and when to try it again; shared by the threads of one worker."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.retry_at: float | None = None  # time.monotonic(); None while Redis answers

    def should_try(self) -> bool:
        retry_at = self.retry_at
        return retry_at is None or time.monotonic() >= retry_at

    def seconds_left(self) -> int:
        retry_at = self.retry_at
        return 0 if retry_at is None else math.ceil(retry_at - time.monotonic())

    def failed(self, error: StorageError) -> None:
        backoff = get_settings().redis_retry_seconds
        with self._lock:
            began = self.retry_at is None
            self.retry_at = time.monotonic() + backoff
        if began:
            RATE_LIMIT_FALLBACK.set(1)
            # the cause's type only: its text may name the Redis host
            logger.warning(
                "rate limits: Redis unreachable (%s); counting in this worker's memory, "
                "sign-in refused; trying Redis again every %s s",
                type(error.storage_error).__name__,
                backoff,
                extra={"anonymous_safe": True},
            )

    def answered(self) -> None:
        if self.retry_at is None:
            return
        with self._lock:
            ended, self.retry_at = self.retry_at is not None, None
        if ended:
            RATE_LIMIT_FALLBACK.set(0)
            logger.warning(
                "rate limits: Redis answers again; counting in Redis",
                extra={"anonymous_safe": True},
            )


_outage = _RedisOutage()


def _private_key(key: str) -> str:
    """A keyed hash that changes every day: the counter store never holds the address."""
    secret = get_settings().secret("secret_key").encode()
    day = time.strftime("%Y-%m-%d", time.gmtime())
    return hmac.digest(secret, f"{day}:{key}".encode(), "sha256").hex()[:32]


def _refusal(
    limiter: Limiter, item: RateLimitItem, namespace: str, key: str, *, private: bool, count: bool
) -> RateLimited | None:
    """Count one attempt (`count`), or only look whether one more is allowed; the refusal
    when it is not.

    `private` (tips): fixed windows keep only a count and an expiry, where a moving window
    would keep the moment of every attempt."""
    strategy = limiter.fixed if private else limiter.moving
    allowed = strategy.hit(item, namespace, key) if count else strategy.test(item, namespace, key)
    if allowed:
        return None
    stats = strategy.get_window_stats(item, namespace, key)
    return RateLimited(retry_after=math.ceil(stats.reset_time - time.time()))


def _counted(
    rate: str, namespace: str, key: str, *, private: bool, fail_closed: bool, count: bool
) -> None:
    """Raise RateLimited when the limit is used up: in Redis, or while Redis is away in this
    worker's memory (RateLimitUnavailable instead when `fail_closed`)."""
    item, key = parse(rate), _private_key(key)
    if get_settings().redis_url is not None:
        if _outage.should_try():
            try:
                refusal = _refusal(limiter(), item, namespace, key, private=private, count=count)
            except StorageError as error:
                _outage.failed(error)
            else:
                _outage.answered()
                if refusal is not None:
                    raise refusal
                return
        if fail_closed:
            raise RateLimitUnavailable(_outage.seconds_left())
        RATE_LIMIT_FALLBACK_HITS.inc()
    refusal = _refusal(_limiter_for(MEMORY), item, namespace, key, private=private, count=count)
    if refusal is not None:
        raise refusal


def hit(
    rate: str, namespace: str, key: str, *, private: bool = False, fail_closed: bool = False
) -> None:
    """Count one attempt under `namespace:key`; raise RateLimited once `rate` is exceeded."""
    _counted(rate, namespace, key, private=private, fail_closed=fail_closed, count=True)


def check(
    rate: str, namespace: str, key: str, *, private: bool = False, fail_closed: bool = False
) -> None:
    """Raise RateLimited when `rate` is used up under `namespace:key`, counting nothing."""
    _counted(rate, namespace, key, private=private, fail_closed=fail_closed, count=False)


def redis_state() -> Literal["not_configured", "ok", "unavailable"]:
    """For /readyz: does Redis answer a ping now?"""
    if get_settings().redis_url is None:
        return "not_configured"
    return "ok" if limiter().storage.check() else "unavailable"


def reset() -> None:
    """Forget every counter and any outage (tests, and an operator's `reset`)."""
    limiter().storage.reset()
    _limiter_for(MEMORY).storage.reset()
    _outage.answered()


async def _client_address(request: Request) -> str:
    """The connection's address (a trusted proxy's X-Forwarded-For when uvicorn is told so):
    a rate-limit key only, never stored or logged."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(_client_address)]
