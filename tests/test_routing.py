"""ApiRouter passes over a path none of its routes can take: every path still reaches the
route that takes it, as it did through FastAPI's own routers."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.routing import ApiRouter


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
