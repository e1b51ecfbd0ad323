"""The mock 一卡通 payout platform (FEED.md v1): deterministic data, served by its own app."""

from app.mockfeed.app import create_mock_feed_app, serve_mock_feed
from app.mockfeed.generator import DemoPerson, FeedGenerator, MockFeedConfig, demo_persons

__all__ = [
    "DemoPerson",
    "FeedGenerator",
    "MockFeedConfig",
    "create_mock_feed_app",
    "demo_persons",
    "serve_mock_feed",
]
