"""The route class of every router: a body that is not JSON at all (broken syntax, bytes that
are not UTF-8) becomes an ordinary validation error of the body. FastAPI would answer it before
running any dependency (a 422, or a 400 for bytes that are not UTF-8); as a validation error it
comes, like every other one, after the sign-in check: a caller without a valid token learns
`401` first, whatever the body."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


class _MalformedJson:
    """Stands for the body that could not be read; no schema accepts it."""

    def __repr__(self) -> str:
        return "<malformed JSON>"


MALFORMED_JSON: Any = _MalformedJson()


class _LenientJsonRequest(Request):
    async def json(self) -> Any:
        try:
            return await super().json()
        except ValueError:  # JSONDecodeError, UnicodeDecodeError
            return MALFORMED_JSON


class ApiRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def lenient_handler(request: Request) -> Response:
            return await handler(_LenientJsonRequest(request.scope, request.receive))

        return lenient_handler
