"""Typed errors, rendered as RFC 9457 problem details in Chinese.

Each error has a stable machine `code`; its `type` is `/problems/<code>`, a relative URI that
the app serves as a short Chinese page. No stack trace, SQL or path ever reaches a client.
"""

import html
import logging
import sqlite3
from typing import Any, ClassVar, cast

import psycopg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.routing import MALFORMED_JSON

logger = logging.getLogger("app.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class LianyunError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "请求有误"
    # Set on an instance when the request's writes must be committed although it fails.
    keep_writes: bool = False

    def __init__(
        self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.headers = headers or {}
        self.extra = extra


class Unauthorized(LianyunError):
    status = 401
    code = "authentication_required"
    title = "请先登录"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extra)


class Forbidden(LianyunError):
    status = 403
    code = "forbidden"
    title = "没有权限"


class NotFound(LianyunError):
    status = 404
    code = "not_found"
    title = "找不到该内容"


class Conflict(LianyunError):
    status = 409
    code = "conflict"
    title = "与现有数据冲突"


class InvalidState(LianyunError):
    status = 422
    code = "invalid_state"
    title = "当前状态不允许此操作"


class RateLimited(LianyunError):
    status = 429
    code = "rate_limited"
    title = "操作太频繁"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        retry_after = max(1, retry_after)
        super().__init__(
            detail or f"操作太频繁，请 {retry_after} 秒后再试。",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )


class PayloadTooLarge(LianyunError):
    status = 413
    code = "payload_too_large"
    title = "提交的内容太大"


class UpstreamUnavailable(LianyunError):
    status = 503
    code = "service_unavailable"
    title = "服务暂时不可用"


class DatabaseUnavailable(UpstreamUnavailable):
    code = "database_unavailable"
    title = "数据库暂时不可用"


# Errors a database statement may raise; `is_database_outage` tells the few that mean the
# database cannot be reached or is restarting from those that mean a query is wrong.
# SQLAlchemy's, and the drivers' own from statements run on the raw cursor
# (app.db.fastpath.FastSelect).
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
)
# PostgreSQL SQLSTATEs of an outage: the server shuts down or restarts (57P01-57P03), or has
# no connection slot left (53300); class 08 (connection exceptions) is checked by its prefix.
# Deadlocks (40P01), serialization failures (40001) and statement timeouts (57014) are not
# outages: in this app (one short transaction per request, explicit locks) each is a bug in
# the code or a query that needs work, so it is a 500 with its traceback in the log.
_POSTGRES_OUTAGE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_SQLITE_OUTAGE_MESSAGES = ("database is locked", "unable to open database file", "disk I/O error")
DATABASE_RETRY_SECONDS = 5


