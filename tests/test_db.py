"""Write requests and the nightly sync share one SQLite file: a write request waits for the
sync's commit instead of failing, and a read-only POST does not wait at all."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import engine_for, session_scope
from app.main import create_app
from tests.factories import DEFAULT_PASSWORD, make_staff
from tests.subsidies.factories import ID_A


@contextmanager
def another_writer(url: str, release: threading.Event) -> Iterator[None]:
    """Another connection holds the write lock (as the sync does between two commits) until
    `release` is set; the block runs meanwhile."""
    engine = engine_for(url)
    holding = threading.Event()

    def write() -> None:
        with engine.connect() as connection:
            connection.execute(text("UPDATE region SET name = name WHERE code = '511923000000'"))
            holding.set()
            release.wait(30)
            connection.commit()

    writer = threading.Thread(target=write)
    writer.start()
    holding.wait(5)
    try:
        yield
    finally:
        release.set()
        writer.join()
        engine.dispose()


def test_a_write_request_waits_for_another_writer_instead_of_failing(committed_db: str) -> None:
    with session_scope().begin() as session:
        make_staff(session, username="waiting-clerk")
    release = threading.Event()
    threading.Timer(1.0, release.set).start()
    with (
        another_writer(committed_db, release),
        TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client,
    ):
        # Signing in reads the account, then writes a refresh token.
        response = client.post(
            "/api/v1/auth/token", data={"username": "waiting-clerk", "password": DEFAULT_PASSWORD}
        )
    assert response.status_code == 200, response.text


def test_a_read_only_post_does_not_wait_for_a_writer(committed_db: str) -> None:
    with (
        another_writer(committed_db, threading.Event()),
        TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client,
    ):
        # The lookup is a POST (an ID number must not go in a URL) that only reads; it is
        # answered while the writer still holds the lock.
        response = client.post(
            "/api/v1/subsidies/lookup", json={"id_number": ID_A, "name": "张秀英"}
        )
    assert response.status_code == 404 and response.json()["code"] == "person_not_found"
