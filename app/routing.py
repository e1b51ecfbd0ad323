"""The route classes.

`ApiRoute`, of every router: a body that is not JSON at all (broken syntax, bytes that are not
UTF-8, nesting too deep) becomes an ordinary validation error of the body. FastAPI would answer
it before running any dependency (a 422, or a 400 for bytes that are not UTF-8 or nested too
deep); as a validation error it comes, like every other one, after the sign-in check: a caller
without a valid token learns `401` first, whatever the body.

A plain `def` handler of an ApiRoute runs in FastAPI's pool of threads as before, but FastAPI
then validates its answer on the event loop: for a `def` handler it would hop to a thread and
back a second time to do so (docs/performance.md#session-hops).

`ReadLaneRoute` (app.db.fastpath), of the villager's lookup, is an ApiRoute on the read lane.

`ApiRouter`, of every router the app includes: FastAPI tries the app's routers one after another
and, in each, every route in turn; a router that can tell at once that none of its routes takes
the path is passed over (docs/performance.md#route-guard).
"""

import functools
import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute, APIRouter
from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

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
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, run_by(run_in_threadpool, endpoint), **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def lenient_handler(request: Request) -> Response:
            return await handler(_LenientJsonRequest(request.scope, request.receive))

        return lenient_handler


def run_by(
    runner: Callable[[Callable[[], Any]], Awaitable[Any]], endpoint: Callable[..., Any]
) -> Callable[..., Any]:
    """A plain `def` handler as a coroutine that has `runner` run it (FastAPI's pool of
    threads; the read lane). Anything else is kept as it is: a coroutine already (a handler
    wrapped before, whose route `include_router` copied), a streaming generator, an object."""
    plain = inspect.isfunction(endpoint) and not (
        inspect.iscoroutinefunction(endpoint) or inspect.isgeneratorfunction(endpoint)
    )
    if not plain:
        return endpoint

    @functools.wraps(endpoint)  # FastAPI reads the handler's parameters through __wrapped__
    async def run_handler(**values: Any) -> Any:
        return await runner(functools.partial(endpoint, **values))

    return run_handler


class ApiRouter(APIRouter):
    """An APIRouter that passes over a path none of its routes can take.

    A route's path matches only a path that starts with its text before the first parameter
    (`/api/v1/regions/` of `/api/v1/regions/{code}`), or, without parameters, only that path
    itself. Included without a prefix (app.main), the routes' paths are the paths served. A
    route of another kind (a mount, a nested router) turns the guard off for its router."""

    _guard: "_PathGuard | None" = None

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        guard = self._guard
        if guard is None or guard.routes != len(self.routes):
            guard = self._guard = _PathGuard.of(self.routes)
        if not guard.may_take(get_route_path(scope)):
            return Match.NONE, {}
        return super().matches(scope)


class _PathGuard:
    def __init__(self, routes: int, exact: frozenset[str], prefixes: tuple[str, ...]) -> None:
        self.routes = routes  # how many routes it was made from
        self.exact = exact
        self.prefixes = prefixes

    @classmethod
    def of(cls, routes: list[Any]) -> "_PathGuard":
        exact: set[str] = set()
        prefixes: set[str] = set()
        for route in routes:
            if not isinstance(route, (APIRoute, Route)):
                return cls(len(routes), frozenset(), ("",))  # every path may match
            literal = route.path.partition("{")[0]
            (prefixes if literal != route.path else exact).add(literal)
        return cls(len(routes), frozenset(exact), tuple(sorted(prefixes)))

    def may_take(self, path: str) -> bool:
        return path in self.exact or path.startswith(self.prefixes)
