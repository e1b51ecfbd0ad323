"""The route classes.

`ApiRoute`, of every router: a body that is not JSON at all (broken syntax, bytes that are not
UTF-8, nesting too deep) becomes an ordinary validation error of the body. FastAPI would answer
it before running any dependency (a 422, or a 400 for bytes that are not UTF-8 or nested too
deep); as a validation error it comes, like every other one, after the sign-in check: a caller
without a valid token learns `401` first, whatever the body.

A plain `def` handler of an ApiRoute runs in FastAPI's pool of threads as before, but FastAPI
then validates its answer on the event loop: for a `def` handler it would hop to a thread and
back a second time to do so (docs/performance.md#session-hops).

`DirectRoute`, of the villager's lookup and `GET /healthz`: an ApiRoute that handles its requests
itself, FastAPI's way, for the one kind of route it takes (a JSON body, dependencies, a response
model), where FastAPI's general handler costs more than the lookup's own work
(docs/performance.md#direct-route). `ReadLaneRoute` (app.db.fastpath), of the lookup and its H5
form, runs a plain `def` handler on the read lane.

`serve_first` puts a copy of the lookup's route and of `GET /healthz` before every router the
app includes, where FastAPI finds them in one pass (docs/performance.md#routes-served-first).

`ApiRouter`, of every router the app includes: FastAPI tries the app's routers one after another
and, in each, every route in turn; a router that can tell at once that none of its routes takes
the path is passed over (docs/performance.md#route-guard).
"""

import email.message
import functools
import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from typing import Any, cast

from fastapi import FastAPI, params
from fastapi._body_limit import get_body_limit_error
from fastapi._compat import Undefined
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import (
    Dependant,
    _is_async_gen_callable,
    _is_coroutine_callable,
    _is_gen_callable,
)
from fastapi.dependencies.utils import get_dependant, request_body_to_args
from fastapi.exceptions import EndpointContext, RequestValidationError
from fastapi.routing import (
    APIRoute,
    APIRouter,
    _effective_route_context_var,
    _extract_endpoint_context,
    serialize_response,
)
from fastapi.utils import is_body_allowed_for_status_code
from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
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


