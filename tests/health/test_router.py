from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.db.engines import engine_for, get_session
from app.db.migrations import head_revisions
from tests.asserts import assert_problem


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_when_schema_is_at_head(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert set(response.json()["schema_revision"].split(",")) == head_revisions()
    # no LIANYUN_REDIS_URL: each worker counts the rate limits in its memory, as configured
    assert (response.json()["status"], response.json()["redis"]) == ("ready", "not_configured")


def test_readyz_is_503_on_an_unmigrated_database(app: FastAPI, fresh_database_url: str) -> None:
    factory = sessionmaker(engine_for(fresh_database_url))

    def empty_database() -> Iterator[Session]:
        with factory.begin() as session:
            yield session

    app.dependency_overrides[get_session] = empty_database
    with TestClient(app) as client:
        body = assert_problem(client.get("/readyz"), 503, "service_unavailable")
    assert "lianyun migrate" in body["detail"]


def test_metrics_count_by_route_template_not_raw_path(client: TestClient) -> None:
    client.get("/api/v1/regions/511923103204")
    client.get("/api/v1/regions/511923102205?secret=1")
    client.get("/totally/unknown/path")
    text = client.get("/metrics").text
    assert 'route="/api/v1/regions/{code}"' in text
    assert "511923103204" not in text and "secret" not in text
    assert "/totally/unknown/path" not in text
    assert (
        'lianyun_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v1/regions/{code}"}'
        in text
    )
