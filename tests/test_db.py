"""Write requests and the nightly sync share one SQLite file: a write request waits for the
sync's commit instead of failing."""

import threading
import time

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import engine_for, session_scope
from app.main import create_app
from tests.factories import DEFAULT_PASSWORD, make_staff
from tests.subsidies.factories import ID_A


def test_a_write_request_waits_for_another_writer_instead_of_failing(committed_db: str) -> None:
    with session_scope().begin() as session:
        make_staff(session, username="waiting-clerk")
    engine = engine_for(committed_db)
    holding = threading.Event()

    def write_for_a_second() -> None:  # as the sync does between two commits
        with engine.connect() as connection:
            connection.execute(text("UPDATE region SET name = name WHERE code = '511923000000'"))
            holding.set()
            time.sleep(1.0)
            connection.commit()

    writer = threading.Thread(target=write_for_a_second)
    writer.start()
    holding.wait(5)
    with TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client:
        # Signing in reads the account, then writes a refresh token.
        response = client.post(
            "/api/v1/auth/token", data={"username": "waiting-clerk", "password": DEFAULT_PASSWORD}
        )
    writer.join()
    assert response.status_code == 200, response.text
    engine.dispose()


def test_a_read_only_post_does_not_wait_for_a_writer(committed_db: str) -> None:
    engine = engine_for(committed_db)
    holding, release = threading.Event(), threading.Event()

    def write_until_released() -> None:
        with engine.connect() as connection:
            connection.execute(text("UPDATE region SET name = name WHERE code = '511923000000'"))
            holding.set()
            release.wait(30)
            connection.commit()

    writer = threading.Thread(target=write_until_released)
    writer.start()
    holding.wait(5)
    try:
        with TestClient(create_app(configure_logs=False, schedule_jobs=False)) as client:
            # The lookup is a POST (an ID number must not go in a URL) that only reads.
            response = client.post(
                "/api/v1/subsidies/lookup", json={"id_number": ID_A, "name": "张秀英"}
            )
    finally:
        release.set()
        writer.join()
    assert response.status_code == 404 and response.json()["code"] == "person_not_found"
    engine.dispose()