class DirectRoute(ApiRoute):
    """An ApiRoute that handles its requests itself, as FastAPI's own handler does for a route
    of this kind: a JSON body (or none), dependencies that take only the body, the `Request`
    or other such dependencies (the app's overrides too; each solved once a request), an async
    handler (a plain `def` one is wrapped as on every ApiRoute), its answer validated and
    serialized by FastAPI's `serialize_response`. FastAPI's general handler and dependency
    solver cost the lookup more than its own work (docs/performance.md#direct-route). A route
    with anything else (query, path or header parameters, `yield` dependencies, security
    scopes, a response class or streams) is refused when its handler is built (for a router
    included in the app, FastAPI builds it at the router's first request, with what the
    inclusion adds), and an override of that kind when it is called. tests/test_routing.py holds
    its answers to FastAPI's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # Under an included router FastAPI builds the handler from the route as included (its
        # prefix, its dependencies, the app's dependency overrides), as APIRoute does.
        context = _effective_route_context_var.get()
        route: Any = context if context is not None and context.original_route is self else self
        _refuse_unless_direct(route)
        dependant, provider = route.dependant, route.dependency_overrides_provider
        embed, response_field = route._embed_body_fields, route.response_field
        status_code, by_alias = route.status_code or 200, route.response_model_by_alias
        strict = route.strict_content_type
        strict = strict.value if isinstance(strict, DefaultPlaceholder) else strict
        has_body = route.body_field is not None

        async def direct_handler(request: Request) -> Response:
            body = await _json_body(request, strict=strict) if has_body else Undefined
            overrides = getattr(provider, "dependency_overrides", None) or {}
            solved = _Solved(request, body, overrides, embed)
            values = await solved.values_for(dependant)
            if solved.errors:
                raise RequestValidationError(
                    solved.errors,
                    body=None if body is Undefined else body,
                    endpoint_ctx=_endpoint_context(dependant, request),
                )
            answer = await dependant.call(**values)
            if isinstance(answer, Response):
                return answer
            content = await serialize_response(
                field=response_field,
                response_content=answer,
                by_alias=by_alias,
                endpoint_ctx=_endpoint_context(dependant, request),
                dump_json=True,
            )
            response = Response(content, status_code=status_code, media_type="application/json")
            if not is_body_allowed_for_status_code(status_code):
                response.body = b""
            return response

        return direct_handler


def _endpoint_context(dependant: Dependant, request: Request) -> EndpointContext:
    """Where the handler is and which request it was, for an error's message, as FastAPI
    gives it (its own cache of the handler's file and line)."""
    context = EndpointContext(**_extract_endpoint_context(dependant.call))
    if dependant.path:
        root = request.scope.get("root_path", "").rstrip("/")
        context["path"] = f"{request.method} {root}{dependant.path}"
    return context


class _Solved:
    """One request's dependencies, solved as FastAPI's `solve_dependencies` solves them for a
    route DirectRoute takes: each one's own dependencies first (a dependency whose body fails
    validation is not called), then its body and its `Request`; a sync one in the thread pool;
    each (by its call, overridden or not) called once a request unless `use_cache=False`."""

    def __init__(self, request: Request, body: Any, overrides: dict[Any, Any], embed: bool) -> None:
        self.request, self.body, self.overrides, self.embed = request, body, overrides, embed
        self.errors: list[Any] = []
        self._cache: dict[Any, Any] = {}

    async def values_for(self, dependant: Dependant) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for sub in dependant.dependencies:
            call: Callable[..., Any] = self.overrides.get(sub.call) or cast(Any, sub.call)
            used = sub
            if call is not sub.call:  # as FastAPI does it, on each request with an override
                used = get_dependant(path=sub.path or "", call=call, name=sub.name)
                _refuse_unless_plain(used, f"override of {sub.name}")
            errors = len(self.errors)
            arguments = await self.values_for(used)
            if len(self.errors) > errors:
                continue
            if sub.use_cache and sub.call in self._cache:
                solved = self._cache[sub.call]
            elif _is_coroutine_callable(call):
                solved = await call(**arguments)
            else:
                solved = await run_in_threadpool(call, **arguments)
            self._cache.setdefault(sub.call, solved)
            if sub.name is not None:
                values[sub.name] = solved
        if dependant.body_params:
            body_values, body_errors = await request_body_to_args(
                dependant.body_params, self.body, self.embed
            )
            values.update(body_values)
            self.errors.extend(body_errors)
        if dependant.request_param_name:
            values[dependant.request_param_name] = self.request
        return values


def _refuse_unless_direct(route: Any) -> None:
    """TypeError for a route DirectRoute does not handle as FastAPI would."""
    unsupported = {
        "a response class of its own": not isinstance(route.response_class, DefaultPlaceholder),
        "no response model": route.response_field is None,
        "response_model_include/exclude/exclude_*": route.response_model_include is not None
        or route.response_model_exclude is not None
        or route.response_model_exclude_unset
        or route.response_model_exclude_defaults
        or route.response_model_exclude_none,
        "a stream": route.stream_item_field is not None or route.is_json_stream,
        "a handler that is not a coroutine": not inspect.iscoroutinefunction(route.dependant.call),
        "a form body": route.body_field is not None
        and isinstance(route.body_field.field_info, params.Form),
    }
    refused = [what for what, found in unsupported.items() if found]
    if refused:
        raise TypeError(f"DirectRoute {route.path}: {', '.join(refused)}")
    _refuse_unless_plain(route.dependant, route.path)


def _refuse_unless_plain(dependant: Dependant, where: str) -> None:
    """TypeError unless `dependant` and its dependencies take only bodies, the `Request` and
    such dependencies, none of them a generator, with neither security scopes nor limits on
    concurrency."""
    if (
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.security_scopes_param_name
        or dependant.own_oauth_scopes
        or dependant.concurrency is not None
        or _is_gen_callable(dependant.call)
        or _is_async_gen_callable(dependant.call)
    ):
        raise TypeError(f"DirectRoute {where}: {dependant.name or dependant.call} is not plain")
    for sub in dependant.dependencies:
        _refuse_unless_plain(sub, where)


async def _json_body(request: Request, *, strict: bool) -> Any:
    """The body as FastAPI reads it for a JSON body: its JSON value for a JSON media type (or
    none, unless `strict`), else its bytes, Undefined when empty; MALFORMED_JSON (an ordinary
    validation error) for broken JSON, as on every ApiRoute."""
    try:
        raw = await request.body()
    except HTTPException:
        raise
    except Exception as exc:
        if error := get_body_limit_error(exc):
            raise error from exc
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc
    if not raw:
        return Undefined
    content_type = request.headers.get("content-type")
    if not content_type:  # none, or empty
        return raw if strict else json_or_malformed(raw)
    return json_or_malformed(raw) if _is_json_type(content_type) else raw


@functools.lru_cache(maxsize=64)
def _is_json_type(content_type: str) -> bool:
    """Whether FastAPI reads a body of this Content-Type as JSON (email's parsing of it)."""
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


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


# What an APIRoute keeps of its `add_api_route` call: all of it but its class (FastAPI 0.165).
_ROUTE_SETTINGS = tuple(
    name
    for name in inspect.signature(APIRouter.add_api_route).parameters
    if name not in ("self", "path", "endpoint", "route_class_override")
)


def serve_first(app: FastAPI, routes: Sequence[tuple[str, str]]) -> None:
    """For each (method, path) of `routes`, in order, a copy of the route of the app's included
    routers that takes it, put before them on the app's own router and out of the schema (the
    route it copies documents it). FastAPI finds a route there in one pass; a route of an
    included router it matches twice, through the router's wrapper: about 25 µs a request
    (docs/performance.md#routes-served-first). The copy is made as the route was (its handler,
    its settings, its class) on the app's router, so the app's dependency overrides reach it."""
    first = []
    for method, path in routes:
        found = [
            route
            for route in _routes_of_included_routers(app)
            if isinstance(route, APIRoute)
            and route.path == path
            and method in (route.methods or ())
        ]
        if len(found) != 1:
            raise LookupError(f"serve_first: {len(found)} routes take {method} {path}")
        (route,) = found
        settings = {name: getattr(route, name) for name in _ROUTE_SETTINGS}
        settings.update(methods=[method], include_in_schema=False)
        app.router.add_api_route(path, route.endpoint, route_class_override=type(route), **settings)
        first.append(app.router.routes.pop())
    app.router.routes[:0] = first


def _routes_of_included_routers(app: FastAPI) -> Iterator[BaseRoute]:
    """The routes of the routers the app includes as they are (as app.main includes them). A
    router included with a prefix, dependencies or a body limit of the inclusion's own is
    refused (TypeError): a copy made from its routes would lose them."""
    for entry in app.router.routes:
        router = getattr(entry, "original_router", None)  # FastAPI's wrapper of an included one
        if router is None:
            continue
        context = entry.include_context  # type: ignore[attr-defined]
        if context.prefix or context.dependencies or context.max_body_size is not None:
            raise TypeError(f"serve_first: a router included with settings of its own ({entry})")
        yield from router.routes


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
