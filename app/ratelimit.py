"""Rate limits with the `limits` library: in memory, or in Redis when LIANYUN_REDIS_URL is set.

Counters expire by themselves; a key is never written anywhere else.
"""

import math
import time
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from limits import parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.config import get_settings
from app.errors import RateLimited


@lru_cache
def _limiter_for(storage_uri: str) -> tuple[MovingWindowRateLimiter, Storage]:
    storage = storage_from_string(storage_uri)
    assert isinstance(storage, Storage)  # noqa: S101 (a sync storage URI gives a sync storage)
    return MovingWindowRateLimiter(storage), storage


def limiter() -> tuple[MovingWindowRateLimiter, Storage]:
    return _limiter_for(get_settings().redis_url or "memory://")


def hit(rate: str, namespace: str, key: str) -> None:
    """Count one attempt under `namespace:key`; raise RateLimited once `rate` is exceeded."""
    strategy, _ = limiter()
    item = parse(rate)
    if strategy.hit(item, namespace, key):
        return
    stats = strategy.get_window_stats(item, namespace, key)
    raise RateLimited(retry_after=math.ceil(stats.reset_time - time.time()))


def reset() -> None:
    """Forget every counter (tests, and an operator's `reset`)."""
    _, storage = limiter()
    storage.reset()


def _client_address(request: Request) -> str:
    """The connection's address (a trusted proxy's X-Forwarded-For when uvicorn is told so):
    a rate-limit key only, never stored or logged."""
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(_client_address)]
