"""The H5 page behind a poster's QR code, and its 404: small, self-contained (inline CSS, no
external assets, nothing loaded from elsewhere), large text, readable on a 360 px wide phone,
on the base template of every page (app.pages)."""

from pathlib import Path

from app.config import Settings
from app.onboarding.models import Platform
from app.pages import environment

_templates = environment(Path(__file__).parent / "templates")


def platform_of(user_agent: str) -> Platform:
    """WeChat first: its in-app browser on Android and on iPhone both block downloads."""
    agent = user_agent.lower()
    if "micromessenger" in agent:
        return Platform.wechat
    if any(device in agent for device in ("iphone", "ipad", "ipod")):
        return Platform.ios
    if "android" in agent:
        return Platform.android
    return Platform.other


def _common(settings: Settings) -> dict[str, str]:
    return {"app_name": settings.app_name, "mini_program_name": settings.mini_program_name}


def landing(*, village_name: str, village_code: str, platform: Platform, settings: Settings) -> str:
    """Leads first into the H5 app's home of the village (app.web): nothing to install."""
    return _templates.get_template("landing.html").render(
        **_common(settings),
        village_name=village_name,
        village_code=village_code,
        platform=platform.value,
        apk_url=settings.android_apk_url,
        app_store_url=settings.ios_app_store_url,
        mini_program_url=settings.mini_program_url,
    )


def not_found(settings: Settings) -> str:
    return _templates.get_template("not_found.html").render(**_common(settings))
