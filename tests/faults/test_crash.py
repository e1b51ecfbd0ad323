"""A real `lianyun sync` process killed with SIGKILL at random points, then a clean run to the
end, against the mock 一卡通 platform over HTTP: the database ends as a clean sync into a fresh
one leaves it, nothing lost or doubled. The kill points come from a seeded RNG whose seed is
printed (LIANYUN_CRASH_SEED=… replays a run)."""

import os
import random
import signal
import subprocess
import sys
from typing import Any

from sqlalchemy import func, select

from app.db.engines import engine_for
from app.mockfeed import MockFeedConfig, create_mock_feed_app
from app.servers import serving_in_thread
from app.subsidies.models import Payout, PayoutVersion, Person
from app.sync.models import RejectedRecord, SyncLease, SyncRun
from tests.conftest import _TMP, server_url
from tests.databases import create_database, drop_database, unique_name
from tests.faults.test_lease import wait_for

KILLS = 3
# A sync child starts slowly on a loaded two-core machine (CI runs two test workers): the
# waits are for an event, not a measure of speed, so they may be long.
SLOW = 90.0


def ended(process: subprocess.Popen[bytes]) -> bool:
    """Whether the child is gone: a sync that stored the whole feed exits with 0 (falsy)."""
    return process.poll() is not None


FEED = MockFeedConfig(token="crash-token", persons=1000, months=4, fault_rate=0.05)


def sync_process(database_url: str, feed_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LIANYUN_DATABASE_URL": database_url,
        "LIANYUN_FEED_URL": feed_url,
        "LIANYUN_FEED_TOKEN": FEED.token,
        "LIANYUN_SYNC_LEASE_SECONDS": "2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app", "sync", "--limit", "20"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def prepared(database_url: str) -> str:
    env = {**os.environ, "LIANYUN_DATABASE_URL": database_url}
    for command in (["migrate"], ["import-regions"]):
        subprocess.run([sys.executable, "-m", "app", *command], env=env, check=True)
    return database_url


def lease_free(database_url: str) -> bool:
    with engine_for(database_url).connect() as connection:
        expires = connection.scalar(select(SyncLease.expires_at))
        running = connection.scalar(select(func.now()))
    return expires is None or expires.replace(tzinfo=None) < running.replace(tzinfo=None)


def run_count(database_url: str) -> int:
    with engine_for(database_url).connect() as connection:
        return connection.scalar(select(func.count()).select_from(SyncRun)) or 0


def line_count(database_url: str) -> int:
    with engine_for(database_url).connect() as connection:
        return connection.scalar(select(func.count()).select_from(Payout)) or 0


def contents(database_url: str) -> dict[str, Any]:
    with engine_for(database_url).connect() as connection:
        lines = connection.execute(
            select(
                Payout.record_id, Payout.version, Person.id_hash, Payout.amount_fen, Payout.status
            )
            .join(Person, Person.id == Payout.person_id)
            .order_by(Payout.record_id)
        ).all()
        history = connection.execute(
            select(PayoutVersion.record_id, PayoutVersion.version).order_by(
                PayoutVersion.record_id, PayoutVersion.version
            )
        ).all()
        rejected = connection.execute(
            select(
                RejectedRecord.record_id, RejectedRecord.version, RejectedRecord.reason
            ).order_by(RejectedRecord.record_id, RejectedRecord.reason)
        ).all()
        outcomes = connection.scalars(select(SyncRun.outcome)).all()
    return {
        "count": len(lines),
        "sum": sum(line.amount_fen for line in lines if line.status == "paid"),
        "lines": [tuple(line) for line in lines],
        "history": [tuple(row) for row in history],
        "rejected": [tuple(row) for row in rejected],
        "running": outcomes.count("running"),
    }


def test_syncs_killed_at_random_points_end_as_one_clean_sync(committed_db: str) -> None:
    seed = int(os.environ.get("LIANYUN_CRASH_SEED") or random.randrange(1 << 32))
    print(f"crash test seed: {seed} (LIANYUN_CRASH_SEED={seed} replays it)")
    rng = random.Random(seed)
    clean_url = prepared(create_database(server_url(), unique_name("lianyun_clean"), _TMP))
    try:
        with serving_in_thread(create_mock_feed_app(FEED)) as feed_url:
            for kill in range(KILLS):
                wait_for(lambda: lease_free(committed_db), seconds=SLOW)
                runs_before = run_count(committed_db)
                process = sync_process(committed_db, feed_url)
                # Once the run has begun (its row is there) and has stored a random number of
                # lines more (up to about a third of the feed), a random moment later: mostly
                # in the middle of a group of pages, sometimes before its first commit.
                wait_for(
                    lambda p=process, n=runs_before: run_count(committed_db) > n or ended(p),
                    seconds=SLOW,
                )
                target = line_count(committed_db) + rng.randrange(0, 500)
                wait_for(
                    lambda p=process, t=target: line_count(committed_db) >= t or ended(p),
                    seconds=SLOW,
                )
                try:
                    process.wait(rng.uniform(0.0, 0.3))
                except subprocess.TimeoutExpired:
                    process.send_signal(signal.SIGKILL)
                    process.wait()
                stored = contents(committed_db)["count"]
                print(f"kill {kill}: exit {process.returncode}, {stored} lines stored")
            wait_for(lambda: lease_free(committed_db), seconds=SLOW)
            assert sync_process(committed_db, feed_url).wait() == 0
            assert sync_process(clean_url, feed_url).wait() == 0
        crashed, clean = contents(committed_db), contents(clean_url)
        assert crashed["count"] == clean["count"] > 0
        assert crashed["sum"] == clean["sum"]
        assert crashed["lines"] == clean["lines"]  # the latest version of every record, once
        assert crashed["history"] == clean["history"]
        assert crashed["rejected"] == clean["rejected"]
        assert crashed["running"] == 0
    finally:
        engine_for(clean_url).dispose()
        drop_database(clean_url)
