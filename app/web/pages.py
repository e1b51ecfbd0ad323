"""What every page of the H5 app shares: rendering on the base template (app.pages), the
large-text switch, forms read without JavaScript, and errors said in the API's Chinese words.

The large-text switch is a link that sets one cookie, `lianyun_text=big`, which names nobody.
Anonymous pages (tips, objections; `anonymous=True`) show no switch and set no cookie at all;
they still read the preference the browser sends."""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.formparsers import MultiPartException

from app.config import Settings
from app.errors import validation_message
from app.pages import environment
from app.schemas import yuan_text

M = TypeVar("M", bound=BaseModel)
TEXT_COOKIE = "lianyun_text"
TEXT_COOKIE_SECONDS = 2 * 365 * 24 * 3600
NO_STORE = {"Cache-Control": "no-store"}
# Pages differ by the large-text cookie: never shared by a cache between phones.
PRIVATE = {"Cache-Control": "private, no-cache", "Vary": "Cookie"}
FIELD_LABELS = {
    "id_number": "身份证号",
    "name": "姓名",
    "content": "举报内容",
    "category": "类别",
    "village_code": "村（社区）",
    "accused": "被举报人",
    "amount_involved": "涉及金额",
    "contact": "联系方式",
    "receipt_code": "回执码",
    "reason": "哪里不对",
    "record_id": "发放记录",
    "body": "补充的内容",
}

templates = environment(Path(__file__).parent / "templates")
templates.filters["yuan"] = yuan_text


@dataclass(frozen=True)
class Reader:
    """What a page knows of its reader: the text size they chose, and where they are."""

    big_text: bool
    here: str  # path and query of this page: where the switch comes back to
    in_wechat: bool = False  # WeChat's browser: no download links (it blocks them)


async def _reader(request: Request) -> Reader:
    """Async: a plain function would cost each request a thread hop. The user agent decides a
    button and is kept nowhere."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Reader(
        big_text=request.cookies.get(TEXT_COOKIE) == "big",
        here=here,
        in_wechat="micromessenger" in request.headers.get("user-agent", "").lower(),
    )


ReaderDep = Annotated[Reader, Depends(_reader)]


def local_path(back: str) -> str:
    """`back` when it is a path of this site, else "/" (never a way out to another host)."""
    if back.startswith("/") and not back.startswith("//") and "\\" not in back:
        return back
    return "/"


def render(
    name: str,
    reader: Reader,
    settings: Settings,
    *,
    status: int = 200,
    anonymous: bool = False,
    no_store: bool = False,
    **context: Any,
) -> HTMLResponse:
    switch = None
    if not anonymous:
        size = "normal" if reader.big_text else "big"
        switch = {
            "href": "/text-size?" + urlencode({"size": size, "back": reader.here}),
            "label": "字小一点" if reader.big_text else "字大一点",
        }
    body = templates.get_template(name).render(
        app_name=settings.app_name,
        big_text=reader.big_text,
        in_wechat=reader.in_wechat,
        home_link="/",
        text_switch=switch,
        **context,
    )
    headers = NO_STORE if (anonymous or no_store) else PRIVATE
    return HTMLResponse(body, status_code=status, headers=headers)


def not_found(reader: Reader, settings: Settings, message: str, **kwargs: Any) -> HTMLResponse:
    return render("not_found.html", reader, settings, status=404, message=message, **kwargs)


def messages(
    error: ValidationError | RequestValidationError, labels: dict[str, str] = FIELD_LABELS
) -> list[str]:
    """Each invalid field in Chinese: "身份证号：不能为空"."""
    out = []
    for each in error.errors():
        location = [str(part) for part in each.get("loc", ()) if part != "body"]
        field = labels.get(location[0], location[0]) if location else "表单"
        out.append(f"{field}：{validation_message(dict(each))}")
    return out


def validated(
    model: type[M], fields: dict[str, Any], labels: dict[str, str] = FIELD_LABELS
) -> tuple[M | None, list[str]]:
    try:
        return model.model_validate(fields), []
    except ValidationError as error:
        return None, messages(error, labels)


async def _form(request: Request) -> FormData:
    """A plain form's fields (no files); an unreadable form reads as empty."""
    try:
        return await request.form(max_files=0, max_fields=600)
    except MultiPartException:
        return FormData()


FormDep = Annotated[FormData, Depends(_form)]


def filled(form: FormData, *names: str) -> dict[str, str]:
    """The named fields that are filled in (a blank field is a field not given)."""
    out = {}
    for name in names:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            out[name] = value
    return out
