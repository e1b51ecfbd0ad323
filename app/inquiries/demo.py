"""A realistic year of 阳光问廉 for `lianyun demo`: 8 meetings in the seeds' townships and 40
items in every state, some overdue, one extended, one reopened; and a meeting of last year
whose items are not all done (one overdue), for the stats' earlier_open and earlier_overdue.
Made through the service (so every rule holds), then dated back to when each step would have
happened. Loaded once."""

import functools
import io
from dataclasses import dataclass
from datetime import date, timedelta

from PIL import Image, ImageDraw
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import public_writes
from app.config import Settings
from app.inquiries import service
from app.inquiries.models import InquiryItem, InquiryMeeting, ItemState
from app.inquiries.schemas import (
    ConfirmationCreate,
    ExtensionCreate,
    ItemCreate,
    MeetingCreate,
    ProgressCreate,
    StateChange,
    VoteCreate,
)
from app.regions import service as regions_service
from app.staff.models import Staff
from app.uploads import Upload


@dataclass(frozen=True)
class _Meeting:
    township: str
    village: str  # "" for a township-wide meeting
    kind: str
    days_ago: int
    place: str
    answered_by: str
    attendees: int
    last_year: bool = False  # held on 15 October of last year (days_ago unused)

    def held_on(self, today: date) -> date:
        if self.last_year:
            return date(today.year - 1, 10, 15)
        return today - timedelta(days=self.days_ago)


@dataclass(frozen=True)
class _Item:
    question: str
    category: str
    answer: str
    unit: str
    days_to_fix: int


MEETINGS = (
    _Meeting(
        "佛楼镇",
        "三官寨村",
        "wenlian",
        300,
        "三官寨村村委会院坝",
        "佛楼镇纪委、镇民政办、镇农业服务中心、村党支部书记",
        126,
    ),
    _Meeting(
        "西兴镇",
        "黄柳村",
        "wenlian",
        250,
        "黄柳村党群服务中心",
        "西兴镇纪委、镇社保所、镇村建办、村委会主任",
        98,
    ),
    _Meeting(
        "白衣镇",
        "大梁社区",
        "xunjian",
        210,
        "大梁社区便民服务室",
        "县纪委监委第二监督检查室、白衣镇纪委",
        41,
    ),
    _Meeting(
        "大寨镇",
        "",
        "shuzhi",
        170,
        "大寨镇政府三楼会议室",
        "大寨镇各村党支部书记（述职）、镇纪委",
        64,
    ),
    _Meeting(
        "佛楼镇", "三官寨村", "xunjian", 120, "三官寨村三组晒坝", "佛楼镇纪委、村务监督委员会", 37
    ),
    _Meeting(
        "西兴镇",
        "黄柳村",
        "shuzhi",
        75,
        "西兴镇便民服务中心",
        "黄柳村党支部书记、村委会主任（述职）、镇纪委",
        52,
    ),
    _Meeting(
        "白衣镇",
        "大梁社区",
        "wenlian",
        40,
        "大梁社区居委会院坝",
        "白衣镇纪委、镇民政办、镇财政所、村党支部书记",
        143,
    ),
    _Meeting(
        "佛楼镇",
        "三官寨村",
        "wenlian",
        12,
        "三官寨村村委会院坝",
        "佛楼镇纪委、镇民政办、镇村建办、村党支部书记",
        109,
    ),
    _Meeting(
        "西兴镇",
        "黄柳村",
        "wenlian",
        0,
        "黄柳村党群服务中心",
        "西兴镇纪委、镇民政办、县水务局、村党支部书记",
        117,
        last_year=True,
    ),
)

ITEMS = (
    _Item(
        "今年低保评议没有开群众会，新名单也没有在公开栏贴出来。",
        "dibao",
        "镇民政办一个月内组织重新评议，并在村务公开栏公示7天。",
        "镇民政办",
        30,
    ),
    _Item(
        "我家去年耕地地力保护补贴少发了两亩地的钱。",
        "funds",
        "镇农业服务中心核对承包面积，少发的补发。",
        "镇农业服务中心",
        45,
    ),
    _Item(
        "到三组的通组公路硬化拖了一年还没完工，下雨天老人孩子出不了门。",
        "projects",
        "镇村建办督促施工方复工，年底前完工。",
        "镇村建办",
        90,
    ),
    _Item(
        "村里鱼塘承包给谁、一年多少钱，从来没有公开过。",
        "village_assets",
        "镇三资代理服务中心清查合同，在公开栏公布承包人和承包费。",
        "镇三资代理服务中心",
        30,
    ),
    _Item(
        "危房改造补助到账后，有村干部找农户收“跑路费”。",
        "funds",
        "镇纪委立即核查，查实的一律退还并追责。",
        "镇纪委",
        30,
    ),
    _Item(
        "我父亲的高龄津贴从三月起就没到账。",
        "funds",
        "镇民政办当天查发放名单，漏发的补发。",
        "镇民政办",
        15,
    ),
    _Item(
        "村里的饮水管子年年漏水，夏天一停就是好几天。",
        "projects",
        "镇村建办联系县水务局，更换主管道。",
        "县水务局",
        60,
    ),
    _Item(
        "村干部上班时间经常不在村委会，办事找不到人。",
        "conduct",
        "镇纪委督促落实坐班和值班制度，公布值班电话。",
        "镇纪委",
        20,
    ),
    _Item(
        "公益性岗位只安排了村干部的亲戚。",
        "conduct",
        "镇社保所复核岗位人员，不符合条件的清退并重新公开招聘。",
        "镇社保所",
        30,
    ),
    _Item(
        "产业扶持资金买的茶苗死了一大半，钱花到哪里去了？",
        "projects",
        "镇农业服务中心核查采购合同和验收记录，向群众公开。",
        "镇农业服务中心",
        45,
    ),
)

