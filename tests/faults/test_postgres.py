"""A real `lianyun serve` whose PostgreSQL is stopped mid-run and started again: during the
outage every request gets a Chinese 503 problem (never a 500 or a stack trace), and the app
serves again by itself once the database is back."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.asserts import assert_problem
from tests.private_servers import PrivatePostgres, wait_until
from tests.serving import serving

LOOKUP = {"id_number": "511923195203220271", "name": "徐平"}
TIP = {"category": "dibao", "village_code": "511923103204", "content": "村干部把低保给了亲戚。"}
VILLAGE = "/api/v1/regions/511923103204"


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.create()
        yield server
    finally:
        server.remove()


@pytest.fixture
def served(postgres: PrivatePostgres, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log_path = tmp_path / "server.log"
    with serving(postgres.url, log_path) as base:
        yield base, log_path


def answers(base: str) -> dict[str, httpx.Response]:
    """A read, the villager's lookup, a write and readiness."""
    return {
        "read": httpx.get(f"{base}{VILLAGE}"),
        "lookup": httpx.post(f"{base}/api/v1/subsidies/lookup", json=LOOKUP),
        "write": httpx.post(f"{base}/api/v1/tips", json=TIP),
        "ready": httpx.get(f"{base}/readyz"),
    }


def serving_normally(base: str) -> bool:
    statuses = {name: answer.status_code for name, answer in answers(base).items()}
    return statuses == {"read": 200, "lookup": 404, "write": 201, "ready": 200}


def test_a_database_restart_is_a_503_and_the_app_recovers_by_itself(
    served: tuple[str, Path], postgres: PrivatePostgres
) -> None:
    base, log_path = served
    assert serving_normally(base)

    postgres.stop()

    during = answers(base)
    for name in ("read", "lookup", "write"):
        body = assert_problem(during[name], 503, "database_unavailable")
        assert body["retry_after"] == int(during[name].headers["retry-after"]) >= 1
    assert_problem(during["ready"], 503, "service_unavailable")

    postgres.start()

    wait_until(lambda: serving_normally(base), seconds=10, what="the app to serve again")
    log = log_path.read_text()
    assert "database unavailable" in log  # the outage is logged, the type of error only
    assert "Traceback" not in log and "internal_error" not in log
