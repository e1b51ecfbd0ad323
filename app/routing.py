"""The route classes.

`ApiRoute`, of every router: a body that is not JSON at all (broken syntax, bytes that are not
UTF-8, nesting too deep) becomes an ordinary validation error of the body. FastAPI would answer
it before running any dependency (a 422, or a 400 for bytes that are not UTF-8 or nested too
deep); as a validation error it comes, like every other one, after the sign-in check: a caller
without a valid token learns `401` first, whatever the body.

`ReadLaneRoute` (app.db.fastpath), of the villager's lookup, is an ApiRoute on the read lane.
"""

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
