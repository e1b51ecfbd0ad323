"""The sync against the real mock 一卡通 platform over real HTTP, faults and all."""

from decimal import Decimal

from sqlalchemy import func, select

from app.config import get_settings
from app.db.engines import session_scope
from app.mockfeed import FeedGenerator, MockFeedConfig, create_mock_feed_app
from app.mockfeed.anomalies import ground_truth
from app.servers import serving_in_thread
from app.subsidies.models import Payout
from app.sync import service
from app.sync.client import FeedClient
from app.sync.models import RejectedRecord


def _client(url: str, token: str) -> FeedClient:
    return FeedClient(url, token, max_attempts=5, backoff_initial=0.01, backoff_max=0.05)


def test_a_faulty_feed_syncs_every_good_record_once(committed_db: str) -> None:
    faulty = MockFeedConfig(token="t", persons=150, months=4, fault_rate=0.05)
    clean = FeedGenerator(MockFeedConfig(token="t", persons=150, months=4))
    latest: dict[str, int] = {}
    for record in clean.iter_records():
        record_id, version = str(record["record_id"]), record["version"]
        assert isinstance(version, int)
        latest[record_id] = max(version, latest.get(record_id, 0))

    with serving_in_thread(create_mock_feed_app(faulty)) as url:
        run = service.run_sync(
            get_settings(), trigger="cli", client=_client(url, "t"), page_size=97
        )
    assert run.outcome == "succeeded", run.error
    assert run.rejected > 0 and run.updated > 0 and run.unchanged > 0
    with session_scope()() as session:
        stored = dict(session.execute(select(Payout.record_id, Payout.version)).all())
        quarantined = session.scalar(select(func.count()).select_from(RejectedRecord))
    assert stored == latest  # every good record, at its highest version, exactly once
    assert quarantined == run.rejected


def test_resuming_after_the_platform_grows(committed_db: str) -> None:
    with serving_in_thread(
        create_mock_feed_app(MockFeedConfig(token="t", persons=80, months=2))
    ) as url:
        first = service.run_sync(get_settings(), trigger="cli", client=_client(url, "t"))
    with serving_in_thread(
        create_mock_feed_app(MockFeedConfig(token="t", persons=80, months=3))
    ) as url:
        second = service.run_sync(get_settings(), trigger="cli", client=_client(url, "t"))
    assert second.cursor_start == first.cursor_end
    assert second.created > 0
    with session_scope()() as session:
        periods = set(session.scalars(select(Payout.period).distinct()))
    assert len(periods) == 3


def test_a_feed_with_planted_anomalies_syncs_every_line_as_the_feed_has_it(
    committed_db: str,
) -> None:
    """What screening reads: the planted lines are stored as the feed sends them (a second
    village, an amount over the standard), none quarantined."""
    config = MockFeedConfig(token="t", persons=600, months=8, anomalies=0.01)
    generator = FeedGenerator(config)
    latest: dict[str, dict[str, object]] = {}
    for record in generator.iter_records():
        known = latest.get(str(record["record_id"]))
        if known is None or int(str(known["version"])) < int(str(record["version"])):
            latest[str(record["record_id"])] = record
    planted = {k for a in ground_truth(generator).planted for k in a.record_ids}
    assert planted

    with serving_in_thread(create_mock_feed_app(config)) as url:
        run = service.run_sync(get_settings(), trigger="cli", client=_client(url, "t"))
    assert run.outcome == "succeeded", run.error
    assert run.rejected == 0
    with session_scope()() as session:
        stored = {
            p.record_id: (p.version, p.village_code, p.amount_fen, p.status)
            for p in session.scalars(select(Payout))
        }
    assert stored == {
        k: (
            r["version"],
            r["village_code"],
            int(Decimal(str(r["amount"])) * 100),
            r["status"],
        )
        for k, r in latest.items()
    }
    assert all(stored[k][3] == "paid" for k in planted)
