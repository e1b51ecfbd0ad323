"""Conditional GET for cacheable responses: a weak ETag and `Cache-Control`.

Build a router with `route_class=cached_route(max_age)`: each successful GET of its routes then
carries a weak `ETag` (a hash of the body it sends) and `Cache-Control: public, max-age=...`, and
answers `304 Not Modified` with no body when `If-None-Match` names that ETag. The ETag changes
exactly when the body does, so nothing has to be invalidated by hand.
"""

import hashlib
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from app.routing import ApiRoute


def etag_of(body: bytes) -> str:
    """Weak (W/): the gzip'd and the plain body are the same representation to a client."""
    return 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 weak comparison, as If-None-Match requires (a proxy may have weakened it)."""
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return opaque in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}


def conditional(
    request: Request, response: Response, *, max_age: int, private: bool = False
) -> Response:
    """`private` for what only the signed-in user may see (no shared cache keeps it)."""
    body = getattr(response, "body", None)
    if request.method != "GET" or response.status_code != 200 or not isinstance(body, bytes):
        return response
    etag = etag_of(body)
    scope = "private" if private else "public"
    headers = {"ETag": etag, "Cache-Control": f"{scope}, max-age={max_age}"}
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


def immutable(body: bytes, media_type: str) -> Response:
    """A response whose address never shows other bytes (an uploaded photo by its id): any
    cache may keep it for a year without asking again."""
    return Response(
        body,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "内容未变（If-None-Match 与 ETag 相同），没有正文"}
}


def cached_route(max_age: int = 3600) -> type[ApiRoute]:
    """An APIRoute class whose GET responses are cacheable for `max_age` seconds."""

    class CachedRoute(ApiRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def cached_handler(request: Request) -> Response:
                return conditional(request, await handler(request), max_age=max_age)

            return cached_handler

    return CachedRoute
