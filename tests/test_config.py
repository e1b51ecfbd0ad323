from pathlib import Path

import pytest

from app.config import ConfigError, load_settings

STRONG = "a-real-production-secret-0123456789abcdefgh"


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("LIANYUN_ENV", "production")
    for name in ("SECRET_KEY", "ID_PEPPER", "TIP_KEY"):
        monkeypatch.setenv(f"LIANYUN_{name}", STRONG + name)
    return monkeypatch


def test_production_starts_with_real_secrets(production: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.secret("id_pepper") == STRONG + "ID_PEPPER"


@pytest.mark.parametrize("name", ["SECRET_KEY", "ID_PEPPER", "TIP_KEY"])
def test_production_refuses_a_missing_secret(production: pytest.MonkeyPatch, name: str) -> None:
    production.delenv(f"LIANYUN_{name}")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert f"LIANYUN_{name}" in message
    assert "拒绝启动" in message and "refusing to start" in message


@pytest.mark.parametrize("value", ["changeme", "dev-abcdefghijklmnopqrstuvwxyz0123456789", "short"])
def test_production_refuses_a_development_value(production: pytest.MonkeyPatch, value: str) -> None:
    production.setenv("LIANYUN_SECRET_KEY", value)
    with pytest.raises(ConfigError, match="LIANYUN_SECRET_KEY"):
        load_settings()


def test_production_needs_a_feed_token_when_a_feed_is_set(
    production: pytest.MonkeyPatch,
) -> None:
    production.setenv("LIANYUN_FEED_URL", "https://feed.example.org")
    with pytest.raises(ConfigError, match="LIANYUN_FEED_TOKEN"):
        load_settings()


def test_development_generates_throwaway_secrets_that_persist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("SECRET_KEY", "ID_PEPPER", "TIP_KEY"):
        monkeypatch.delenv(f"LIANYUN_{name}", raising=False)
    monkeypatch.setenv("LIANYUN_DEV_SECRETS_FILE", str(tmp_path / "secrets.json"))
    first = load_settings()
    second = load_settings()
    key = first.secret("secret_key")
    assert key.startswith("dev-") and len(key) >= 40
    assert second.secret("secret_key") == key
    assert first.secret("id_pepper") != key
    assert (tmp_path / "secrets.json").stat().st_mode & 0o077 == 0
