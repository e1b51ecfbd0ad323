import calendar
import contextlib
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from limits import parse
from prometheus_client import REGISTRY
from sqlalchemy.orm import Session

from app import ratelimit
from app.config import get_settings
from app.errors import RateLimited
from app.logs import anonymous_var
from app.servers import free_port
from tests.asserts import assert_problem
from tests.factories import DEFAULT_PASSWORD, SANGUANZHAI, make_staff
from tests.private_servers import PrivateRedis, wait_until


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    """The limits counted in this worker's memory, or in a Redis of the test's own."""
    if request.param == "redis":
        request.getfixturevalue("private_redis")
    return str(request.param)


def test_the_limit_is_counted_per_key_and_answers_retry_after(backend: str) -> None:
    key = uuid.uuid4().hex
    for _ in range(3):
        ratelimit.hit("3/minute", "test", key)
    with pytest.raises(RateLimited) as info:
        ratelimit.hit("3/minute", "test", key)
    assert 0 < int(info.value.headers["Retry-After"]) <= 60
    ratelimit.hit("3/minute", "test", uuid.uuid4().hex)  # another key is not affected


@pytest.fixture
def private_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateRedis]:
    """The app's rate limits in a Redis of this test's own."""
    server = PrivateRedis(tmp_path)
    server.start()
    monkeypatch.setenv("LIANYUN_REDIS_URL", server.url)
    get_settings.cache_clear()
    yield server
    get_settings.cache_clear()
    server.stop()


def test_redis_keys_hold_no_address_and_no_username(
    private_redis: PrivateRedis, app: FastAPI, session: Session
) -> None:
    address = "203.0.113.77"
    staff = make_staff(session, username="wangjianguo")
    client = TestClient(app, client=(address, 50000), raise_server_exceptions=False)
    token_url = "/api/v1/auth/token"
    assert (
        client.post(
            token_url, data={"username": staff.username, "password": DEFAULT_PASSWORD}
        ).status_code
        == 200
    )
    assert (  # after the success: a success forgets the failures per account and client
        client.post(
            token_url, data={"username": staff.username, "password": "wrong-password"}
        ).status_code
        == 401
    )
    lookup = {"id_number": "511923195203220271", "name": "徐平"}
    assert client.post("/api/v1/subsidies/lookup", json=lookup).status_code == 404
    tip = {
        "category": "dibao",
        "village_code": SANGUANZHAI,
        "content": "村干部把低保给了自己的亲戚。",
    }
    assert client.post("/api/v1/tips", json=tip).status_code == 201
    assert client.post("/api/v1/tips/receipt", json={"receipt_code": "0" * 16}).status_code == 404

    keys = [key.decode() for key in private_redis.client().keys("*")]
    # per client: sign-in, lookup, tips, receipts; per account and client; per account; each
    # key names the limit it counts
    assert sorted(key.split("/")[1] for key in keys) == [
        "login-client",
        "login-failures",
        "login-failures-all",
        "subsidy-lookup",
        "tip-receipt",
        "tip-submit",
    ], keys
    for key in keys:
        for private in (address, address.replace(".", ""), staff.username):
            assert private not in key


