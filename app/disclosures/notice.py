"""The month's 晒账 for the village notice board (村务公开栏): A4 pages (app.printing) with every
line of the month as the public list shows it (names masked, never an ID number), the totals by
category, and on every page a QR code that opens the same list in the H5 app (app.web), where
each line has its "这条不对"."""

from PIL import Image, ImageDraw
from sqlalchemy.orm import Session

from app import printing
from app.config import Settings
from app.disclosures import service
from app.disclosures.schemas import DisclosureList
from app.onboarding.fonts import FontFace
from app.printing import GREY, INK, MARGIN, RED, RULE, WIDTH
from app.schemas import yuan_text
from app.staff import service as staff_service
from app.staff.models import Staff

HEADER_HEIGHT = 420
QR_SIDE = 340
ROW_HEIGHT = 62
HINT = "扫码在手机上看本月清单；哪一条不对，点“这条不对”，可以匿名反映。"
COLUMNS = (MARGIN, MARGIN + 260, WIDTH - MARGIN - 420, WIDTH - MARGIN)  # 姓名 项目 金额|状态


def list_url(village_code: str, period: str, *, settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}/villages/{village_code}/{period}"


def _header(page: Image.Image, face: FontFace, month: DisclosureList, url: str) -> None:
    draw = ImageDraw.Draw(page)
    year, number = month.period.split("-")
    text_width = WIDTH - 2 * MARGIN - QR_SIDE - 30
    title = printing.wrap(draw, month.village, face.at(64), text_width, lines=2)
    y = 80
    for line in title:
        draw.text((MARGIN, y), line, font=face.at(64), fill=INK)
        y += 84
    draw.text(
        (MARGIN, y), f"{year}年{int(number)}月 惠民惠农补贴发放公示", font=face.at(48), fill=INK
    )
    draw.text(
        (MARGIN, y + 80),
        f"合计 {yuan_text(month.total)} 元，{len(month.items)} 笔（姓名已打码）",
        font=face.at(40),
        fill=RED,
    )
    page.paste(printing.qr_code(url, QR_SIDE), (WIDTH - MARGIN - QR_SIDE + 20, 50))
    draw.line((MARGIN, HEADER_HEIGHT - 20, WIDTH - MARGIN, HEADER_HEIGHT - 20), fill=INK, width=4)


def _line(
    draw: ImageDraw.ImageDraw, face: FontFace, top: int, cells: tuple[str, str, str, str]
) -> None:
    font = face.at(38)
    name, item, amount, state = cells
    draw.text((COLUMNS[0], top), name, font=font, fill=INK)
    for line in printing.wrap(draw, item, font, COLUMNS[2] - COLUMNS[1] - 20, lines=1):
        draw.text((COLUMNS[1], top), line, font=font, fill=INK)
    draw.text((COLUMNS[2] + 250, top), amount, font=font, fill=INK, anchor="ra")
    draw.text((COLUMNS[3], top), state, font=font, fill=GREY, anchor="ra")
    draw.line(
        (MARGIN, top + ROW_HEIGHT - 10, WIDTH - MARGIN, top + ROW_HEIGHT - 10), fill=RULE, width=1
    )


def notice(
    session: Session, village_code: str, *, period: str, staff: Staff, settings: Settings
) -> bytes:
    """The PDF of the month's list, for staff of a region holding the village (Forbidden
    otherwise; NotFound when the village has no such month)."""
    staff_service.check_region(staff, village_code)
    month = service.month_list(session, village_code, period=period, category=None)
    return render(month, settings=settings)


def render(month: DisclosureList, *, settings: Settings) -> bytes:
    face = printing.face(settings)
    url = list_url(month.village_code, month.period, settings=settings)
    rows: list[tuple[str, str, str, str]] = [
        (
            line.name_masked,
            line.item_name,
            f"{yuan_text(line.amount)} 元",
            "已追回" if line.status == "reversed" else "已发放",
        )
        for line in month.items
    ]
    rows.append(("", "", "", ""))
    rows.extend(
        ("", f"{total.category_name}（{total.count} 笔）", f"{yuan_text(total.total)} 元", "小计")
        for total in month.by_category
    )
    rows.append(("", "合计（不含已追回）", f"{yuan_text(month.total)} 元", ""))
    pages: list[Image.Image] = []
    top = printing.FOOTER_TOP
    for cells in rows:
        if top + ROW_HEIGHT > printing.FOOTER_TOP - 20:
            page, draw = printing.new_page()
            pages.append(page)
            _header(page, face, month, url)
            top = HEADER_HEIGHT
            _line(draw, face, top, ("姓名", "项目", "金额", "状态"))
            top += ROW_HEIGHT
        _line(draw, face, top, cells)
        top += ROW_HEIGHT
    for number, each in enumerate(pages, start=1):
        printing.footer(ImageDraw.Draw(each), face, HINT, number, len(pages))
    return printing.pdf(pages, title=f"{month.village}{month.period}惠民惠农补贴发放公示")
