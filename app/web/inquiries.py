"""阳光问廉 in the H5 app: the public board, and the page of an item, where the QR codes of the
printed 问题清单 lead (the old /wl/{number} addresses redirect here): readable without script,
and two big buttons (a plain form) to say whether it is fixed.

The phone is known by a random cookie (path /inquiries only), kept on the server only as a keyed
hash like every device token. A vote counts only from a phone that opened the page first: the
form carries a keyed hash of the item and that phone's cookie, so a form on another site (which
cannot read the cookie, and to which the browser does not send it) casts nothing."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import LianyunError
from app.inquiries import service
from app.inquiries.errors import InquiryNotFound
from app.inquiries.models import ItemState
from app.inquiries.schemas import ItemFilter, ItemRead, VoteCreate
from app.pagination import PageParams
from app.regions import service as regions_service
from app.schemas import yuan_text
from app.web.pages import NO_STORE, Reader, not_found, render

PHONE_COOKIE = "lianyun_phone"
PHONE_COOKIE_PATH = "/inquiries"
PHONE_COOKIE_SECONDS = 2 * 365 * 24 * 3600
NUMBER = r"^[Ww][Ll]-\d{4}-\d{4,6}$"
BOARD_SIZE = 20


@dataclass(frozen=True)
class Phone:
    token: str
    new: bool  # not yet in the browser's cookie: set it with the answer


def phone_of(cookie: str | None) -> Phone:
    if cookie and 16 <= len(cookie) <= 64 and cookie.isalnum():
        return Phone(cookie, new=False)
    return Phone(secrets.token_hex(16), new=True)


def vote_key(number: str, token: str, *, settings: Settings) -> str:
    """What the page's form carries: proof that this phone opened this item's page."""
    key = settings.secret("secret_key").encode()
    return hmac.new(key, f"wl:{number.upper()}:{token}".encode(), hashlib.sha256).hexdigest()[:32]


def board(
    session: Session, reader: Reader, *, village_code: str | None, page: int, settings: Settings
) -> HTMLResponse:
    """Open items first (the most overdue on top), of one village when it is given."""
    village = None
    if village_code is not None:
        region = regions_service.find_region(session, village_code)
        if region is None:
            return not_found(reader, settings, "没有这个村（社区）。")
        village = regions_service.full_name(region)
    items = service.list_items(
        session,
        filters=ItemFilter(village_code=village_code),
        page=PageParams(page=page, size=BOARD_SIZE),
    )
    return render(
        "inquiries.html",
        reader,
        settings,
        items=items,
        village=village,
        village_code=village_code,
        more=items.total > page * BOARD_SIZE,
    )


def _render(
    session: Session,
    item: ItemRead,
    phone: Phone,
    reader: Reader,
    *,
    settings: Settings,
    message: str | None,
    status: int,
) -> HTMLResponse:
    can_vote = item.state in (ItemState.awaiting_confirmation, ItemState.closed)
    page = render(
        "inquiry.html",
        reader,
        settings,
        status=status,
        no_store=True,
        item=item,
        meeting_photos=service.meeting_photos(session, item.meeting.id),
        funds=yuan_text(item.funds_recovered) if item.funds_recovered else None,
        vote_key=vote_key(item.number, phone.token, settings=settings),
        message=message,
        can_vote=can_vote,
    )
    if phone.new:
        page.set_cookie(
            PHONE_COOKIE,
            phone.token,
            max_age=PHONE_COOKIE_SECONDS,
            path=PHONE_COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=settings.public_base_url.startswith("https://"),
        )
    return page


def _not_found(reader: Reader, settings: Settings) -> HTMLResponse:
    page = not_found(
        reader,
        settings,
        "二维码可能印错了，或者这个问题还没有公开。请核对问题清单上的编号，或者问村里的廉政专干。",
        title="没有找到这个问题",
    )
    page.headers.update(NO_STORE)
    return page


def item_page(
    session: Session, number: str, reader: Reader, *, cookie: str | None, settings: Settings
) -> HTMLResponse:
    try:
        if not re.fullmatch(NUMBER, number):
            raise InquiryNotFound()
        item = service.get_item(session, number, settings=settings)
    except InquiryNotFound:
        return _not_found(reader, settings)
    return _render(
        session, item, phone_of(cookie), reader, settings=settings, message=None, status=200
    )


def vote_on_page(
    session: Session,
    number: str,
    reader: Reader,
    *,
    resolved: bool | None,
    key: str,
    cookie: str | None,
    client: str,
    settings: Settings,
) -> HTMLResponse:
    """The vote of the form, said on the page (a refusal too, in the problem's words)."""
    phone = phone_of(cookie)
    expected = vote_key(number, phone.token, settings=settings)
    status, message, headers = 200, "", {}
    if not re.fullmatch(NUMBER, number):
        return _not_found(reader, settings)
    try:
        if phone.new or not hmac.compare_digest(key, expected):
            status, message = 422, "请先打开这个问题的页面，再点“已解决”或“没解决”。"
        elif resolved is None:
            status, message = 422, "请点“已解决”或“没解决”。"
        else:
            vote = VoteCreate(device_token=phone.token, resolved=resolved)
            service.count_vote(number, client, settings=settings)
            message = service.vote(session, number, data=vote, settings=settings).message
        item = service.get_item(session, number, settings=settings)
    except InquiryNotFound:
        return _not_found(reader, settings)
    except LianyunError as error:
        status, message, headers = error.status, error.detail, error.headers
        item = service.get_item(session, number, settings=settings)
    page = _render(session, item, phone, reader, settings=settings, message=message, status=status)
    page.headers.update(headers)  # Retry-After, when it was too often
    return page
