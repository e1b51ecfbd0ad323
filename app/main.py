"""The application factory: `uvicorn --factory app.main:create_app`."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from app import __version__, public_writes, security
from app.api import ROUTERS, SERVED_FIRST, TAGS
from app.compression import GZipMiddleware
from app.config import get_settings
from app.errors import PROBLEM_MEDIA_TYPE, install_error_handlers
from app.logs import configure_logging
from app.observability import RequestContextMiddleware
from app.routing import serve_first
from app.scheduler import start_scheduler

DESCRIPTION = """廉韵（Lianyun）：县级惠民惠农资金公开与监督平台的后端。

村民可查询打到社保卡上的每一笔补贴、阅读 11 类惠民惠农政策、查看本村每月的发放公示（晒账）、
匿名举报并凭回执码跟进、参与民意测评；县纪委监委等工作人员通过同一套接口发布、处理和答复。

所有错误均为 RFC 9457 `application/problem+json`，带稳定的 `code` 和中文说明（唯一的例外：扫码落地页
`/i/{code}` 的 404 是中文 HTML 页面）。请求体不是有效的 JSON 时答 422 `validation_failed`，与其他
校验错误一样在登录检查之后：没有有效令牌的请求总是先得到 401。文本不能含控制字符（多行文本可含换行和
制表符），编号为 1 至 2147483647 的整数，时间为 ISO 8601。地址不支持的请求方法（包括 OPTIONS）答 405
`method_not_allowed`，响应头 `Allow` 列出该地址支持的全部方法。"""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    security.dummy_hash()  # the first sign-in with an unknown username costs what any other does
    scheduler = start_scheduler(get_settings()) if app.state.schedule_jobs else None
    # What startup built (routes, schemas, table metadata) lives as long as the process. Kept
    # out of the collector's sight, it is no longer scanned by every full collection, which
    # stalled all requests in flight (see docs/performance.md#startup-objects-frozen). Once per
    # process: what a later app (tests make many) leaves behind must stay collectable.
    if not gc.get_freeze_count():
        gc.collect()
        gc.freeze()
    yield
    if scheduler is not None:
        scheduler.shutdown(wait=False)


def create_app(*, configure_logs: bool = True, schedule_jobs: bool = True) -> FastAPI:
    """`schedule_jobs` starts the nightly jobs (sync) with the server; tests turn it off."""
    settings = get_settings()
    if configure_logs:
        configure_logging(settings.log_level)
    app = FastAPI(
        lifespan=_lifespan,
        title="廉韵 Lianyun API",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        # FastAPI's OpenTelemetry hooks look for a configured provider on every request; the
        # app's metrics are its own (app.observability).
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.schedule_jobs = schedule_jobs
    install_error_handlers(app)
    # On the app itself: each level of routers costs every request
    # (docs/performance.md#routers-on-the-app).
    for router in ROUTERS:
        app.include_router(router)
    serve_first(app, SERVED_FIRST)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        is_anonymous=public_writes.is_anonymous,
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _too_large_response() -> dict[str, Any]:
    return {
        "description": "提交的内容太大（请求体超过服务器允许的大小）",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, with error responses served as application/problem+json.

    Every operation that takes a body may answer 413: the size limit is the middleware's, in
    front of every route, so it is documented here rather than on each route."""
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        for path in schema["paths"].values():
            for operation in path.values():
                if "requestBody" in operation:
                    operation["responses"].setdefault("413", _too_large_response())
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[:1] in "45" and "application/json" in content:
                        content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
        app.openapi_schema = schema
    return app.openapi_schema


def openapi_schema() -> dict[str, Any]:
    return create_app(configure_logs=False, schedule_jobs=False).openapi()
