"""The H5 app's pages as a plain client sees them: every page answers in Chinese, the forms are
POSTed, an answer with personal data is never cached, the anonymous pages set no cookie, and a
refusal is said in the API's own words."""

import gzip
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.contacts import service as contacts_service
from app.inquiries.models import ItemState
from app.policies import service as policies_service
from app.policies.models import Policy
from app.staff.models import Role
from app.subsidies import service
from app.surveys.models import SurveyState
from tests.factories import FOLOU, SANGUANZHAI, make_staff
from tests.inquiries.factories import make_item
from tests.onboarding.factories import ANDROID_WECHAT, IPHONE_SAFARI
from tests.subsidies.factories import ID_A, make_payout
from tests.surveys.factories import make_survey
from tests.web.factories import PNG, web_answers

NAME = "张秀英"
MONTH = f"/villages/{SANGUANZHAI}/2026-10"


@pytest.fixture
def village(session: Session) -> dict[str, str]:
    """A village with a month of payouts, its directory, a survey and an inquiry."""
    service.store_payouts(
        session,
        [
            make_payout(record_id="A-10", name=NAME),
            make_payout(record_id="A-9", name=NAME, period="2025-09", amount_fen=13000),
            make_payout(record_id="B-10", name="欧阳明华", id_number="511923198806150034"),
        ],
    )
    policies_service.import_policies(session)
    contacts_service.load_demo(session)
    admin = make_staff(session, role=Role.county_admin)
    survey = make_survey(session, admin, state=SurveyState.open)
    item = make_item(
        session, make_staff(session, role=Role.commission), state=ItemState.awaiting_confirmation
    )
    policy = session.scalars(select(Policy.id).order_by(Policy.id).limit(1)).one()
    return {"survey": str(survey.id), "inquiry": item.number, "policy": str(policy)}


def pages(village: dict[str, str]) -> list[str]:
    return [
        "/",
        f"/?township={FOLOU}",
        f"/?village={SANGUANZHAI}",
        "/lookup",
        "/policies",
        "/policies?q=低保",
        f"/policies/{village['policy']}",
        f"/villages/{SANGUANZHAI}",
        MONTH,
        f"{MONTH}/objections?line=A-10",
        "/tips/new",
        f"/tips/new?village={SANGUANZHAI}",
        "/tips/receipt",
        f"/surveys/{village['survey']}",
        "/inquiries",
        f"/inquiries/{village['inquiry']}",
    ]


def test_every_page_is_chinese_self_contained_and_small(
    client: TestClient, village: dict[str, str]
) -> None:
    for path in pages(village):
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert '<html lang="zh-CN"' in page.text
        assert not re.search(r'(src|href)="(https?:)?//', page.text), path  # nothing elsewhere
        assert len(gzip.compress(page.content)) <= 30 * 1024, path


def test_the_village_home_leads_everywhere_and_says_whom_to_call(
    client: TestClient, village: dict[str, str]
) -> None:
    home = client.get(f"/?village={SANGUANZHAI}").text
    assert "平昌县佛楼镇三官寨村" in home
    for link in ("/lookup", f"/villages/{SANGUANZHAI}/2026-10", "/policies", "/tips/new?village="):
        assert f'href="{link}' in home
    assert f'href="/surveys/{village["survey"]}"' in home
    assert "找谁监督" in home and 'href="tel:12388"' in home
    assert "（演示号码）" in home  # the made-up numbers say so
    assert client.get("/?village=511923103000").status_code == 404  # a township


def test_the_lookup_is_a_post_whose_answer_is_never_stored(
    client: TestClient, village: dict[str, str]
) -> None:
    form = client.get("/lookup")
    assert '<form method="post" action="/lookup"' in form.text
    answer = client.post("/lookup", data={"id_number": ID_A, "name": NAME})
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert "张*英" in answer.text and "511923********028X" in answer.text
    assert ID_A not in answer.text and NAME not in answer.text  # masked as the API's answer
    assert answer.text.count("<svg") == 2 and "2025年" in answer.text  # by category, by year
    assert "已发放合计 273 元" in answer.text  # 143 + 130


def test_a_refused_lookup_says_the_apis_words(client: TestClient, village: dict[str, str]) -> None:
    api = client.post("/api/v1/subsidies/lookup", json={"id_number": ID_A, "name": "王德胜"})
    page = client.post("/lookup", data={"id_number": ID_A, "name": "王德胜"})
    assert page.status_code == 404 and api.json()["detail"] in page.text
    bad_id = ID_A[:-1] + "1"
    api = client.post("/api/v1/subsidies/lookup", json={"id_number": bad_id, "name": NAME})
    page = client.post("/lookup", data={"id_number": bad_id, "name": NAME})
    assert page.status_code == 422 and api.json()["detail"] in page.text
    assert page.headers["cache-control"] == "no-store"
    empty = client.post("/lookup", data={"id_number": "", "name": ""})
    assert empty.status_code == 422 and "身份证号：" in empty.text


