"""One database per xdist worker, built once by `alembic upgrade head`; each test runs inside a
transaction that is rolled back. SQLite by default; PostgreSQL when LIANYUN_TEST_DATABASE_URL
is set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/lianyun_test)."""

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests.databases import create_database, drop_database, unique_name

TEST_ENV = {
    "LIANYUN_ENV": "development",
    "LIANYUN_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    "LIANYUN_ID_PEPPER": "test-id-pepper-that-is-long-enough-0123456789",
    "LIANYUN_TIP_KEY": "test-tip-key-that-is-long-enough-0123456789abc",
    "LIANYUN_LOG_LEVEL": "INFO",
}
_TMP = Path(tempfile.mkdtemp(prefix="lianyun-tests-"))


def server_url() -> str | None:
    return os.environ.get("LIANYUN_TEST_DATABASE_URL") or None


def base_name(url: str | None) -> str:
    """Worker databases are named after the database in the URL, so two checkouts that test
    against one server with different URLs never drop each other's databases."""
    return make_url(url).database or "lianyun_test" if url else "lianyun_test"


def pytest_configure(config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    for key in [k for k in os.environ if k.startswith("LIANYUN_")]:
        if key not in {
            "LIANYUN_TEST_DATABASE_URL",
            "LIANYUN_TEST_REDIS_URL",
            "LIANYUN_SCREENSHOTS",
        }:
            del os.environ[key]
    os.environ.update(TEST_ENV)
    os.environ["LIANYUN_DEV_SECRETS_FILE"] = str(_TMP / "dev-secrets.json")
    os.environ["LIANYUN_DATABASE_URL"] = create_database(
        server_url(), f"{base_name(server_url())}_{worker}", _TMP
    )

    from app.config import get_settings

    get_settings.cache_clear()


def pytest_unconfigure(config: pytest.Config) -> None:
    url = os.environ.get("LIANYUN_DATABASE_URL")
    if url:
        from app.db.engines import engine_for

        engine_for(url).dispose()
        drop_database(url)


@pytest.fixture(scope="session")
def engine() -> Engine:
    from app.db.engines import get_engine, session_scope
    from app.db.migrations import upgrade_head
    from app.regions import service as regions

    upgrade_head()
    with session_scope().begin() as session:
        regions.import_regions(session, regions.read_csv())
    return get_engine()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Settings are read again after each test: a test that changed the environment and cleared
    the cache leaves its own settings cached once monkeypatch has put the environment back."""
    from app.config import get_settings

    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    from app import ratelimit

    ratelimit.reset()
    yield


@pytest.fixture
def app(session: Session) -> FastAPI:
    from app.db.engines import get_read_session, get_session, get_write_transaction, transaction
    from app.db.fastpath import get_read_transaction
    from app.main import create_app

    application = create_app(configure_logs=False, schedule_jobs=False)

    def _test_session() -> Iterator[Session]:
        with transaction(session, nested=True):  # a SAVEPOINT inside the test's transaction
            yield session

    @contextmanager
    def _test_connection() -> Iterator[Connection]:
        with transaction(session, nested=True):
            yield session.connection()

    async def _test_read_transaction() -> Callable[[], AbstractContextManager[Connection]]:
        return _test_connection

    @contextmanager
    def _test_write_session() -> Iterator[Session]:
        with transaction(session, nested=True):
            yield session

    async def _test_write_transaction() -> Callable[[], AbstractContextManager[Session]]:
        return _test_write_session

    application.dependency_overrides[get_session] = _test_session
    application.dependency_overrides[get_read_session] = _test_session
    application.dependency_overrides[get_read_transaction] = _test_read_transaction
    application.dependency_overrides[get_write_transaction] = _test_write_transaction
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@contextmanager
def _fresh_database() -> Iterator[str]:
    url = create_database(server_url(), unique_name("lianyun_fresh"), _TMP)
    try:
        yield url
    finally:
        from app.db.engines import engine_for

        engine_for(url).dispose()
        drop_database(url)


@pytest.fixture
def fresh_database_url() -> Iterator[str]:
    """A brand-new empty database (no tables), dropped afterwards."""
    with _fresh_database() as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url() -> Iterator[str]:
    """Like `fresh_database_url`, shared by the tests of one module (a served app's)."""
    with _fresh_database() as url:
        yield url


@pytest.fixture
def committed_db(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app's own database is a fresh, migrated one with the regions: for code that opens
    its own transactions (sync, CLI) and commits for real."""
    from app.config import get_settings
    from app.db.engines import session_scope
    from app.db.migrations import upgrade_head
    from app.regions import service as regions

    monkeypatch.setenv("LIANYUN_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    upgrade_head()
    with session_scope().begin() as session:
        regions.import_regions(session, regions.read_csv())
    yield fresh_database_url
    get_settings.cache_clear()
