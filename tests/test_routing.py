"""ApiRouter passes over a path none of its routes can take: every path still reaches the
route that takes it, as it did through FastAPI's own routers. An ApiRoute's plain `def`
handler still runs off the event loop, its answer still checked against its schema. A
DirectRoute answers as FastAPI's own handling of the same route does; so does a route's copy
served first."""

import threading
import warnings
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from app.routing import ApiRoute, ApiRouter, DirectRoute, serve_first


def _app() -> FastAPI:
    first = ApiRouter(prefix="/api/v1/things")
    second = ApiRouter()

    @first.get("/{thing_id}")
    def read_thing(thing_id: int) -> dict[str, int]:
        return {"thing": thing_id}

    @first.get("")
    def list_things() -> list[int]:
        return [1, 2]

    @second.get("/")
    def home() -> dict[str, str]:
        return {"page": "home"}

    @second.post("/forms/{name}")
    def post_form(name: str) -> dict[str, str]:
        return {"form": name}

    app = FastAPI()
    app.include_router(first)
    app.include_router(second)
    return app


def test_each_path_reaches_its_route_past_the_routers_that_cannot_take_it() -> None:
    client = TestClient(_app(), follow_redirects=False)
    assert client.get("/api/v1/things/7").json() == {"thing": 7}
    assert client.get("/api/v1/things").json() == [1, 2]
    assert client.get("/").json() == {"page": "home"}  # a path of the second router
    assert client.post("/forms/tip").json() == {"form": "tip"}


def test_wrong_method_trailing_slash_and_unknown_paths_answer_as_before() -> None:
    client = TestClient(_app(), follow_redirects=False)
    wrong = client.get("/forms/tip")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    slash = client.get("/api/v1/things/")  # a route without parameters is taken as a whole path
    assert slash.status_code == 307
    assert slash.headers["location"].endswith("/api/v1/things")
    assert client.get("/api/v1/things/7/parts").status_code == 404
    assert client.get("/api/v1/thing").status_code == 404


def test_a_route_added_after_the_first_request_is_reached() -> None:
    router = ApiRouter()

    @router.get("/early")
    def early() -> str:
        return "early"

    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/early").json() == "early"

    @router.get("/late")
    def late() -> str:
        return "late"

    assert client.get("/late").json() == "late"


def test_a_plain_def_handler_runs_off_the_event_loop_and_its_answer_is_still_checked() -> None:
    router = ApiRouter(route_class=ApiRoute)

    async def loop_thread() -> int:  # an async dependency runs on the event loop
        return threading.get_ident()

    @router.get("/threads")
    def threads(loop: Annotated[int, Depends(loop_thread)]) -> dict[str, bool]:
        return {"off_the_loop": threading.get_ident() != loop}

    @router.get("/wrong", response_model=dict[str, int])
    def wrong() -> Any:
        return {"count": "many"}

    app = FastAPI()
    app.include_router(router)
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/threads").json() == {"off_the_loop": True}
    assert client.get("/wrong").status_code == 500  # an answer that breaks its schema


class _Ask(BaseModel):
    name: str = Field(min_length=1, max_length=8)
    year: int | None = Field(default=None, ge=2000)


class _Answer(BaseModel):
    greeting: str
    counted: int


_SETTINGS_READ: list[str] = []  # one entry each time `_setting` is called


async def _setting() -> str:
    _SETTINGS_READ.append("read")
    return "你好"


