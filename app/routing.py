"""The route classes.

`ApiRoute`, of every router: a body that is not JSON at all (broken syntax, bytes that are not
UTF-8, nesting too deep) becomes an ordinary validation error of the body. FastAPI would answer
it before running any dependency (a 422, or a 400 for bytes that are not UTF-8 or nested too
deep); as a validation error it comes, like every other one, after the sign-in check: a caller
without a valid token learns `401` first, whatever the body.

`ReadLaneRoute`, of the villager's lookup: its plain `def` handler runs on the read lane.
"""

import functools
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

# Stands for a body that could not be read. No schema accepts it: pydantic reads the fields of
# a model from any object's attributes (FastAPI validates bodies with `from_attributes`), so an
# instance of a class of ours would pass as a body whose fields are all optional, but a bare
# `object()` is refused by every model and every other type.
MALFORMED_JSON: Any = object()


def json_or_malformed(body: bytes) -> Any:
    """The body's JSON value, or MALFORMED_JSON: broken syntax, bytes that are not UTF-8, or
    arrays and objects nested too deep for the parser (RecursionError)."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return MALFORMED_JSON


class _LenientJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json_or_malformed(await self.body())
        return self._json


class ApiRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def lenient_handler(request: Request) -> Response:
            return await handler(_LenientJsonRequest(request.scope, request.receive))

        return lenient_handler


class ReadLaneRoute(ApiRoute):
    """A route whose plain `def` handler, a short blocking read, runs on the read lane
    (`app.db.in_read_lane`: on SQLite the event loop itself, on PostgreSQL one thread of its
    own), not on FastAPI's pool of threads. Its dependencies run first, as on every route, and
    must not block the loop themselves (`app.ratelimit.hit_off_loop`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, _on_read_lane(endpoint), **kwargs)


def _on_read_lane(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    from app.db import in_read_lane  # not at the top: app.db imports app.errors, which imports us

    if getattr(endpoint, "on_read_lane", False):  # a route copied from another
        return endpoint

    @functools.wraps(endpoint)  # FastAPI reads the handler's parameters through __wrapped__
    async def on_read_lane(**values: Any) -> Any:
        return await in_read_lane(functools.partial(endpoint, **values))

    on_read_lane.on_read_lane = True  # type: ignore[attr-defined]
    return on_read_lane
