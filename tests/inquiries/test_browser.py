"""The 问题清单 as a villager meets it: printed from a real `lianyun serve`, its QR codes decoded
from the PDF and opened in a real headless Chromium 360 px wide; three phones say "已解决" and
the item is closed. Screenshots go to var/artifacts/inquiries/."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pypdfium2
import pytest
from playwright.sync_api import Page, Playwright

from tests.factories import FOLOU
from tests.inquiries.factories import days, item_data, meeting_data
from tests.onboarding.factories import ANDROID_CHROME, ANDROID_WECHAT
from tests.onboarding.images import decode_qr
from tests.onboarding.test_browser import WIDTH, _phone, playwright  # noqa: F401 (a fixture)
from tests.serving import lianyun, serving

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "artifacts" / "inquiries"
PASSWORD = "inquiry-officer-password-1"


@dataclass(frozen=True)
class Board:
    base: str
    headers: dict[str, str]
    overdue_url: str  # decoded from the printed list
    waiting_url: str


@pytest.fixture(scope="module")
def board(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Board]:
    log = tmp_path_factory.mktemp("inquiries-server") / "server.log"
    # each phone on its own network (X-Forwarded-For from the local "proxy" is believed): one
    # address alone never makes up the villagers' number
    with serving(module_database_url, log, LIANYUN_FORWARDED_ALLOW_IPS="127.0.0.1") as base:
        env = {
            **os.environ,
            "LIANYUN_DATABASE_URL": module_database_url,
            "LIANYUN_STAFF_PASSWORD": PASSWORD,
        }
        lianyun(
            env,
            "create-staff",
            "--username",
            "folou",
            "--role",
            "township_officer",
            "--region",
            FOLOU,
        )
        login = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": "folou", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        admin = f"{base}/api/v1/admin"
        meeting = httpx.post(f"{admin}/inquiry-meetings", json=meeting_data(), headers=headers)
        assert meeting.status_code == 201, meeting.text
        meeting_id = meeting.json()["id"]
        numbers = []
        for deadline in (days(-4), days(15)):
            added = httpx.post(
                f"{admin}/inquiry-meetings/{meeting_id}/items",
                json=item_data(deadline=deadline.isoformat()),
                headers=headers,
            )
            numbers.append(added.json()["number"])
        httpx.post(f"{admin}/inquiry-meetings/{meeting_id}/publish", headers=headers)
        for state in ("rectifying", "awaiting_confirmation"):
            httpx.post(
                f"{admin}/inquiries/{numbers[1]}/state", json={"state": state}, headers=headers
            )
        pdf = httpx.get(f"{admin}/inquiry-meetings/{meeting_id}/list.pdf", headers=headers)
        document = pypdfium2.PdfDocument(pdf.content)
        urls = sorted(
            code.text for page in document for code in decode_qr(page.render(scale=2).to_pil())
        )
        document.close()
        assert urls == sorted(f"{base}/inquiries/{n}" for n in numbers)
        yield Board(
            base, headers, f"{base}/inquiries/{numbers[0]}", f"{base}/inquiries/{numbers[1]}"
        )


def _open(
    playwright: Playwright,  # noqa: F811
    tmp_path: Path,
    url: str,
    *,
    agent: str,
    name: str,
    address: str = "10.0.0.1",
) -> Page:
    context = _phone(playwright, tmp_path / name, agent)
    context.set_extra_http_headers({"X-Forwarded-For": address})
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(url)
    assert response is not None and response.status == 200
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    for selector in ("body", "#question", "#timeline li"):
        size = page.locator(selector).first.evaluate("e => getComputedStyle(e).fontSize")
        assert float(size.removesuffix("px")) >= 16, f"{selector}: {size}"
    assert all(each.startswith(url.split("/inquiries/")[0]) for each in requested)  # self-contained
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    return page


def test_the_overdue_item_says_so_and_offers_no_vote(
    playwright: Playwright,  # noqa: F811
    board: Board,
    tmp_path: Path,
) -> None:
    page = _open(playwright, tmp_path, board.overdue_url, agent=ANDROID_WECHAT, name="overdue")
    assert "已逾期 4 天" in page.locator("#state").inner_text()
    assert page.locator("#vote").count() == 0
    assert "佛楼镇民政办" in page.inner_text("main")
    page.context.close()


def test_three_phones_tap_fixed_and_the_item_is_closed(
    playwright: Playwright,  # noqa: F811
    board: Board,
    tmp_path: Path,
) -> None:
    for phone in range(3):
        page = _open(
            playwright,
            tmp_path,
            board.waiting_url,
            agent=ANDROID_CHROME,
            name=f"phone-{phone}",
            address=f"10.0.0.{phone + 1}",
        )
        button = page.locator("#resolved")
        box = button.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 300
        button.click()
        page.wait_for_load_state()
        assert "谢谢" in page.locator("#message").inner_text()
        if phone == 2:
            assert page.locator("#state").inner_text().startswith("已销号")
            page.screenshot(path=str(ARTIFACTS / "closed.png"), full_page=True)
        else:
            assert page.locator("#state").inner_text().startswith("待群众确认")
        if phone < 2:  # the same phone again: refused, in Chinese
            page.goto(board.waiting_url)
            page.locator("#resolved").click()
            page.wait_for_load_state()
            assert "只能投一次" in page.locator("#message").inner_text()
        page.context.close()
    closed = httpx.get(f"{board.base}/api/v1/inquiries/{board.waiting_url.rsplit('/', 1)[1]}")
    assert closed.json()["state"] == "closed"
