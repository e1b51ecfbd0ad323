"""Making and dropping whole test databases, on SQLite or on a PostgreSQL server."""

import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def create_database(base_url: str | None, name: str, directory: Path) -> str:
    """A new, empty database named `name`; its URL."""
    if base_url is None:
        path = directory / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    url = make_url(base_url)
    _admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(base_url, f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return
    _admin(url, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def _admin(url: str, statement: str) -> None:
    engine = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()