# What happens to the items of each meeting, in order (the item of the meeting with the same
# index in ITEMS, wrapping round).
PLANS = (
    ("closed_votes", "closed_reps", "closed_votes", "not_accepted", "closed_reps"),
    ("closed_votes", "reopened", "closed_reps", "closed_votes", "closed_reps"),
    ("closed_reps", "closed_votes", "rectifying", "closed_votes", "not_accepted"),
    ("rectifying", "closed_reps", "extended", "closed_votes", "awaiting"),
    ("awaiting", "rectifying", "closed_votes", "registered", "rectifying"),
    ("closed_reps", "awaiting", "rectifying", "rectifying", "registered"),
    ("awaiting", "rectifying", "registered", "rectifying", "registered"),
    ("registered", "registered", "rectifying", "registered", "registered"),
    ("closed_reps", "rectifying", "extended", "awaiting", "closed_votes"),  # last year's
)
NOT_ACCEPTED = "这件事归县住房和城乡建设局管，镇上已转过去；您也可以打12345反映。"
FUNDS = (320000, 0, 0, 185000, 0)  # 清退资金 in fen, where the work recovered some


@functools.cache
def _scene(seed: int) -> Upload:
    """A drawn stand-in for a meeting photo: sky, hills, a red banner and rows of people, as
    wide as the app keeps a photo (drawn and shrunk, 53 of them took a quarter of the demo)."""
    image = Image.new("RGB", (service.PHOTO_WIDTH, service.PHOTO_WIDTH * 3 // 4), (170, 205, 235))
    draw = ImageDraw.Draw(image)

    def at(*xy: int) -> list[float]:  # drawn on a 1 600 × 1 200 plan
        return [v * service.PHOTO_WIDTH / 1600 for v in xy]

    draw.polygon(
        at(0, 700, 500, 420 + seed * 20, 1000, 640, 1600, 460, 1600, 1200, 0, 1200),
        fill=(95, 140, 80),
    )
    draw.rectangle(at(300, 260, 1300, 380), fill=(184, 35, 47))
    for row in range(4):
        for seat in range(14):
            x, y = 150 + seat * 95 + (row % 2) * 40, 760 + row * 100
            draw.ellipse(at(x, y, x + 50, y + 50), fill=(60 + row * 30, 50, 40))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return Upload("scene.jpg", "image/jpeg", out.getvalue())


def _place(session: Session, township: str, village: str) -> str | None:
    tree = regions_service.region_tree(session)
    for each in tree.townships:
        if each.name == township:
            if not village:
                return each.code
            named = [v for v in each.villages if v.name == village] or each.villages[:1]
            return named[0].code if named else None
    return None


def _unit(township: str, unit: str) -> str:
    """镇民政办 of 佛楼镇 → 佛楼镇民政办; a county unit stays as it is."""
    return township + unit.removeprefix("镇") if unit.startswith("镇") else unit


def _backdate(item: InquiryItem, on: date) -> None:
    """The last step of `item` happened on `on` (the service writes today)."""
    item.events[-1].happened_on = on
    if item.state == ItemState.awaiting_confirmation:
        item.rectified_on = on
    if item.closed_on is not None:
        item.closed_on = on


def _votes(session: Session, number: str, n: int, *, resolved: bool, settings: Settings) -> None:
    for phone in range(n):
        service.count_vote(number, f"demo-{number}-{resolved}-{phone}", settings=settings)
        service.vote(
            session,
            number,
            data=VoteCreate(
                device_token=f"demo-phone-{number}-{resolved}-{phone:04d}", resolved=resolved
            ),
            settings=settings,
        )


@dataclass(frozen=True)
class _Held:
    source: int  # its index in MEETINGS
    id: int
    region_code: str
    held_on: date


def _later_meeting(meetings: list[_Held], item: InquiryItem, done: date) -> _Held | None:
    """A meeting of the item's village or township held once the work was done."""
    places = (item.region_code, item.township_code)
    later = [m for m in meetings if m.region_code in places and m.held_on >= done]
    return min(later, key=lambda m: m.held_on, default=None)


def _follow(
    session: Session,
    number: str,
    plan: str,
    *,
    meetings: list[_Held],
    held: date,
    deadline: date,
    funds: int,
    actor: Staff,
    settings: Settings,
) -> None:
    today = public_writes.today()

    def step(on: date) -> InquiryItem:
        item = session.scalars(select(InquiryItem).where(InquiryItem.number == number)).one()
        _backdate(item, min(on, today))
        return item

    def state(to: str, on: date, reason: str | None = None) -> InquiryItem:
        change = StateChange.model_validate({"state": to, "reason": reason})
        service.change_state(session, number, data=change, actor=actor, settings=settings)
        return step(on)

    if plan == "registered":
        return
    if plan == "not_accepted":
        state("not_accepted", held + timedelta(days=3), NOT_ACCEPTED)
        return
    recovered = f"{funds // 100}.{funds % 100:02d}" if funds else None
    progress = ProgressCreate.model_validate(
        {"text": "责任单位已到村里核实，正在整改。", "progress": 40, "funds_recovered": recovered}
    )
    service.add_progress(
        session, number, data=progress, actor=actor, settings=settings, uploads=[_scene(3)]
    )
    step(held + timedelta(days=7))
    if plan == "extended":
        extension = ExtensionCreate(
            deadline=today + timedelta(days=40), reason="要等县里的专项资金下达后才能施工。"
        )
        service.extend_deadline(session, number, data=extension, actor=actor, settings=settings)
        step(deadline - timedelta(days=2))
        return
    if plan == "rectifying":
        return
    done = min(deadline - timedelta(days=8), today)
    item = state("awaiting_confirmation", done)
    if plan == "awaiting":
        _votes(session, number, 1, resolved=True, settings=settings)
        return
    meeting = _later_meeting(meetings, item, done) if plan == "closed_reps" else None
    if meeting is not None:
        confirmation = ConfirmationCreate(
            meeting_id=meeting.id, confirmed_by_count=15, note="会上群众代表举手确认。"
        )
        service.record_confirmation(
            session, number, data=confirmation, actor=actor, settings=settings
        )
        return
    _votes(session, number, settings.inquiry_confirmations, resolved=True, settings=settings)
    step(min(done + timedelta(days=5), today))
    if plan == "reopened":
        _votes(session, number, settings.inquiry_confirmations, resolved=False, settings=settings)
        step(min(done + timedelta(days=40), today))


def _meetings(session: Session, *, actor: Staff) -> list[_Held]:
    """The demo's meetings, published with their photos (a meeting not in the regions file is
    left out)."""
    today = public_writes.today()
    made = []
    for index, meeting in enumerate(MEETINGS):
        code = _place(session, meeting.township, meeting.village)
        if code is None:
            continue
        held = meeting.held_on(today)
        created = service.create_meeting(
            session,
            data=MeetingCreate(
                kind=meeting.kind,
                village_code=code,
                held_on=held,
                place=meeting.place,
                answered_by=meeting.answered_by,
                attendee_count=meeting.attendees,
                summary=f"{meeting.attendees}名群众到会，当面提出问题，相关单位现场答复，"
                "问题清单会后张贴在村务公开栏。",
            ),
            actor=actor,
        )
        service.add_meeting_photos(
            session, created.id, uploads=[_scene(index), _scene(index + 1)], actor=actor
        )
        service.publish_meeting(session, created.id, actor=actor)
        made.append(_Held(index, created.id, created.region_code, held))
    return made


def load_demo(session: Session, *, actor: Staff, settings: Settings) -> int:
    """The demo year; nothing when any meeting exists already. Returns the items made."""
    if session.scalar(select(func.count()).select_from(InquiryMeeting)):
        return 0
    meetings = _meetings(session, actor=actor)
    made = 0
    for meeting in meetings:
        index = meeting.source
        for slot, plan in enumerate(PLANS[index]):
            source = ITEMS[(index * 3 + slot) % len(ITEMS)]
            deadline = meeting.held_on + timedelta(days=source.days_to_fix)
            item = service.add_item(
                session,
                meeting.id,
                data=ItemCreate(
                    question=source.question,
                    category=source.category,
                    answer_on_site=source.answer,
                    responsible_unit=_unit(MEETINGS[index].township, source.unit),
                    deadline=deadline,
                ),
                actor=actor,
                settings=settings,
            )
            _follow(
                session,
                item.number,
                plan,
                meetings=meetings,
                held=meeting.held_on,
                deadline=deadline,
                funds=FUNDS[slot] if plan.startswith("closed") else 0,
                actor=actor,
                settings=settings,
            )
            made += 1
    return made
