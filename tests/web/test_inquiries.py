import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.inquiries import service
from app.inquiries.models import InquiryVote, ItemState
from app.inquiries.schemas import ProgressCreate
from app.staff.models import Role
from app.web.inquiries import PHONE_COOKIE, vote_key
from tests.factories import make_staff
from tests.inquiries.factories import make_item


def _key(page: str) -> str:
    found = re.search(r'name="key" value="(\w+)"', page)
    assert found is not None, "the page has no vote form"
    return found.group(1)


def test_the_item_page_reads_without_script_and_three_phones_close_it(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    officer = make_staff(session, role=Role.commission)
    item = make_item(session, officer, state=ItemState.awaiting_confirmation)
    page = client.get(f"/inquiries/{item.number}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert item.question in page.text and "待群众确认" in page.text and 'id="resolved"' in page.text
    assert len(page.cookies[PHONE_COOKIE]) == 32  # a random token for this phone, nothing else
    assert "清退资金" not in page.text  # none recovered: not shown as 0

    for phone in range(3):  # three phones, each on its own network
        with TestClient(app, client=(f"10.0.0.{phone + 1}", 50000)) as another_phone:
            opened = another_phone.get(f"/inquiries/{item.number}")
            vote = {"resolved": "1", "key": _key(opened.text)}
            voted = another_phone.post(f"/inquiries/{item.number}/votes", data=vote)
            assert voted.status_code == 200 and "谢谢" in voted.text
            assert "x-request-id" not in voted.headers
            if phone == 0:
                twice = another_phone.post(f"/inquiries/{item.number}/votes", data=vote)
                assert twice.status_code == 409 and "只能投一次" in twice.text
            if phone == 2:
                assert "已销号" in voted.text
                again = {"resolved": "0", "key": _key(voted.text)}
                voted_again = another_phone.post(f"/inquiries/{item.number}/votes", data=again)
                assert voted_again.status_code == 200  # a new round: it may now say not fixed
    tokens = session.scalars(select(InquiryVote.device_hash)).all()
    assert len(tokens) == 4 and all(len(t) == 64 for t in tokens)


def test_an_item_not_yet_public_is_a_chinese_404_page(client: TestClient, session: Session) -> None:
    officer = make_staff(session, role=Role.commission)
    item = make_item(session, officer)
    page = client.get(f"/inquiries/{item.number}")
    assert page.status_code == 200 and 'id="vote"' not in page.text  # nothing to vote on yet
    missing = client.get("/inquiries/WL-2026-9999")
    assert missing.status_code == 404 and "没有找到这个问题" in missing.text
    key = vote_key(item.number, client.cookies[PHONE_COOKIE], settings=get_settings())
    refused = client.post(f"/inquiries/{item.number}/votes", data={"resolved": "1", "key": key})
    assert refused.status_code == 422 and "整改完成" in refused.text


def test_funds_recovered_show_in_plain_yuan(client: TestClient, session: Session) -> None:
    officer = make_staff(session, role=Role.commission)
    item = make_item(session, officer)
    progress = ProgressCreate.model_validate({"text": "追回了。", "funds_recovered": "3200.50"})
    service.add_progress(
        session, item.number, data=progress, actor=officer, settings=get_settings()
    )
    assert "清退资金：</b>3200.5元" in client.get(f"/inquiries/{item.number}").text


def test_a_vote_counts_only_from_a_phone_that_opened_the_page(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    """A form on another site gets no cookie from the browser (SameSite) and cannot read the
    page's key: it casts nothing; neither does a phone sending another phone's key."""
    officer = make_staff(session, role=Role.commission)
    item = make_item(session, officer, state=ItemState.awaiting_confirmation)
    with TestClient(app) as forger:
        forged = forger.post(
            f"/inquiries/{item.number}/votes", data={"resolved": "1", "key": "0" * 32}
        )
        assert forged.status_code == 422 and "请先打开这个问题的页面" in forged.text
    key = _key(client.get(f"/inquiries/{item.number}").text)
    with TestClient(app) as other_phone:
        other_phone.get(f"/inquiries/{item.number}")
        stolen = other_phone.post(
            f"/inquiries/{item.number}/votes", data={"resolved": "1", "key": key}
        )
        assert stolen.status_code == 422
    assert session.scalars(select(InquiryVote)).all() == []