def test_the_tip_page_sets_no_cookie_and_shows_the_code_once_as_text_and_picture(
    client: TestClient, village: dict[str, str]
) -> None:
    form = client.get("/tips/new")
    assert not form.cookies and "set-cookie" not in form.headers
    assert 'id="text-size"' not in form.text  # no switch: it would set a cookie
    tip = {"category": "dibao", "village_code": SANGUANZHAI, "content": "村干部把低保给了亲戚。"}
    done = client.post("/tips/new", data=tip, files={"attachments": ("a.png", PNG, "image/png")})
    assert done.status_code == 201 and "set-cookie" not in done.headers
    assert done.headers["cache-control"] == "no-store"
    code = re.search(r'id="receipt-code">(\d{4} \d{4} \d{4} \d{4})<', done.text)
    assert code is not None
    assert 'src="data:image/png;base64,' in done.text  # the picture is in the page
    status = client.post("/tips/receipt", data={"receipt_code": code[1]})
    assert status.status_code == 200 and "已提交，等待受理" in status.text
    assert "set-cookie" not in status.headers
    short = client.post("/tips/new", data={**tip, "content": "太短"})
    assert short.status_code == 422 and "举报内容：" in short.text and "太短" in short.text


def test_the_picture_of_a_code_is_a_download_except_in_wechat_which_blocks_them(
    client: TestClient, village: dict[str, str]
) -> None:
    tip = {"category": "dibao", "village_code": SANGUANZHAI, "content": "村干部把低保给了亲戚。"}
    browser = client.post("/tips/new", data=tip, headers={"User-Agent": IPHONE_SAFARI})
    assert 'download="huizhima.png"' in browser.text
    wechat = client.post("/tips/new", data=tip, headers={"User-Agent": ANDROID_WECHAT})
    assert wechat.status_code == 201 and 'id="receipt-image"' in wechat.text
    assert "download=" not in wechat.text and "长按下面的图片" in wechat.text


def test_an_objection_gives_a_receipt_code_and_no_cookie(
    client: TestClient, village: dict[str, str]
) -> None:
    month = client.get(MONTH).text
    assert f'href="{MONTH}/objections?line=A-10"' in month
    assert "张*英" in month and NAME not in month and ID_A not in month
    form = client.get(f"{MONTH}/objections?line=A-10")
    assert "set-cookie" not in form.headers
    done = client.post(f"{MONTH}/objections", data={"record_id": "A-10", "reason": "搬走了"})
    assert done.status_code == 201 and "set-cookie" not in done.headers
    assert re.search(r'id="receipt-code">\d{4} \d{4} \d{4} \d{4}<', done.text)
    unknown = client.post(f"{MONTH}/objections", data={"record_id": "Z-1"})
    assert unknown.status_code == 404


def test_a_survey_is_answered_once_per_phone(
    client: TestClient, session: Session, village: dict[str, str]
) -> None:
    from app.surveys import service as surveys_service

    survey = surveys_service.get_public_survey(session, int(village["survey"]))
    fields = {"device_token": "a" * 32, **web_answers(survey)}
    first = client.post(f"/surveys/{survey.id}", data=fields)
    assert first.status_code == 200 and "感谢您参加测评" in first.text
    again = client.post(f"/surveys/{survey.id}", data=fields)
    assert again.status_code == 409 and "每台手机只能提交一次" in again.text
    missing = client.post(f"/surveys/{survey.id}", data={"device_token": "b" * 32})
    assert missing.status_code == 422 and "必须回答" in missing.text


def test_the_large_text_switch_is_one_cookie_that_names_nobody(
    client: TestClient, village: dict[str, str]
) -> None:
    home = client.get("/lookup").text
    link = re.search(r'id="text-size" href="([^"]+)"', home)
    assert link is not None
    switched = client.get(link[1].replace("&amp;", "&"), follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/lookup"
    assert switched.cookies["lianyun_text"] == "big"
    assert '<html lang="zh-CN" class="big">' in client.get("/lookup").text
    away = client.get("/text-size?size=big&back=//evil.example", follow_redirects=False)
    assert away.headers["location"] == "/"


def test_old_inquiry_links_lead_to_the_app(client: TestClient, village: dict[str, str]) -> None:
    number = village["inquiry"]
    old = client.get(f"/wl/{number}", follow_redirects=False)
    assert old.status_code == 308 and old.headers["location"] == f"/inquiries/{number}"
    page = client.get(f"/wl/{number}")
    assert page.status_code == 200 and "已解决" in page.text
    board = client.get("/inquiries").text
    assert f'href="/inquiries/{number}"' in board


def test_wrong_addresses_get_the_chinese_page(client: TestClient, village: dict[str, str]) -> None:
    for path in (
        "/villages/abc",
        "/villages/511923103204/2026-13",
        "/policies/x",
        "/surveys/0",
        "/inquiries/WL-1",
        "/?village=999999999999",
    ):
        page = client.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html")
