"""The 问题清单 of a meeting for the village notice board: A4 pages (app.printing), one row per
item with a QR code that opens the item's public page, where villagers follow the rectification
and say whether it is fixed."""

from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from app import printing
from app.config import Settings
from app.inquiries import service
from app.inquiries.errors import MeetingStateInvalid
from app.inquiries.models import MeetingState
from app.inquiries.schemas import CATEGORY_NAMES, ItemBrief, MeetingRead
from app.onboarding.fonts import FontFace
from app.printing import GREY, INK, MARGIN, RED, RULE, WIDTH
from app.staff.models import Staff

HEADER_HEIGHT = 330
ROW_HEIGHT = 470
QR_SIDE = 380  # 4.8 cm: read from a metre away on a notice board
HINT = "扫码查看整改进展；整改完成后，请扫码说“已解决”还是“没解决”。"


def item_url(number: str, *, settings: Settings) -> str:
    """The item's page in the H5 app (app.web)."""
    return f"{settings.public_base_url.rstrip('/')}/inquiries/{number}"


def _header(draw: ImageDraw.ImageDraw, face: FontFace, meeting: MeetingRead) -> None:
    draw.text((MARGIN, 90), f"{meeting.kind_name}问题清单", font=face.at(84), fill=INK)
    line = f"{meeting.region_name}　{meeting.held_on.isoformat()}　{meeting.place}"
    draw.text((MARGIN, 210), line, font=face.at(40), fill=GREY)
    draw.line((MARGIN, HEADER_HEIGHT - 20, WIDTH - MARGIN, HEADER_HEIGHT - 20), fill=INK, width=4)


def _row(
    page: Image.Image, face: FontFace, item: ItemBrief, top: int, *, settings: Settings
) -> None:
    draw = ImageDraw.Draw(page)
    text_width = WIDTH - 2 * MARGIN - QR_SIDE - 40
    draw.text((MARGIN, top + 20), item.number, font=face.at(50), fill=INK)
    status = f"{item.state_name}　限 {item.deadline.isoformat()} 前"
    if item.overdue:
        status += f"　已逾期 {item.days_overdue} 天"
    draw.text((MARGIN + 430, top + 28), status, font=face.at(38), fill=RED)
    body = face.at(40)
    y = top + 100
    for line in printing.wrap(draw, item.question, body, text_width, lines=4):
        draw.text((MARGIN, y), line, font=body, fill=INK)
        y += 56
    small = face.at(34)
    unit = f"{CATEGORY_NAMES.get(item.category, item.category)}　责任单位：{item.responsible_unit}"
    for line in printing.wrap(draw, unit, small, text_width, lines=1):
        draw.text((MARGIN, top + ROW_HEIGHT - 80), line, font=small, fill=GREY)
    code = printing.qr_code(item_url(item.number, settings=settings), QR_SIDE)
    left = WIDTH - MARGIN - code.width
    page.paste(code, (left, top + (ROW_HEIGHT - code.height) // 2))
    draw.line((MARGIN, top + ROW_HEIGHT, WIDTH - MARGIN, top + ROW_HEIGHT), fill=RULE, width=2)


def meeting_list(session: Session, meeting_id: int, *, staff: Staff, settings: Settings) -> bytes:
    """The printed list of a published meeting (a draft's codes would open nothing yet)."""
    meeting = service.get_meeting_admin(session, meeting_id, staff=staff)
    if meeting.state != MeetingState.published:
        raise MeetingStateInvalid("会议公开以后才能打印问题清单：草稿上的二维码还打不开。")
    return item_list(meeting, settings=settings)


def item_list(meeting: MeetingRead, *, settings: Settings) -> bytes:
    """The PDF; a meeting without items gets one page that says so."""
    face = printing.face(settings)
    pages: list[Image.Image] = []
    page, top = None, 0
    for item in meeting.items:
        if page is None or top + ROW_HEIGHT > printing.FOOTER_TOP - 20:
            page, draw = printing.new_page()
            pages.append(page)
            top = MARGIN
            if len(pages) == 1:
                _header(draw, face, meeting)
                top = HEADER_HEIGHT
        _row(page, face, item, top, settings=settings)
        top += ROW_HEIGHT
    if not pages:
        page, draw = printing.new_page()
        _header(draw, face, meeting)
        draw.text(
            (MARGIN, HEADER_HEIGHT + 40), "这次会议没有登记问题。", font=face.at(44), fill=INK
        )
        pages.append(page)
    for number, each in enumerate(pages, start=1):
        printing.footer(ImageDraw.Draw(each), face, HINT, number, len(pages))
    return printing.pdf(pages, title=f"{meeting.kind_name}问题清单")
