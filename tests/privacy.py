"""A copy of the database, as someone who took it would read it: every table the models know
(so a table added later is read too), row by row as text, and on SQLite the database's files
themselves (freed pages and the WAL keep what a row no longer shows)."""

import json
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, select
from sqlalchemy.engine import make_url

import app.models  # noqa: F401 (every table into Base.metadata)
from app.db.base import Base


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        return raw.decode("utf-8", "replace") + " " + raw.hex()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def table_rows(url: str) -> dict[str, str]:
    """Each table of the models, its rows as text; fails if a table is not in the database."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            missing = set(Base.metadata.tables) - present
            assert not missing, f"tables of the models not in the database: {missing}"
            return {
                table.name: "\n".join(
                    " | ".join(_as_text(value) for value in row)
                    for row in connection.execute(select(table))
                )
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def database_dump(url: str) -> bytes:
    """Every table's rows, and on SQLite the files too."""
    dump = "\n".join(table_rows(url).values()).encode()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(str(parsed.database))
        for suffix in ("", "-wal"):
            if Path(f"{path}{suffix}").exists():
                dump += Path(f"{path}{suffix}").read_bytes()
    return dump