class Blackhole:
    """A TCP listener that accepts connections and never answers: a Redis that times out."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.listener.settimeout(0.1)
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        self.accepted: list[socket.socket] = []
        self.open = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self.open:
            with contextlib.suppress(TimeoutError):
                self.accepted.append(self.listener.accept()[0])

    def close(self) -> None:
        self.open = False
        self.thread.join(timeout=5)
        for connection in self.accepted:
            connection.close()
        self.listener.close()


@pytest.fixture
def blackhole_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[Blackhole]:
    hole = Blackhole()
    monkeypatch.setenv("LIANYUN_REDIS_URL", hole.url)
    monkeypatch.setenv("LIANYUN_REDIS_RETRY_SECONDS", "2")
    get_settings.cache_clear()
    yield hole
    ratelimit.reset_outage()
    get_settings.cache_clear()
    hole.close()


def _fallback_gauge() -> float | None:
    return REGISTRY.get_sample_value("lianyun_rate_limit_fallback")


def _outage_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "Redis unreachable" in r.getMessage()]


def test_a_redis_that_does_not_answer_is_tried_by_one_request_at_a_time(
    blackhole_redis: Blackhole, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING"):
        ratelimit.hit("100/minute", "test", "first")  # meets the outage: one connection only
        assert len(blackhole_redis.accepted) == 1
        wait_until(ratelimit.redis_retry_due, seconds=10, what="the time to try Redis again")

        start = threading.Barrier(20)
        failures: list[BaseException] = []

        def one_request(number: int) -> None:
            start.wait()
            try:
                ratelimit.hit("100/minute", "test", f"concurrent-{number}")
            except BaseException as error:
                failures.append(error)

        threads = [threading.Thread(target=one_request, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert failures == []  # every request was answered from memory
    assert len(blackhole_redis.accepted) == 2  # one of the twenty tried Redis again
    assert len(_outage_lines(caplog)) == 1
    assert _fallback_gauge() == 1


def test_a_tip_that_meets_the_outage_leaves_no_line_and_no_sample(
    blackhole_redis: Blackhole, caplog: pytest.LogCaptureFixture
) -> None:
    hits_before = REGISTRY.get_sample_value("lianyun_rate_limit_fallback_hits_total") or 0.0
    with caplog.at_level("DEBUG"):
        token = anonymous_var.set(True)
        try:
            ratelimit.hit("5/hour", "tip-submit", "a-tipster", private=True)
        finally:
            anonymous_var.reset(token)
        assert caplog.records == []
        assert _fallback_gauge() == 0
        assert REGISTRY.get_sample_value("lianyun_rate_limit_fallback_hits_total") == hits_before

        # the next other request tells the outage the tip found, and is counted
        ratelimit.hit("10/minute", "lookup", "a-villager")
    assert len(_outage_lines(caplog)) == 1
    assert _fallback_gauge() == 1
    assert len(blackhole_redis.accepted) == 1  # the villager did not wait for Redis again


def _on_utc(monkeypatch: pytest.MonkeyPatch, moment: str) -> None:
    """Makes it `moment` (UTC) for the keys of the rate limits; the counters keep real time."""
    real_gmtime = time.gmtime
    seconds = calendar.timegm(time.strptime(moment, "%Y-%m-%dT%H:%M:%S"))

    def gmtime(secs: float | None = None) -> time.struct_time:
        return real_gmtime(seconds if secs is None else secs)

    monkeypatch.setattr(time, "gmtime", gmtime)


def test_a_clients_count_holds_all_day_and_starts_afresh_the_next_utc_day(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _on_utc(monkeypatch, "2026-03-01T00:00:05")
    for _ in range(3):
        ratelimit.hit("3/day", "test", "203.0.113.7")
    _on_utc(monkeypatch, "2026-03-01T23:59:55")
    with pytest.raises(RateLimited):
        ratelimit.hit("3/day", "test", "203.0.113.7")
    _on_utc(monkeypatch, "2026-03-02T00:00:05")  # a new day: a new key, nothing counted yet
    ratelimit.hit("3/day", "test", "203.0.113.7")


def test_tip_limits_keep_only_a_count_in_redis_and_others_the_moments(
    private_redis: PrivateRedis,
) -> None:
    for _ in range(2):
        ratelimit.hit("5/hour", "tip-submit", "203.0.113.7", private=True)
        ratelimit.hit("10/minute", "subsidy-lookup", "203.0.113.7")
    redis = private_redis.client()
    keys = {key.decode().split("/")[1]: key for key in redis.keys("*")}
    assert set(keys) == {"tip-submit", "subsidy-lookup"}
    # a fixed window: a count and an expiry, no moment of any attempt
    assert redis.type(keys["tip-submit"]) == b"string"
    assert redis.get(keys["tip-submit"]) == b"2"
    # a moving window (the default) keeps the moment of each attempt, to count exactly
    assert redis.type(keys["subsidy-lookup"]) == b"list"
    assert redis.llen(keys["subsidy-lookup"]) == 2


def test_clear_forgets_the_attempts_counted_in_redis(private_redis: PrivateRedis) -> None:
    for _ in range(2):
        ratelimit.hit("2/minute", "login-failures", "wangjianguo")
    ratelimit.clear("2/minute", "login-failures", "wangjianguo")
    ratelimit.hit("2/minute", "login-failures", "wangjianguo")
    ratelimit.hit("2/minute", "login-failures", "wangjianguo")
    with pytest.raises(RateLimited):
        ratelimit.hit("2/minute", "login-failures", "wangjianguo")
    assert private_redis.client().keys("*")  # counted in Redis, not in this worker's memory


def _fallback_hits() -> float:
    return REGISTRY.get_sample_value("lianyun_rate_limit_fallback_hits_total") or 0.0


def test_an_outage_and_its_end_are_told_once_each_and_counting_goes_back_to_redis(
    private_redis: PrivateRedis,
    monkeypatch: pytest.MonkeyPatch,
    app: FastAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("LIANYUN_REDIS_RETRY_SECONDS", "0.001")  # each request tries Redis
    get_settings.cache_clear()
    client = TestClient(app, raise_server_exceptions=False)
    ratelimit.hit("10/minute", "test", "a-villager")
    assert client.get("/readyz").json()["redis"] == "ok"
    hits_before = _fallback_hits()
    private_redis.stop()

    with caplog.at_level("WARNING", logger="app.ratelimit"):
        ratelimit.hit("10/minute", "test", "a-villager")  # counted in memory
        ratelimit.hit("10/minute", "test", "a-villager")
        assert _fallback_gauge() == 1
        assert _fallback_hits() == hits_before + 2
        ready = client.get("/readyz").json()
        assert (ready["status"], ready["redis"]) == ("degraded", "unavailable")

        private_redis.start()
        ratelimit.hit("10/minute", "test", "a-villager")
        ratelimit.hit("10/minute", "test", "a-villager")
    assert [r.getMessage() for r in caplog.records if r.name == "app.ratelimit"] == [
        "rate limits: Redis unreachable (ConnectionError); counting in this worker's memory, "
        "sign-in refused; trying Redis again every 0.001 s",
        "rate limits: Redis answers again; counting in Redis",
    ]
    assert _fallback_gauge() == 0
    assert _fallback_hits() == hits_before + 2
    assert len(private_redis.client().keys("*")) == 1  # the new Redis counts again


@pytest.fixture
def refusing_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A Redis URL where nothing listens (connections refused at once), tried again after a
    millisecond: each request tries it."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setenv("LIANYUN_REDIS_URL", url)
    monkeypatch.setenv("LIANYUN_REDIS_RETRY_SECONDS", "0.001")
    get_settings.cache_clear()
    yield url
    ratelimit.reset_outage()
    get_settings.cache_clear()


def test_sign_in_is_refused_while_redis_is_away_and_lookups_go_on(
    refusing_redis: str, app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff = make_staff(session, username="wangjianguo")
    client = TestClient(app, raise_server_exceptions=False)
    refused = client.post(
        "/api/v1/auth/token", data={"username": staff.username, "password": DEFAULT_PASSWORD}
    )
    body = assert_problem(refused, 503, "rate_limit_unavailable")
    assert body["title"] == "登录暂时不可用"
    # Redis is tried again within a second: the least Retry-After there is
    assert body["detail"] == (
        "登录次数的计数服务暂时不可用，为防止密码被猜，登录暂停。请 1 秒后再试。"
    )
    assert refused.headers["Retry-After"] == "1"
    assert body["retry_after"] == 1

    # tried again in 5 minutes: come back then (give or take a stalled second)
    monkeypatch.setenv("LIANYUN_REDIS_RETRY_SECONDS", "300")
    get_settings.cache_clear()
    ratelimit.reset_outage()
    refused = client.post(
        "/api/v1/auth/token", data={"username": staff.username, "password": DEFAULT_PASSWORD}
    )
    retry_after = assert_problem(refused, 503, "rate_limit_unavailable")["retry_after"]
    assert 295 <= retry_after <= 300
    assert refused.headers["Retry-After"] == str(retry_after)
    lookup = {"id_number": "511923195203220271", "name": "徐平"}
    assert client.post("/api/v1/subsidies/lookup", json=lookup).status_code == 404


def test_each_client_has_a_budget_of_lookups_of_its_own(backend: str, app: FastAPI) -> None:
    lookup = {"id_number": "511923195203220271", "name": "徐平"}
    busy = TestClient(app, client=("203.0.113.7", 50000), raise_server_exceptions=False)
    statuses = [busy.post("/api/v1/subsidies/lookup", json=lookup).status_code for _ in range(11)]
    assert statuses == [404] * 10 + [429]
    other = TestClient(app, client=("203.0.113.8", 50000), raise_server_exceptions=False)
    assert other.post("/api/v1/subsidies/lookup", json=lookup).status_code == 404


def test_a_request_without_a_client_address_is_limited_not_refused(app: FastAPI) -> None:
    """A connection with no address (a Unix socket behind a proxy) counts under one key."""
    client = TestClient(app, client=None, raise_server_exceptions=False)  # type: ignore[arg-type]
    lookup = {"id_number": "511923195203220271", "name": "徐平"}
    statuses = [client.post("/api/v1/subsidies/lookup", json=lookup).status_code for _ in range(11)]
    assert statuses == [404] * 10 + [429]


def test_clearing_meets_a_dead_redis_as_a_hit_does(
    blackhole_redis: Blackhole, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING"):
        ratelimit.clear("5/minute", "login-failures", "wangjianguo")  # waits one timeout
        assert len(blackhole_redis.accepted) == 1
        ratelimit.hit("100/minute", "test", "a-villager")  # in memory, without waiting
        ratelimit.clear("5/minute", "login-failures", "wangjianguo")  # nor does this one
    assert len(blackhole_redis.accepted) == 1
    assert [r.getMessage() for r in _outage_lines(caplog)] == [
        "rate limits: Redis unreachable (TimeoutError); counting in this worker's memory, "
        "sign-in refused; trying Redis again every 2.0 s"
    ]


class FakeClock:
    """The wall clock the counters read (`time.time`), moved on by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 1_800_000_000.0
        monkeypatch.setattr(time, "time", lambda: self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_retry_after_counts_from_the_first_attempt_in_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock(monkeypatch)
    for _ in range(3):
        ratelimit.hit("3/minute", "test", "203.0.113.7")
    clock.advance(20)
    with pytest.raises(RateLimited) as moving:
        ratelimit.hit("3/minute", "test", "203.0.113.7")
    assert moving.value.headers["Retry-After"] == "40"

    for _ in range(5):
        ratelimit.hit("5/hour", "tip-submit", "203.0.113.7", private=True)
    clock.advance(600)
    with pytest.raises(RateLimited) as fixed:
        ratelimit.hit("5/hour", "tip-submit", "203.0.113.7", private=True)
    assert fixed.value.headers["Retry-After"] == "3000"


def test_while_redis_is_away_a_tips_count_in_memory_keeps_no_moments(
    refusing_redis: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fixed window in memory too: an hour after the first tip the count lapses whole, where
    a moving window would still hold the moments of the later four."""
    clock = FakeClock(monkeypatch)
    ratelimit.hit("5/hour", "tip-submit", "203.0.113.7", private=True)
    clock.advance(3000)
    for _ in range(4):
        ratelimit.hit("5/hour", "tip-submit", "203.0.113.7", private=True)
    clock.advance(601)
    for _ in range(5):
        ratelimit.hit("5/hour", "tip-submit", "203.0.113.7", private=True)
    with pytest.raises(RateLimited):
        ratelimit.hit("5/hour", "tip-submit", "203.0.113.7", private=True)


def test_while_redis_is_away_each_limit_and_client_counts_on_its_own(refusing_redis: str) -> None:
    for _ in range(10):
        ratelimit.hit("10/minute", "subsidy-lookup", "203.0.113.7")
    with pytest.raises(RateLimited):
        ratelimit.hit("10/minute", "subsidy-lookup", "203.0.113.7")
    ratelimit.hit("10/minute", "tip-receipt", "203.0.113.7")  # a budget of its own
    ratelimit.hit("10/minute", "subsidy-lookup", "203.0.113.8")  # another client


def test_a_slow_redis_holds_only_the_limits_own_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forty lookups meeting a Redis slow to answer wait on the rate limit's few threads; a
    sign-in or a tip (plain `def` routes, on the shared pool) still gets a thread at once."""
    monkeypatch.setenv("LIANYUN_REDIS_URL", "redis://127.0.0.1:1/0")
    get_settings.cache_clear()
    release = threading.Event()
    waiting: list[int] = []
    most = 0

    def slow_hit(rate: str, namespace: str, key: str, *, private: bool = False) -> None:
        nonlocal most
        waiting.append(1)
        most = max(most, len(waiting))
        release.wait(10)
        waiting.pop()

    monkeypatch.setattr(ratelimit, "hit", slow_hit)

    async def main() -> float:
        async with anyio.create_task_group() as lookups:
            for n in range(40):
                lookups.start_soon(ratelimit.hit_off_loop, "10/minute", "lookup", f"c{n}")
            await anyio.sleep(0.2)
            started = time.monotonic()
            await anyio.to_thread.run_sync(time.sleep, 0)  # another route's handler
            other_route_waited = time.monotonic() - started
            release.set()
        return other_route_waited

    try:
        other_route_waited = anyio.run(main)
    finally:
        get_settings.cache_clear()
    assert most == ratelimit.REDIS_THREADS
    assert other_route_waited < 1


def test_the_private_parts_of_limits_the_worker_memory_uses_are_still_there() -> None:
    """`_WorkerMemory` replaces `limits`' timer thread through its private parts: a release
    that renames them must fail here, not bring the thread back unseen."""
    from limits.storage import MemoryStorage

    assert callable(getattr(MemoryStorage, "_MemoryStorage__schedule_expiry", None))
    memory = ratelimit._WorkerMemory()
    limiter = ratelimit._limiter(memory)
    assert limiter.moving.hit(parse("1/minute"), "test", "moving")
    assert limiter.fixed.hit(parse("1/minute"), "test", "fixed")
    [moving_key] = memory.events
    assert memory.events[moving_key][0].expiry > time.time()
    assert len(memory.expirations) == len(memory.storage) == 1 and memory.locks


def test_a_worker_forgets_the_clients_whose_window_has_passed() -> None:
    """A worker meets thousands of phones a day: their counts go once their window has passed
    (limits' own sweep kept an entry for every client ever met and walked them all each time),
    a few hundred a call, while a client inside its window is still refused."""
    memory = ratelimit._WorkerMemory()
    limiter = ratelimit._limiter(memory)
    per_second = parse("1/second")
    for n in range(2000):
        limiter.moving.hit(per_second, "lookup", f"phone-{n}")
        limiter.fixed.hit(per_second, "tip", f"phone-{n}")
    time.sleep(per_second.get_expiry() + 0.1)
    memory._swept -= ratelimit._WorkerMemory.SWEEP_SECONDS  # the next pass is due
    assert limiter.moving.hit(per_second, "lookup", "still-counting")
    assert len(memory.events) > 1000  # one call looks at a chunk only: no long pause
    for _ in range(2000 // ratelimit._WorkerMemory.SWEEP_CHUNK + 1):
        limiter.moving.hit(parse("1000/second"), "other", "busy-phone")
    assert len(memory.events) <= 3 and len(memory.expirations) <= 1
    assert not limiter.moving.hit(per_second, "lookup", "still-counting")  # kept, and refused


def _worker_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[FakeClock, ratelimit._WorkerMemory, ratelimit.Limiter]:
    """A worker's memory of its own, on a clock the test moves on."""
    memory = ratelimit._WorkerMemory()
    return FakeClock(monkeypatch), memory, ratelimit._limiter(memory)


def _busy_phone(limiter: ratelimit.Limiter, *, calls: int) -> None:
    """Counts that are never refused: each lets the worker's memory forget a chunk."""
    for _ in range(calls):
        assert limiter.moving.hit(parse("1000/second"), "other", "busy-phone")


def test_a_worker_forgets_the_tippers_as_fast_when_they_outnumber_the_other_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tips count in fixed windows, lookups in moving ones: a pass goes on until both are
    looked at, a chunk of each a call, and a tipster inside the window is still refused."""
    clock, memory, limiter = _worker_memory(monkeypatch)
    per_hour = parse("1/hour")
    for n in range(2000):
        limiter.fixed.hit(per_hour, "tip-submit", f"phone-{n}")
    limiter.moving.hit(per_hour, "lookup", "a-villager")
    clock.advance(3600)
    assert limiter.fixed.hit(per_hour, "tip-submit", "still-counting")
    memory._swept -= ratelimit._WorkerMemory.SWEEP_SECONDS  # the next pass is due
    _busy_phone(limiter, calls=2000 // ratelimit._WorkerMemory.SWEEP_CHUNK + 1)
    # the tipster still counting, and the busy phone
    assert len(memory.expirations) == 1 and len(memory.events) == 1
    assert len(memory.locks) <= 2  # nothing kept for the clients forgotten
    assert not limiter.fixed.hit(per_hour, "tip-submit", "still-counting")


def test_a_count_cleared_while_the_worker_forgets_leaves_the_others_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sign-in that succeeds forgets its failures, maybe while a pass is under way that has
    yet to look at them: the pass goes on, and the counts still in their window hold."""
    clock, memory, limiter = _worker_memory(monkeypatch)
    failures = parse("1/minute")
    for n in range(600):
        limiter.moving.hit(failures, "login-failures", f"account-{n}")
    clock.advance(61)
    limiter.moving.hit(failures, "login-failures", "still-counting")
    memory._swept -= ratelimit._WorkerMemory.SWEEP_SECONDS
    _busy_phone(limiter, calls=1)  # the pass begins: a first chunk
    limiter.moving.clear(failures, "login-failures", "account-0")  # among the last looked at
    _busy_phone(limiter, calls=3)
    assert len(memory.events) == 2  # the count still in its window, and the busy phone
    assert not limiter.moving.hit(failures, "login-failures", "still-counting")


def test_a_worker_starts_a_pass_over_its_clients_at_most_once_a_sweep_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Forgetting costs the counting thread time: once a pass has looked at every client, the
    next waits for the interval, however many counts come in, then forgets what has lapsed."""
    clock, memory, limiter = _worker_memory(monkeypatch)
    per_second = parse("1/second")
    for n in range(600):
        limiter.moving.hit(per_second, "lookup", f"phone-{n}")
    clock.advance(2)  # every window has passed
    memory._moving, memory._fixed, memory._swept = [], [], time.monotonic()  # a pass ended
    _busy_phone(limiter, calls=600 // ratelimit._WorkerMemory.SWEEP_CHUNK + 1)
    assert len(memory.events) == 601  # not looked at again yet
    memory._swept -= ratelimit._WorkerMemory.SWEEP_SECONDS  # the interval has passed
    _busy_phone(limiter, calls=600 // ratelimit._WorkerMemory.SWEEP_CHUNK + 1)
    assert len(memory.events) == 1  # only the busy phone, still in its window