def _twins(calls: list[str]) -> FastAPI:
    """The same route twice, as FastAPI handles it (/slow/...) and as DirectRoute does
    (/direct/...): a dependency of the body, the Request and a setting (as the lookup's
    counting), the setting again, a router-wide check, and a plain `def` handler. A refused
    body answers FastAPI's whole list of errors, as Python writes it."""
    app = FastAPI()

    @app.exception_handler(RequestValidationError)
    async def every_error(request: Request, exc: RequestValidationError) -> PlainTextResponse:
        return PlainTextResponse(repr((exc.errors(), exc.body)), status_code=422)

    for prefix, route_class in (("/slow", ApiRoute), ("/direct", DirectRoute)):

        async def refuse_blocked(request: Request) -> None:
            if request.headers.get("x-blocked"):
                raise HTTPException(403)

        router = ApiRouter(
            prefix=prefix, route_class=route_class, dependencies=[Depends(refuse_blocked)]
        )

        async def counted(
            ask: _Ask, request: Request, setting: Annotated[str, Depends(_setting)]
        ) -> _Ask:
            calls.append(f"counted {ask.name} from {request.url.path}")
            return ask

        @router.post("/ask", response_model=_Answer)
        def ask(
            asked: Annotated[_Ask, Depends(counted)], setting: Annotated[str, Depends(_setting)]
        ) -> dict[str, Any]:
            calls.append(f"asked {asked.name}")
            return {"greeting": f"{setting}，{asked.name}", "counted": len(calls), "extra": 1}

        @router.post("/made", response_model=_Answer, status_code=201)
        async def made(asked: _Ask) -> _Answer:
            return _Answer(greeting=asked.name, counted=0)

        app.include_router(router)
    return app


_NAMED = '{"name": "徐平"}'.encode()
_REQUESTS: list[dict[str, Any]] = [
    {"json": {"name": "徐平"}},
    {"json": {"name": "徐平", "year": 2024, "other": "ignored"}},
    {"json": {"name": ""}},
    {"json": {"name": "徐平", "year": 1999}},
    {"json": {"name": "徐平", "year": "二〇二四"}},
    {"json": {}},
    {"json": ["徐平"]},
    {"json": None},
    {"content": b"{broken", "headers": {"content-type": "application/json"}},
    {"content": b"\xff\xfe", "headers": {"content-type": "application/json"}},
    {"content": b"[" * 100_000, "headers": {"content-type": "application/json"}},
    {"content": b"", "headers": {"content-type": "application/json"}},
    {"content": _NAMED},  # no Content-Type
    {"content": _NAMED, "headers": {"content-type": ""}},
    {"content": _NAMED, "headers": {"content-type": "text/plain"}},
    {"content": _NAMED, "headers": {"content-type": "application/vnd.x+json"}},
    {"content": _NAMED, "headers": {"content-type": "Application/JSON; charset=utf-8"}},
    {"content": _NAMED, "headers": {"content-type": "application/json/x"}},
    {"json": {"name": "徐平"}, "headers": {"x-blocked": "1"}},
]


@pytest.mark.parametrize("path", ["/ask", "/made"])
@pytest.mark.parametrize("request_kwargs", _REQUESTS)
def test_a_direct_route_answers_as_fastapi_does(path: str, request_kwargs: dict[str, Any]) -> None:
    slow_calls: list[str] = []
    direct_calls: list[str] = []
    slow = TestClient(_twins(slow_calls)).post(f"/slow{path}", **request_kwargs)
    direct = TestClient(_twins(direct_calls)).post(f"/direct{path}", **request_kwargs)
    assert (direct.status_code, direct.headers["content-type"]) == (
        slow.status_code,
        slow.headers["content-type"],
    )
    assert direct.content == slow.content.replace(b"/slow/", b"/direct/")
    assert [c.replace("/slow/", "/direct/") for c in slow_calls] == direct_calls


def test_a_direct_route_counts_no_body_that_fails_and_solves_each_dependency_once() -> None:
    calls: list[str] = []
    client = TestClient(_twins(calls))
    assert client.post("/direct/ask", json={"name": ""}).status_code == 422
    assert calls == []  # the counting dependency was not called
    _SETTINGS_READ.clear()
    answer = client.post("/direct/ask", json={"name": "徐平"})
    assert answer.json() == {"greeting": "你好，徐平", "counted": 2}
    assert calls == ["counted 徐平 from /direct/ask", "asked 徐平"]
    assert _SETTINGS_READ == ["read"]  # asked for twice, solved once


