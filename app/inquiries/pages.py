"""The public page of an item, where its QR code on the printed 问题清单 leads: readable without
script, and two big buttons (a plain form) to say whether it is fixed. The phone is known by a
random cookie only, kept on the server as a keyed hash like every device token. Built on the
onboarding pages' base template (one look for every page)."""

import secrets
from decimal import Decimal
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader

from app.inquiries.models import ItemState
from app.inquiries.schemas import ItemRead

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
"""


def new_phone_token() -> str:
    return secrets.token_hex(16)


def item_page(item: ItemRead, *, app_name: str, message: str | None = None) -> str:
    can_vote = item.state in (ItemState.awaiting_confirmation, ItemState.closed)
    funds = format((Decimal(item.funds_recovered) / 100).normalize(), "f")  # 3200, 150.5
    return _templates.get_template("item.html").render(
        item=item,
        funds=funds if item.funds_recovered else None,
        app_name=app_name,
        message=message,
        can_vote=can_vote,
        style=_STYLE,
    )


def not_found(*, app_name: str) -> str:
    return _templates.get_template("not_found.html").render(app_name=app_name, style=_STYLE)
