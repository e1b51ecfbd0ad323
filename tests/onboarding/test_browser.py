"""The scan page in a real headless Chromium (Debian's, installed by scripts/system_packages),
as three phones see it at 360 px wide, served by a real `lianyun serve`. The URL each phone
opens is the one decoded from the printed poster. Screenshots go to var/artifacts/onboarding/."""

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from tests.factories import SANGUANZHAI
from tests.onboarding.factories import (
    ANDROID_CHROME,
    ANDROID_WECHAT,
    APK_URL,
    APP_STORE_URL,
    IPHONE_SAFARI,
    LINK_ENV,
)
from tests.onboarding.images import decode_qr, open_png
from tests.serving import lianyun, serving

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTH = 360
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "onboarding"
PASSWORD = "poster-admin-password-1"


@dataclass(frozen=True)
class Site:
    base: str
    log: Path
    headers: dict[str, str]
    code: str
    scanned_url: str  # decoded from the poster's QR code


@pytest.fixture(scope="module")
def site(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    log = tmp_path_factory.mktemp("onboarding-server") / "server.log"
    with serving(module_database_url, log, **LINK_ENV) as base:
        env = {
            **os.environ,
            "LIANYUN_DATABASE_URL": module_database_url,
            "LIANYUN_STAFF_PASSWORD": PASSWORD,
        }
        lianyun(env, "create-staff", "--username", "poster-admin", "--role", "county_admin")
        login = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": "poster-admin", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        created = httpx.post(
            f"{base}/api/v1/admin/posters",
            json={"village_code": SANGUANZHAI, "channel": "村务公开栏"},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        code = created.json()["code"]
        poster = httpx.get(f"{base}/api/v1/admin/posters/{code}/poster.png", headers=headers)
        (scanned,) = decode_qr(open_png(poster.content))
        assert scanned.text == f"{base}/i/{code}"
        yield Site(base, log, headers, code, scanned.text)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    assert CHROMIUM.exists(), "no Chromium: scripts/system_packages dev installs it"
    with sync_playwright() as p:
        yield p


def _phone(playwright: Playwright, profile: Path, user_agent: str) -> BrowserContext:
    """A fresh Chromium profile that looks like a phone 360 px wide."""
    return playwright.chromium.launch_persistent_context(
        profile,
        executable_path=str(CHROMIUM),
        headless=True,
        args=FLAGS,
        user_agent=user_agent,
        viewport={"width": WIDTH, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )


def _scans(site: Site) -> dict[str, int]:
    stats = httpx.get(f"{site.base}/api/v1/admin/posters/{site.code}/stats", headers=site.headers)
    totals: dict[str, int] = stats.json()["totals"]
    return totals


@contextmanager
def _visit(
    playwright: Playwright, site: Site, tmp_path: Path, user_agent: str, *, platform: str, name: str
) -> Iterator[Page]:
    """Opens the scanned URL as this phone and checks what every phone must get: Chinese, no
    sideways scroll at 360 px, text of 16 px or more, nothing loaded from elsewhere. Then takes
    a screenshot, and afterwards checks that the visit counted once, for `platform`, and that
    the user agent is nowhere in the server's log."""
    before = _scans(site)
    context = _phone(playwright, tmp_path / "profile", user_agent)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(site.scanned_url)
    assert response is not None and response.status == 200
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert "佛楼镇三官寨村" in page.locator("#village").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH  # no sideways scroll
    for selector in ("body", ".features li", "#mini-program p"):
        size = page.locator(selector).first.evaluate("e => getComputedStyle(e).fontSize")
        assert float(size.removesuffix("px")) >= 16, f"{selector}: {size}"
    assert all(url.startswith(site.base) for url in requested), requested  # self-contained
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot: {shot}")
    yield page
    context.close()
    after = _scans(site)
    assert after == {**before, platform: before[platform] + 1, "total": before["total"] + 1}
    log = site.log.read_text()
    assert "/i/{code}" in log  # the access line is there, with the route template only
    device = user_agent[user_agent.index("(") : user_agent.index(")") + 1]  # (Linux; Android…)
    assert user_agent not in log and device not in log


def test_android_chrome_gets_a_big_download_button(
    playwright: Playwright, site: Site, tmp_path: Path
) -> None:
    with _visit(
        playwright, site, tmp_path, ANDROID_CHROME, platform="android", name="android-chrome"
    ) as page:
        button = page.locator("#download-android")
        assert button.is_visible() and button.get_attribute("href") == APK_URL
        assert "下载安装" in button.inner_text()
        box = button.bounding_box()
        assert box is not None and box["width"] >= 300 and box["height"] >= 48
        assert box["y"] + box["height"] <= 740  # seen without scrolling
        assert button.evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 20
        assert page.locator("#download-ios").count() == 0
        assert page.locator("#open-in-browser").count() == 0


def test_iphone_safari_gets_the_app_store_link(
    playwright: Playwright, site: Site, tmp_path: Path
) -> None:
    with _visit(
        playwright, site, tmp_path, IPHONE_SAFARI, platform="ios", name="iphone-safari"
    ) as page:
        link = page.locator("#download-ios")
        assert link.is_visible() and link.get_attribute("href") == APP_STORE_URL
        assert "App Store" in link.inner_text()
        assert page.locator("#download-android").count() == 0


def test_wechat_says_to_open_the_page_in_the_browser(
    playwright: Playwright, site: Site, tmp_path: Path
) -> None:
    with _visit(
        playwright, site, tmp_path, ANDROID_WECHAT, platform="wechat", name="android-wechat"
    ) as page:
        prompt = page.locator("#open-in-browser")
        assert prompt.is_visible() and "点击右上角 ··· 选择在浏览器打开" in prompt.inner_text()
        box = prompt.bounding_box()
        assert box is not None and box["y"] < 400  # seen without scrolling
        assert "「廉韵平昌」" in page.locator("#mini-program").inner_text()
        assert page.locator("#download-android").count() == 0  # WeChat blocks downloads
    assert "MicroMessenger" not in site.log.read_text()


def test_the_qr_svg_drawn_by_chromium_scans_to_the_url(
    playwright: Playwright, site: Site, tmp_path: Path
) -> None:
    svg = httpx.get(f"{site.base}/api/v1/admin/posters/{site.code}/qr.svg", headers=site.headers)
    assert svg.status_code == 200
    context = _phone(playwright, tmp_path / "profile", ANDROID_CHROME)
    page = context.new_page()
    data = base64.b64encode(svg.content).decode()
    page.set_content(f'<img id="qr" src="data:image/svg+xml;base64,{data}" width="300">')
    shot = tmp_path / "qr-svg.png"
    page.locator("#qr").screenshot(path=str(shot))
    context.close()
    assert [code.text for code in decode_qr(open_png(shot.read_bytes()))] == [site.scanned_url]