def is_database_outage(error: BaseException) -> bool:
    """Whether a database error means the database cannot serve now (a 503 the client may
    retry), rather than that a statement is wrong (a 500: "no such column", a syntax error)."""
    if isinstance(error, sqlalchemy.exc.TimeoutError):  # no pooled connection came free
        return True
    if isinstance(error, sqlalchemy.exc.DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig if error.orig is not None else error
    if isinstance(error, psycopg.InterfaceError):  # the connection is closed
        return True
    if isinstance(error, psycopg.Error):
        if error.sqlstate is None:  # the server never answered: the connection failed
            return isinstance(error, psycopg.OperationalError)
        return error.sqlstate.startswith("08") or error.sqlstate in _POSTGRES_OUTAGE_STATES
    if isinstance(error, sqlite3.OperationalError):
        return str(error).startswith(_SQLITE_OUTAGE_MESSAGES)
    return False


class FieldError(BaseModel):
    field: str = Field(description="出错的字段，如 `username`、`body.items.0.amount`")
    message: str = Field(description="中文说明")


class RowProblem(BaseModel):
    row: int = Field(description="上传文件中的行号（按 Excel 的行号，表头是第 1 行）")
    message: str = Field(description="中文原因；从不引用该行的内容")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["/problems/not_found"])
    title: str = Field(examples=["找不到该内容"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["没有编码为 511923999999 的地区"])
    instance: str | None = Field(default=None, examples=["/api/v1/regions/511923999999"])
    code: str = Field(examples=["not_found"])
    request_id: str | None = None
    errors: list[FieldError] | None = None
    retry_after: int | None = None
    poster_code: str | None = Field(
        default=None, description="poster_exists：已有海报的海报码", examples=["k7mq2xva"]
    )
    rows: list[RowProblem] | None = Field(
        default=None, description="上传的名单中出错的行（行号和原因，最多列出 50 处）"
    )
    rows_total: int | None = Field(default=None, description="上传的名单中出错的行共有几处")


# Short Chinese explanations for the `type` pages, by code.
PROBLEM_PAGES: dict[str, str] = {
    "bad_request": "请求的格式或内容不对。",
    "authentication_required": (
        "这个操作需要工作人员登录。请先获取令牌，再在请求头 Authorization 中带上它。"
    ),
    "invalid_credentials": "用户名或密码不对，或账号已停用。",
    "token_invalid": "登录令牌无效或已过期，请重新登录。",
    "forbidden": "您的角色或所辖地区不允许这个操作。",
    "not_found": "要找的内容不存在。",
    "method_not_allowed": "这个地址不支持该请求方法。",
    "conflict": "要保存的内容与已有的数据冲突，例如用户名已被占用。",
    "invalid_state": "当前状态不允许这个操作。",
    "validation_failed": "提交的内容有误，`errors` 中列出了每个出错的字段和原因。",
    "rate_limited": "操作太频繁。请按响应头 Retry-After 所说的秒数等待后再试。",
    "service_unavailable": "服务暂时不可用，请稍后再试。",
    "payload_too_large": "提交的内容超过了允许的大小（一般请求不超过 1 MB）。",
    "id_number_invalid": "身份证号应为 18 位：前 17 位是数字，最后一位是数字或 X，并且校验位正确。",
    "person_not_found": (
        "没有查到与该身份证号和姓名相符的补贴记录。请核对身份证号和姓名（须与社保卡登记的一致）。"
    ),
    "poster_font_missing": (
        "服务器上没有能显示汉字的字体，海报无法生成（不会印出方框）。请管理员安装 fonts-noto-cjk"
        "（Debian/Ubuntu：apt-get install fonts-noto-cjk），"
        "或用 LIANYUN_POSTER_FONT 指定中文字体文件。"
    ),
    "poster_exists": (
        "这个村（社区）的这个张贴位置（渠道）已经有一张海报，`poster_code` 是它的海报码。"
        "请重印那张海报，扫码次数才不会分到两张海报上；要贴在别处，请换一个渠道名。"
    ),
    "database_unavailable": (
        "数据库暂时连不上（例如正在重启）。请按响应头 Retry-After 所说的秒数等待后再试。"
    ),
    "internal_error": "服务器出了意外的错误。请稍后再试；如问题持续，请把请求编号告诉管理员。",
}

# Chinese messages for pydantic's error types; `{...}` filled from the error's ctx.
_VALIDATION_MESSAGES: dict[str, str] = {
    "missing": "此项必填",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确",
    "string_type": "应为文本",
    "string_unicode": "含无效的字符（落单的代理项），不是正常的文本",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "格式不正确",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "too_long": "最多 {max_length} 项",
    "too_short": "至少 {min_length} 项",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为时间（ISO 8601）",
    "extra_forbidden": "不允许此字段",
    "value_error": "{error}",
}


def _field_name(loc: tuple[Any, ...], error_type: str = "") -> str:
    if error_type == "json_invalid":
        return "body"  # its loc is a character position, not a field
    parts = [str(p) for p in loc]
    if (
        parts
        and parts[0] in {"body", "query", "path", "header", "cookie", "form"}
        and len(parts) > 1
    ):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_message(error: dict[str, Any]) -> str:
    """One pydantic error in Chinese, as problems and the H5 pages (app.web) say it."""
    template = _VALIDATION_MESSAGES.get(error.get("type", ""))
    if template is None:
        return "格式不正确"
    ctx = error.get("ctx") or {}
    if "expected" in ctx:  # "'a', 'b' or 'c'" → a、b、c
        ctx = {**ctx, "expected": str(ctx["expected"]).replace(" or ", ", ").replace("'", "")}
        ctx["expected"] = "、".join(part.strip() for part in ctx["expected"].split(","))
    if "error" in ctx:
        ctx = {**ctx, "error": str(ctx["error"]).removeprefix("Value error, ")}
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return "格式不正确"


def problem_body(
    *, status: int, code: str, title: str, detail: str, instance: str, request_id: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
    }
    if request_id:
        body["request_id"] = request_id
    return body


INTERNAL_ERROR = {
    "status": 500,
    "code": "internal_error",
    "title": "服务器内部错误",
    "detail": "服务器出了意外的错误，请稍后再试。如问题持续，请把请求编号告诉管理员。",
}


def _problem(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(
        status=status,
        code=code,
        title=title,
        detail=detail,
        instance=request.url.path,
        request_id=getattr(request.state, "request_id", None),
    )
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


async def _lianyun_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(LianyunError, exc)
    return _problem(
        request,
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        headers=exc.headers,
        **exc.extra,
    )


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    if not is_database_outage(exc):
        raise exc  # a wrong statement: answered 500 and logged by the request middleware
    # the type only: the error's text may quote a statement's values
    logger.warning("database unavailable: %s", type(exc).__name__, extra={"anonymous_safe": True})
    error = DatabaseUnavailable(
        f"数据库暂时无法连接，请 {DATABASE_RETRY_SECONDS} 秒后再试。",
        headers={"Retry-After": str(DATABASE_RETRY_SECONDS)},
        retry_after=DATABASE_RETRY_SECONDS,
    )
    return await _lianyun_error(request, error)


def _unreadable_body_as_json_invalid(error: dict[str, Any]) -> dict[str, Any]:
    return {**error, "type": "json_invalid"} if error.get("input") is MALFORMED_JSON else error


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(RequestValidationError, exc)
    errors = [
        {
            "field": _field_name(tuple(e.get("loc", ())), e.get("type", "")),
            "message": validation_message(e),
        }
        for e in map(_unreadable_body_as_json_invalid, exc.errors())
    ]
    detail = "；".join(f"{e['field']}：{e['message']}" for e in errors[:5])
    return _problem(
        request,
        status=422,
        code="validation_failed",
        title="提交的内容有误",
        detail=detail or "提交的内容有误",
        errors=errors,
    )


_HTTP_PROBLEMS: dict[int, tuple[str, str, str]] = {
    404: ("not_found", "找不到该内容", "没有这个地址，请检查网址是否正确。"),
    405: ("method_not_allowed", "不支持该请求方法", "这个地址不支持该请求方法。"),
}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app takes on this path (Starlette's 405 names only the
    methods of the first route whose path matched)."""
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.routes
        )
    ]


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(StarletteHTTPException, exc)
    code, title, detail = _HTTP_PROBLEMS.get(
        exc.status_code, ("bad_request", "请求有误", "请求有误，请检查后重试。")
    )
    headers = dict(exc.headers) if exc.headers else {}
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return _problem(
        request,
        status=exc.status_code,
        code=code,
        title=title,
        detail=detail,
        headers=headers or None,
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """The last resort; errors inside a request are answered by the request middleware."""
    request_id = getattr(request.state, "request_id", None)
    logger.error(
        "unhandled exception",
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"request_id": request_id},
    )
    return JSONResponse(
        problem_body(instance=request.url.path, request_id=request_id, **INTERNAL_ERROR),  # type: ignore[arg-type]
        status_code=500,
        media_type=PROBLEM_MEDIA_TYPE,
        headers={"X-Request-ID": str(request_id or "")},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LianyunError, _lianyun_error)
    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, _database_unavailable)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)

    @app.get("/problems/{code}", include_in_schema=False, response_class=HTMLResponse)
    def read_problem_page(code: str) -> HTMLResponse:
        page = problem_pages().get(code)
        if page is None:
            raise NotFound("没有这种错误类型")
        title, text = page
        return HTMLResponse(
            '<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(text)}</p><p>错误代码：<code>{html.escape(code)}</code></p></html>"
        )


def _error_classes(cls: type[LianyunError] = LianyunError) -> list[type[LianyunError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_error_classes(sub))
    return found


def problem_pages() -> dict[str, tuple[str, str]]:
    """code → (Chinese title, explanation) for every problem the app can send: each error class
    of every domain, and the codes sent by the framework handlers."""
    pages = {
        "validation_failed": ("提交的内容有误", PROBLEM_PAGES["validation_failed"]),
        "method_not_allowed": ("不支持该请求方法", PROBLEM_PAGES["method_not_allowed"]),
        "internal_error": ("服务器内部错误", PROBLEM_PAGES["internal_error"]),
    }
    for cls in _error_classes():
        pages.setdefault(cls.code, (cls.title, PROBLEM_PAGES.get(cls.code, cls.title + "。")))
    return pages


def ok_content(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses=` entry of a 200 whose body is not JSON (an image, a file)."""
    return {200: {"content": {media_type: {}}, "description": description}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the given problem statuses."""
    descriptions = {
        400: "请求有误",
        401: "未登录或令牌无效",
        403: "没有权限",
        404: "找不到",
        409: "冲突",
        422: "提交的内容有误",
        429: "操作太频繁",
        503: "服务暂时不可用",
    }
    return {s: {"model": Problem, "description": descriptions[s]} for s in statuses}
