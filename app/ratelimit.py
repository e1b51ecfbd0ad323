"""Rate limits with the `limits` library: in memory, or in Redis when LIANYUN_REDIS_URL is set.

Counters expire by themselves; a key is never written anywhere else.
"""

import hmac
import math
import time
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from limits import parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from app.config import get_settings
from app.errors import RateLimited


@lru_cache
def _limiter_for(
    storage_uri: str,
) -> tuple[MovingWindowRateLimiter, FixedWindowRateLimiter, Storage]:
    storage = storage_from_string(storage_uri)
    assert isinstance(storage, Storage)  # noqa: S101 (a sync storage URI gives a sync storage)
    return MovingWindowRateLimiter(storage), FixedWindowRateLimiter(storage), storage


def limiter() -> tuple[MovingWindowRateLimiter, FixedWindowRateLimiter, Storage]:
    return _limiter_for(get_settings().redis_url or "memory://")


def _private_key(key: str) -> str:
    """A keyed hash that changes every day: the counter store never holds the address."""
    secret = get_settings().secret("secret_key").encode()
    day = time.strftime("%Y-%m-%d", time.gmtime())
    return hmac.digest(secret, f"{day}:{key}".encode(), "sha256").hex()[:32]


def hit(rate: str, namespace: str, key: str, *, private: bool = False) -> None:
    """Count one attempt under `namespace:key`; raise RateLimited once `rate` is exceeded.

    `private` (tips): the key is hashed, and fixed windows keep only a count and an expiry,
    where a moving window would keep the moment of every attempt."""
    moving, fixed, _ = limiter()
    strategy: MovingWindowRateLimiter | FixedWindowRateLimiter = moving
    if private:
        strategy, key = fixed, _private_key(key)
    item = parse(rate)
    if strategy.hit(item, namespace, key):
        return
    stats = strategy.get_window_stats(item, namespace, key)
    raise RateLimited(retry_after=math.ceil(stats.reset_time - time.time()))


def reset() -> None:
    """Forget every counter (tests, and an operator's `reset`)."""
    *_, storage = limiter()
    storage.reset()


async def _client_address(request: Request) -> str:
    """The connection's address (a trusted proxy's X-Forwarded-For when uvicorn is told so):
    a rate-limit key only, never stored or logged."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(_client_address)]
