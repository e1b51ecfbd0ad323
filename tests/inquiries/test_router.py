from io import BytesIO
from typing import Any

import pypdfium2
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader
from sqlalchemy.orm import Session

from app.config import get_settings
from app.inquiries.models import ItemState
from app.staff.models import Role
from tests.asserts import assert_problem
from tests.factories import FOLOU, HUANGLIU, SANGUANZHAI, XIXING, auth_headers, make_staff
from tests.inquiries.factories import days, item_data, make_item, make_meeting, meeting_data
from tests.onboarding.images import decode_qr

ADMIN = "/api/v1/admin"
PUBLIC = "/api/v1"


def _vote(client: TestClient, number: str, phone: str, resolved: bool = True) -> Any:
    body = {"device_token": f"phone-token-{phone:0>10}", "resolved": resolved}
    return client.post(f"{PUBLIC}/inquiries/{number}/confirmations", json=body)


def _pages(pdf: bytes) -> list[Image.Image]:
    document = pypdfium2.PdfDocument(pdf)
    return [page.render(scale=2).to_pil() for page in document]


def test_a_meeting_recorded_by_staff_is_followed_by_the_public_until_villagers_close_it(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    headers = auth_headers(officer)
    created = client.post(f"{ADMIN}/inquiry-meetings", json=meeting_data(), headers=headers)
    assert created.status_code == 201, created.text
    meeting_id = created.json()["id"]
    numbers = []
    for deadline in (days(-3), days(20)):  # one of them already overdue
        body = item_data(deadline=deadline.isoformat())
        added = client.post(
            f"{ADMIN}/inquiry-meetings/{meeting_id}/items", json=body, headers=headers
        )
        assert added.status_code == 201, added.text
        numbers.append(added.json()["number"])
    overdue, later = numbers
    assert (
        client.get(f"{PUBLIC}/inquiries", params={"village_code": SANGUANZHAI}).json()["total"] == 0
    )  # a draft meeting shows nothing
    published = client.post(f"{ADMIN}/inquiry-meetings/{meeting_id}/publish", headers=headers)
    assert published.status_code == 200 and published.json()["state"] == "published"

    board = client.get(f"{PUBLIC}/inquiries", params={"village_code": SANGUANZHAI}).json()
    assert [(i["number"], i["overdue"], i["days_overdue"]) for i in board["items"]] == [
        (overdue, True, 3),
        (later, False, 0),
    ]
    page = client.get(f"{PUBLIC}/inquiries/{later}").json()
    assert page["state_name"] == "已登记" and page["timeline"][0]["on"] == days(-30).isoformat()
    assert page["meeting"]["id"] == meeting_id and "responsible_staff_id" not in page

    for state in ("rectifying", "awaiting_confirmation"):
        moved = client.post(
            f"{ADMIN}/inquiries/{later}/state", json={"state": state}, headers=headers
        )
        assert moved.status_code == 200, moved.text
    refused = client.post(
        f"{ADMIN}/inquiries/{later}/state", json={"state": "closed"}, headers=headers
    )
    assert_problem(refused, 409, "confirmation_required")

    assert _vote(client, later, "1").status_code == 201
    assert_problem(_vote(client, later, "1"), 409, "inquiry_already_voted")
    # another "phone" from the same address: one address never makes up the number by itself
    alone = _vote(client, later, "2")
    assert_problem(alone, 429, "rate_limited")
    assert int(alone.headers["retry-after"]) > 24 * 3600
    with TestClient(app, client=("10.20.30.40", 50000)) as neighbour:
        assert _vote(neighbour, later, "2").status_code == 201
        closing = _vote(neighbour, later, "3")
    assert closing.status_code == 201 and closing.json()["state"] == "closed"
    assert "x-request-id" not in closing.headers  # a villager's vote leaves no trace in the log
    closed = client.get(f"{PUBLIC}/inquiries/{later}").json()
    assert closed["state_name"] == "已销号" and closed["closed_on"] == days(0).isoformat()

    pdf = client.get(f"{ADMIN}/inquiry-meetings/{meeting_id}/list.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert len(PdfReader(BytesIO(pdf.content)).pages) == 1
    urls = [code.text for image in _pages(pdf.content) for code in decode_qr(image)]
    base = get_settings().public_base_url.rstrip("/")
    assert sorted(urls) == sorted(f"{base}/inquiries/{n}" for n in numbers)


def test_a_long_list_prints_on_several_pages_each_code_readable(
    client: TestClient, session: Session
) -> None:
    commission = make_staff(session, role=Role.commission)
    meeting = make_meeting(session, commission)
    numbers = [
        make_item(session, commission, meeting_id=meeting.id, question="很长的问题。" * 60).number
        for _ in range(9)
    ]
    pdf = client.get(
        f"{ADMIN}/inquiry-meetings/{meeting.id}/list.pdf", headers=auth_headers(commission)
    )
    images = _pages(pdf.content)
    assert len(images) == 3
    decoded = [code.text.rsplit("/", 1)[1] for image in images for code in decode_qr(image)]
    assert decoded == numbers  # in order, none lost at a page break


def test_bad_input_is_a_chinese_problem_and_stores_nothing(
    client: TestClient, session: Session
) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    headers = auth_headers(officer)
    meeting = make_meeting(session, officer)
    url = f"{ADMIN}/inquiry-meetings/{meeting.id}/items"
    early = client.post(url, json=item_data(deadline=days(-40).isoformat()), headers=headers)
    assert_problem(early, 422, "inquiry_deadline_invalid")
    huge = client.post(url, json=item_data(question="问" * 1001), headers=headers)
    assert_problem(huge, 422, "validation_failed")
    future = client.post(
        f"{ADMIN}/inquiry-meetings",
        json=meeting_data(held_on=days(2).isoformat()),
        headers=headers,
    )
    assert_problem(future, 422, "inquiry_meeting_date_invalid")
    elsewhere = client.post(
        f"{ADMIN}/inquiry-meetings", json=meeting_data(village_code=HUANGLIU), headers=headers
    )
    assert_problem(elsewhere, 403, "forbidden")
    assert client.get(f"{PUBLIC}/inquiries").json()["total"] == 0

    item = make_item(session, officer, state=ItemState.rectifying)
    earlier = client.post(
        f"{ADMIN}/inquiries/{item.number}/extend",
        json={"deadline": days(1).isoformat(), "reason": "提前"},
        headers=headers,
    )
    assert_problem(earlier, 422, "inquiry_deadline_invalid")
    assert_problem(_vote(client, item.number, "1"), 422, "inquiry_voting_closed")
    assert_problem(client.get(f"{PUBLIC}/inquiries/WL-2026-9999"), 404, "inquiry_not_found")
    assert_problem(client.get(f"{PUBLIC}/inquiries/NOT-A-NUMBER"), 422, "validation_failed")
    xixing = make_staff(session, role=Role.township_officer, region_code=XIXING)
    assert_problem(
        client.get(f"{ADMIN}/inquiries/{item.number}", headers=auth_headers(xixing)),
        403,
        "forbidden",
    )
    after = client.get(f"{PUBLIC}/inquiries/{item.number}").json()
    assert after["deadline"] == item.deadline.isoformat() and after["state"] == "rectifying"


def test_meetings_and_stats_are_public(client: TestClient, session: Session) -> None:
    commission = make_staff(session, role=Role.commission)
    meeting = make_meeting(session, commission, kind="xunjian")
    make_meeting(session, commission, published=False)
    closed = make_item(session, commission, meeting_id=meeting.id, state=ItemState.closed)
    confirming = closed.timeline[-1]  # at a meeting held today
    listed = client.get(f"{PUBLIC}/inquiry-meetings", params={"village_code": SANGUANZHAI}).json()
    assert [m["held_on"] for m in listed["items"]] == [
        confirming.on.isoformat(),
        days(-30).isoformat(),
    ]
    assert listed["items"][1]["id"] == meeting.id and listed["items"][1]["kind_name"] == "村居巡检"
    read = client.get(f"{PUBLIC}/inquiry-meetings/{meeting.id}").json()
    assert [i["state"] for i in read["items"]] == ["closed"]
    stats = client.get(f"{PUBLIC}/inquiries/stats", params={"year": days(0).year}).json()
    folou = next(t for t in stats["townships"] if t["township_code"] == FOLOU)
    assert (folou["meetings"], folou["raised"], folou["closed"]) == (2, 1, 1)
    assert folou["on_time_rate"] is None and folou["funds_recovered"] == "0.00"
    assert stats["total"]["raised"] == 1


def test_due_soon_for_staff(client: TestClient, session: Session) -> None:
    commission = make_staff(session, role=Role.commission)
    soon = make_item(session, commission, deadline=days(2).isoformat())
    make_item(session, commission, deadline=days(10).isoformat())
    late = make_item(session, commission, state=ItemState.rectifying, deadline=days(-1).isoformat())
    due = client.get(
        f"{ADMIN}/inquiries/due", params={"within_days": 3}, headers=auth_headers(commission)
    ).json()
    assert [i["number"] for i in due["items"]] == [late.number, soon.number]
    assert_problem(client.get(f"{ADMIN}/inquiries/due"), 401, "authentication_required")
