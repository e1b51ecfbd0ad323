"""Meetings and items in the states a test needs, made through the service (so that every
rule of the domain holds for them); they flush, never commit."""

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app import public_writes
from app.config import get_settings
from app.inquiries import service
from app.inquiries.models import ItemState
from app.inquiries.schemas import (
    ConfirmationCreate,
    ItemAdminRead,
    ItemCreate,
    MeetingCreate,
    MeetingRead,
    StateChange,
    VoteCreate,
    VoteReceipt,
)
from app.staff.models import Role, Staff
from tests.factories import SANGUANZHAI, make_staff


def days(n: int) -> date:
    """Today in the county, plus `n` days."""
    return public_writes.today() + timedelta(days=n)


def meeting_data(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "wenlian",
        "village_code": SANGUANZHAI,
        "held_on": days(-30).isoformat(),
        "place": "三官寨村村委会院坝",
        "answered_by": "佛楼镇纪委、镇民政办、村党支部书记",
        "attendee_count": 86,
        "summary": "群众当面提问，相关单位现场答复。",
        **overrides,
    }


def item_data(**overrides: Any) -> dict[str, Any]:
    return {
        "question": "村里的低保评议没有开会，名单也没有公示。",
        "category": "dibao",
        "answer_on_site": "镇民政办一个月内重新评议并公示。",
        "responsible_unit": "佛楼镇民政办",
        "deadline": days(10).isoformat(),
        **overrides,
    }


def make_meeting(
    session: Session, actor: Staff, *, published: bool = True, **overrides: Any
) -> MeetingRead:
    meeting = service.create_meeting(
        session, data=MeetingCreate.model_validate(meeting_data(**overrides)), actor=actor
    )
    if published:
        meeting = service.publish_meeting(session, meeting.id, actor=actor)
    return meeting


def make_item(
    session: Session,
    actor: Staff,
    *,
    meeting_id: int | None = None,
    state: ItemState = ItemState.registered,
    **overrides: Any,
) -> ItemAdminRead:
    """An item of a published meeting (a new one unless given), moved on to `state` the way
    staff and villagers would."""
    settings = get_settings()
    if meeting_id is None:
        meeting_id = make_meeting(session, actor).id
    item = service.add_item(
        session,
        meeting_id,
        data=ItemCreate.model_validate(item_data(**overrides)),
        actor=actor,
        settings=settings,
    )
    path = {
        ItemState.registered: [],
        ItemState.rectifying: ["rectifying"],
        ItemState.awaiting_confirmation: ["rectifying", "awaiting_confirmation"],
        ItemState.closed: ["rectifying", "awaiting_confirmation", "closed"],
        ItemState.not_accepted: ["not_accepted"],
    }[state]
    for step in path:
        if step == "closed":  # representatives confirm it at a meeting held today
            later = make_meeting(session, actor, held_on=days(0).isoformat())
            item = service.record_confirmation(
                session,
                item.number,
                data=ConfirmationCreate(meeting_id=later.id, confirmed_by_count=12),
                actor=actor,
                settings=settings,
            )
            continue
        reason = None
        if step == "not_accepted":  # the commission's decision, never a township's
            actor = make_staff(session, role=Role.commission)
            reason = "应由县住建局负责，请到县政务服务中心反映。"
        item = service.change_state(
            session,
            item.number,
            data=StateChange.model_validate({"state": step, "reason": reason}),
            actor=actor,
            settings=settings,
        )
    return item


def vote(session: Session, number: str, phone: str, *, resolved: bool = True) -> VoteReceipt:
    """A phone's vote as the route takes it: its limits counted, then the vote."""
    service.count_vote(number, f"client-{phone}", settings=get_settings())
    return service.vote(
        session,
        number,
        data=VoteCreate(device_token=f"phone-token-{phone:0>10}", resolved=resolved),
        settings=get_settings(),
    )
