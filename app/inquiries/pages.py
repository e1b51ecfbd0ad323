"""The public page of an item, where its QR code on the printed 问题清单 leads: readable without
script, and two big buttons (a plain form) to say whether it is fixed. Built on the onboarding
pages' base template (one look for every page).

The phone is known by a random cookie, kept on the server only as a keyed hash like every device
token. A vote counts only from a phone that opened the page first: the form carries a keyed hash
of the item and that phone's cookie, so a form on another site (which cannot read the cookie,
and to which the browser does not send it) casts nothing."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import LianyunError
from app.inquiries import service
from app.inquiries.errors import InquiryNotFound
from app.inquiries.models import ItemState
from app.inquiries.schemas import ItemRead, VoteCreate
from app.schemas import yuan_text

PHONE_COOKIE = "lianyun_phone"
PHONE_COOKIE_SECONDS = 2 * 365 * 24 * 3600
_templates = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(Path(__file__).parent / "templates"),
            FileSystemLoader(Path(__file__).parents[1] / "onboarding" / "templates"),
        ]
    ),
    autoescape=True,
)
_STYLE = """
.state{text-align:center;font-size:22px;font-weight:bold;margin:4px 0 12px}
.state b{color:#b8232f}
.state.closed{color:#1d7a3a}
form .button{width:100%;border:0;cursor:pointer;font-family:inherit;min-height:56px}
form .button.plain{border:2px solid #b8232f}
.timeline{padding-left:22px}
.timeline li{margin:10px 0}
.photos img{width:100%;height:auto;border-radius:8px;margin:6px 0}
"""
NO_STORE = {"Cache-Control": "no-store"}


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


def _render(
    session: Session,
    item: ItemRead,
    phone: Phone,
    *,
    settings: Settings,
    message: str | None,
    status: int,
) -> HTMLResponse:
    can_vote = item.state in (ItemState.awaiting_confirmation, ItemState.closed)
    body = _templates.get_template("item.html").render(
        item=item,
        meeting_photos=service.meeting_photos(session, item.meeting.id),
        funds=yuan_text(item.funds_recovered) if item.funds_recovered else None,
        vote_key=vote_key(item.number, phone.token, settings=settings),
        app_name=settings.app_name,
        message=message,
        can_vote=can_vote,
        style=_STYLE,
    )
    page = HTMLResponse(body, status_code=status, headers=NO_STORE)
    if phone.new:
        page.set_cookie(
            PHONE_COOKIE,
            phone.token,
            max_age=PHONE_COOKIE_SECONDS,
            path="/wl",
            httponly=True,
            samesite="lax",
            secure=settings.public_base_url.startswith("https://"),
        )
    return page


def _not_found(settings: Settings) -> HTMLResponse:
    body = _templates.get_template("not_found.html").render(
        app_name=settings.app_name, style=_STYLE
    )
    return HTMLResponse(body, status_code=404, headers=NO_STORE)


def item_page(
    session: Session, number: str, *, cookie: str | None, settings: Settings
) -> HTMLResponse:
    try:
        item = service.get_item(session, number, settings=settings)
    except InquiryNotFound:
        return _not_found(settings)
    return _render(session, item, phone_of(cookie), settings=settings, message=None, status=200)


def vote_on_page(
    session: Session,
    number: str,
    *,
    resolved: bool,
    key: str,
    cookie: str | None,
    client: str,
    settings: Settings,
) -> HTMLResponse:
    """The vote of the form, said on the page (a refusal too, in the problem's words)."""
    phone = phone_of(cookie)
    expected = vote_key(number, phone.token, settings=settings)
    status, message, headers = 200, "", {}
    try:
        if phone.new or not hmac.compare_digest(key, expected):
            status, message = 422, "请先打开这个问题的页面，再点“已解决”或“没解决”。"
        else:
            vote = VoteCreate(device_token=phone.token, resolved=resolved)
            service.count_vote(number, client, settings=settings)
            message = service.vote(session, number, data=vote, settings=settings).message
        item = service.get_item(session, number, settings=settings)
    except InquiryNotFound:
        return _not_found(settings)
    except LianyunError as error:
        status, message, headers = error.status, error.detail, error.headers
        item = service.get_item(session, number, settings=settings)
    page = _render(session, item, phone, settings=settings, message=message, status=status)
    page.headers.update(headers)  # Retry-After, when it was too often
    return page