def test_a_direct_route_takes_the_apps_overrides_sync_or_async() -> None:
    calls: list[str] = []
    app = _twins(calls)
    client = TestClient(app)

    def thread_name() -> str:  # a plain def: in the thread pool, as FastAPI runs it
        return threading.current_thread().name

    app.dependency_overrides[_setting] = thread_name
    for twin in ("/slow", "/direct"):
        greeting = client.post(f"{twin}/ask", json={"name": "徐平"}).json()["greeting"]
        assert greeting == "AnyIO worker thread，徐平"

    async def from_request(request: Request) -> str:
        return request.headers.get("x-greeting", "喂")

    app.dependency_overrides[_setting] = from_request
    answer = client.post("/direct/ask", json={"name": "徐平"}, headers={"x-greeting": "hi"})
    assert answer.json()["greeting"] == "hi，徐平"

    def with_cleanup() -> Iterator[str]:
        yield "再见"

    app.dependency_overrides[_setting] = with_cleanup  # a `yield` override: not handled
    with pytest.raises(TypeError, match="not plain"):
        client.post("/direct/ask", json={"name": "徐平"})


def test_a_route_served_first_answers_as_the_route_it_copies_and_takes_the_overrides() -> None:
    def twins_served_first(calls: list[str]) -> FastAPI:
        app = _twins(calls)
        serve_first(app, [("POST", "/direct/ask"), ("POST", "/slow/made")])
        return app

    for path in ("/direct/ask", "/slow/made"):
        for request_kwargs in _REQUESTS:
            first_calls: list[str] = []
            included_calls: list[str] = []
            first = TestClient(twins_served_first(first_calls)).post(path, **request_kwargs)
            included = TestClient(_twins(included_calls)).post(path, **request_kwargs)
            assert (first.status_code, first.content) == (included.status_code, included.content)
            assert first_calls == included_calls
    served_first = twins_served_first([])
    with warnings.catch_warnings():  # the copies are out of the schema: no operation twice
        warnings.simplefilter("error")
        assert served_first.openapi() == _twins([]).openapi()
    assert TestClient(served_first).get("/direct/ask").status_code == 405

    routes: list[Any] = []

    async def handled_by(request: Request) -> str:
        routes.append(request.scope["route"])
        return "喂"

    served_first.dependency_overrides[_setting] = handled_by
    answer = TestClient(served_first).post("/direct/ask", json={"name": "徐平"})
    assert answer.json()["greeting"] == "喂，徐平"
    assert routes == [served_first.router.routes[0]]  # the copy took it, before every router
    assert [type(route) for route in served_first.router.routes[:2]] == [DirectRoute, ApiRoute]
    with pytest.raises(LookupError):
        serve_first(served_first, [("GET", "/direct/ask")])
    router = ApiRouter()

    @router.get("/plain", response_model=_Answer)
    async def plain() -> _Answer:
        return _Answer(greeting="", counted=0)

    guarded = FastAPI()
    guarded.include_router(router, dependencies=[Depends(_setting)])
    with pytest.raises(TypeError):  # a copy would lose the inclusion's own dependency
        serve_first(guarded, [("GET", "/plain")])


def test_a_route_direct_handling_would_change_is_refused_when_made() -> None:
    def cleaned_up() -> Iterator[int]:
        yield 1

    router = ApiRouter(route_class=DirectRoute)

    async def by_query(page: int) -> _Answer:
        return _Answer(greeting="", counted=page)

    async def by_generator(value: Annotated[int, Depends(cleaned_up)]) -> _Answer:
        return _Answer(greeting="", counted=value)

    async def no_model() -> dict[str, str]:
        return {}

    for handler, options, why in (
        (by_query, {"response_model": _Answer}, "not plain"),
        (by_generator, {"response_model": _Answer}, "not plain"),
        (no_model, {"response_model": None}, "no response model"),
    ):
        with pytest.raises(TypeError, match=why):
            router.add_api_route("/refused", handler, methods=["GET"], **options)
