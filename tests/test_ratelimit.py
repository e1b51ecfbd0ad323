import os
import uuid
from collections.abc import Iterator

import pytest

from app import ratelimit
from app.config import get_settings
from app.errors import RateLimited

BACKENDS = ["memory"] + (["redis"] if os.environ.get("LIANYUN_TEST_REDIS_URL") else [])


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "redis":
        monkeypatch.setenv("LIANYUN_REDIS_URL", os.environ["LIANYUN_TEST_REDIS_URL"])
    get_settings.cache_clear()
    yield request.param
    get_settings.cache_clear()


def test_the_limit_is_counted_per_key_and_answers_retry_after(backend: str) -> None:
    key = uuid.uuid4().hex
    for _ in range(3):
        ratelimit.hit("3/minute", "test", key)
    with pytest.raises(RateLimited) as info:
        ratelimit.hit("3/minute", "test", key)
    assert 0 < int(info.value.headers["Retry-After"]) <= 60
    ratelimit.hit("3/minute", "test", uuid.uuid4().hex)  # another key is not affected
