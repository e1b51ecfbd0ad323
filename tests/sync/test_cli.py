import pytest

from app.cli import main
from app.config import get_settings
from tests.sync.feed_server import TOKEN, TinyFeed, serving
from tests.sync.leases import acquire_lease
from tests.sync.test_service import record


@pytest.fixture
def feed_env(committed_db: str, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("LIANYUN_FEED_TOKEN", TOKEN)
    return monkeypatch


def test_sync_prints_a_summary_and_exits_zero(
    feed_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serving(TinyFeed([record(1), record(2), record(3, amount="0.00")])) as url:
        feed_env.setenv("LIANYUN_FEED_URL", url)
        get_settings.cache_clear()
        assert main(["sync"]) == 0
    out = capsys.readouterr().out
    assert "成功" in out and "取到 3 条" in out and "新增 2" in out and "隔离 1" in out


def test_sync_exits_nonzero_when_the_feed_fails(
    feed_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with serving(TinyFeed([record(1)])) as url:
        feed_env.setenv("LIANYUN_FEED_URL", url)
        feed_env.setenv("LIANYUN_FEED_TOKEN", "wrong-token")
        get_settings.cache_clear()
        assert main(["sync"]) == 1
    assert "401" in capsys.readouterr().out


def test_a_second_sync_while_one_runs_exits_with_a_clear_message(
    feed_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_env.setenv("LIANYUN_FEED_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    assert acquire_lease("the-running-one")
    assert main(["sync"]) == 3
    assert "另一个同步正在进行" in capsys.readouterr().err


def test_sync_without_a_feed_says_what_to_set(
    committed_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["sync"]) == 2
    assert "LIANYUN_FEED_URL" in capsys.readouterr().err
    monkeypatch.setenv("LIANYUN_FEED_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    assert main(["sync"]) == 2  # a URL without a token is caught before any request
    assert "LIANYUN_FEED_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("LIANYUN_FEED_URL", "127.0.0.1:9")
    monkeypatch.setenv("LIANYUN_FEED_TOKEN", "token")
    get_settings.cache_clear()
    assert main(["sync"]) == 2
    assert "http://" in capsys.readouterr().err
