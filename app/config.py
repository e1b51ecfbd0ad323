"""Configuration from `LIANYUN_` environment variables.

Development mode fills missing secrets with throw-away values kept in a local file (so that
several workers and restarts agree); production mode refuses to start without real ones.
"""

import json
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends
from pydantic import Field, HttpUrl, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_PREFIX = "dev-"
SECRET_FIELDS = ("secret_key", "id_pepper", "tip_key")
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "password", "test", "dev", "development"}
_MIN_SECRET_LENGTH = 32


class ConfigError(Exception):
    """The configuration cannot be used; the message names the variable, in Chinese and English."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIANYUN_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite:///./lianyun.db"
    redis_url: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Addresses of reverse proxies whose X-Forwarded-For is believed (comma-separated, or *);
    # unset: the client address is the connection's, so no header can dodge a rate limit.
    forwarded_allow_ips: str | None = None
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    secret_key: SecretStr | None = None
    id_pepper: SecretStr | None = None
    tip_key: SecretStr | None = None
    dev_secrets_file: Path = Path("var/dev-secrets.json")

    feed_url: str | None = None
    feed_token: SecretStr | None = None
    sync_cron: str = "0 2 * * *"
    # A feed page larger than this fails the run (the body is read no further).
    feed_max_page_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # A running sync renews its lease every sixth of this; a dead one's lapses after it.
    sync_lease_seconds: int = Field(default=30, ge=2, le=300)
    # A full screening of every line and rule (Asia/Shanghai): what incremental runs after the
    # syncs may have missed (a screening that failed) is found and withdrawn. Weekly by default.
    screening_full_cron: str = "0 4 * * sun"

    access_token_minutes: int = Field(default=15, ge=1, le=30)
    refresh_token_days: int = Field(default=14, ge=1, le=90)
    login_limit_per_account: str = "5/minute"
    login_limit_per_client: str = "20/minute"
    lookup_limit_per_client: str = "10/minute"

    staff_password: SecretStr | None = None

    # Onboarding: what the posters and the scan page (/i/{code}) show and link to.
    app_name: str = Field(default="廉韵平昌", min_length=1, max_length=12)
    android_apk_url: HttpUrl | None = None
    ios_app_store_url: HttpUrl | None = None
    mini_program_name: str = Field(default="廉韵平昌", min_length=1, max_length=30)
    mini_program_url: HttpUrl | None = None  # a WeChat URL Link that opens the mini-program
    # A font file with Chinese glyphs for the posters; unset: fonts-noto-cjk's, found at run time.
    poster_font: Path | None = None

    # Concluded or rejected tips are purged (content, messages, files) after this many days.
    tip_retention_days: int = Field(default=730, ge=1)

    # Sign-in attempts of one account, from all clients together (a success counts too; per
    # client and account, where a success forgets the failures: login_limit_per_account).
    login_limit_per_account_all_clients: str = "50/minute"
    # While Redis does not answer, rate limits count in each worker's memory; Redis is tried
    # again after this many seconds.
    redis_retry_seconds: float = Field(default=5.0, gt=0, le=300)

    # 阳光问廉: "已解决" votes from different phones that close an item awaiting confirmation
    # (and "没解决" votes that return or reopen it).
    inquiry_confirmations: int = Field(default=3, ge=1, le=100)
    # Votes on 阳光问廉 items from one client address (generous: a meeting may share one).
    inquiry_vote_limit_per_client: str = "30/minute"

    def secret(self, name: str) -> str:
        value = getattr(self, name)
        if value is None:
            raise ConfigError(f"缺少 LIANYUN_{name.upper()} / LIANYUN_{name.upper()} is not set")
        return str(value.get_secret_value())


def _is_weak(value: str) -> bool:
    return (
        value.strip().lower() in _PLACEHOLDERS
        or value.startswith(DEV_PREFIX)
        or len(value) < _MIN_SECRET_LENGTH
    )


def check_production(settings: Settings) -> None:
    """Raise ConfigError naming the first secret that is missing or a development value."""
    names = list(SECRET_FIELDS)
    if settings.feed_url:
        names.append("feed_token")
    for name in names:
        value = getattr(settings, name)
        variable = f"LIANYUN_{name.upper()}"
        if value is None:
            raise ConfigError(
                f"生产模式下必须设置 {variable}，服务拒绝启动。\n"
                f"Production mode: {variable} is not set; refusing to start."
            )
        if _is_weak(value.get_secret_value()):
            raise ConfigError(
                f"生产模式下 {variable} 不能使用开发用的值或过短的值"
                f"（至少 {_MIN_SECRET_LENGTH} 个字符），服务拒绝启动。\n"
                f"Production mode: {variable} is a development value or shorter than "
                f"{_MIN_SECRET_LENGTH} characters; refusing to start."
            )


def _fill_dev_secrets(settings: Settings) -> None:
    missing = [name for name in SECRET_FIELDS if getattr(settings, name) is None]
    if not missing:
        return
    path = settings.dev_secrets_file
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    for name in missing:
        stored.setdefault(name, DEV_PREFIX + secrets.token_urlsafe(32))
        setattr(settings, name, SecretStr(stored[name]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2))
    path.chmod(0o600)


def load_settings() -> Settings:
    settings = Settings()
    if settings.env == "production":
        check_production(settings)
    else:
        _fill_dev_secrets(settings)
    return settings


@lru_cache
def get_settings() -> Settings:
    return load_settings()


async def settings_dependency() -> Settings:
    """`get_settings` for FastAPI: a plain function would cost each request a thread hop."""
    return get_settings()


SettingsDep = Annotated[Settings, Depends(settings_dependency)]
