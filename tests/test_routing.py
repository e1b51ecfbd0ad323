"""ApiRouter passes over a path none of its routes can take: every path still reaches the
route that takes it, as it did through FastAPI's own routers. An ApiRoute's plain `def`
handler still runs off the event loop, its answer still checked against its schema."""

import threading
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from app.routing import ApiRoute, ApiRouter


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
