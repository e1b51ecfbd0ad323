from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.inquiries import service
from app.inquiries.models import InquiryVote, ItemState
from app.inquiries.pages import PHONE_COOKIE
from app.inquiries.schemas import ProgressCreate
from app.staff.models import Role
from tests.factories import make_staff
from tests.inquiries.factories import make_item


def test_the_item_page_reads_without_script_and_three_phones_close_it(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    officer = make_staff(session, role=Role.commission)
    item = make_item(session, officer, state=ItemState.awaiting_confirmation)
    page = client.get(f"/wl/{item.number}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert item.question in page.text and "待群众确认" in page.text and 'id="resolved"' in page.text
    assert len(page.cookies[PHONE_COOKIE]) == 32  # a random token for this phone, nothing else
    assert "清退资金" not in page.text  # none recovered: not shown as 0

    for phone in range(3):
        with TestClient(app) as another_phone:
            another_phone.get(f"/wl/{item.number}")
            voted = another_phone.post(f"/wl/{item.number}/votes", data={"resolved": "1"})
            assert voted.status_code == 200 and "谢谢" in voted.text
            assert "x-request-id" not in voted.headers
            if phone == 2:
                assert "已销号" in voted.text
                again = another_phone.post(f"/wl/{item.number}/votes", data={"resolved": "0"})
                assert again.status_code == 200  # a new round: this phone may now say not fixed
                twice = another_phone.post(f"/wl/{item.number}/votes", data={"resolved": "0"})
                assert twice.status_code == 409 and "只能投一次" in twice.text
    tokens = session.scalars(select(InquiryVote.device_hash)).all()
    assert len(tokens) == 4 and all(len(t) == 64 for t in tokens)


def test_an_item_not_yet_public_is_a_chinese_404_page(client: TestClient, session: Session) -> None:
    officer = make_staff(session, role=Role.commission)
    item = make_item(session, officer)
    page = client.get(f"/wl/{item.number}")
    assert page.status_code == 200 and 'id="vote"' not in page.text  # nothing to vote on yet
    missing = client.get("/wl/WL-2026-9999")
    assert missing.status_code == 404 and "没有找到这个问题" in missing.text
    refused = client.post(f"/wl/{item.number}/votes", data={"resolved": "1"})
    assert refused.status_code == 422 and "整改完成" in refused.text


def test_funds_recovered_show_in_plain_yuan(client: TestClient, session: Session) -> None:
    officer = make_staff(session, role=Role.commission)
    item = make_item(session, officer)
    progress = ProgressCreate.model_validate({"text": "追回了。", "funds_recovered": "3200.50"})
    service.add_progress(
        session, item.number, data=progress, actor=officer, settings=get_settings()
    )
    assert "清退资金：</b>3200.5元" in client.get(f"/wl/{item.number}").text
