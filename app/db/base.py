"""The declarative base and what every table and statement shares on SQLite and PostgreSQL."""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    Connection,
    DateTime,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


def utcnow() -> datetime:
    return datetime.now(UTC)


def dialect_insert(session: Session, table: Any) -> Any:
    """An INSERT that takes `on_conflict_do_update/nothing` on SQLite and PostgreSQL alike."""
    return insert_for(session.get_bind().dialect.name)(table)


def insert_for(dialect_name: str) -> Callable[[Any], Any]:
    if dialect_name == "postgresql":
        return pg_insert
    return sqlite_insert


def one_of(session: Session, column: Any, values: list[str]) -> Any:
    """`column IN (values)` bound as one parameter: an array on PostgreSQL, a JSON array read by
    json_each on SQLite. Rendering thousands of separate parameters costs more than the query."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("values", values, type_=ARRAY(String), unique=True))
    items: Any = select(literal_column("value")).select_from(
        func.json_each(bindparam("values", json.dumps(values), unique=True))
    )
    return column.in_(items.scalar_subquery())


IN_LIST_MOST = 512


def in_conditions(session: Session, column: Any, values: list[Any]) -> Iterator[Any]:
    """`column IN (values)` as conditions of a few statement shapes only, for values that
    `one_of` cannot put in JSON (bytes): on PostgreSQL one condition, an array bound as one
    parameter; on SQLite lists of a few lengths (powers of two, at most IN_LIST_MOST), the last
    padded with its own first value, which IN does not mind. A list of every length was a
    statement of its own, each kept prepared by the driver: 24 MB of them on the sync's
    connection by the end of 1 000 000 records (docs/performance.md#in-lists-of-a-few-lengths).
    Nothing for no values."""
    if not values:
        return
    if session.get_bind().dialect.name == "postgresql":
        yield column == any_(bindparam("values", values, type_=ARRAY(column.type), unique=True))
        return
    for start in range(0, len(values), IN_LIST_MOST):
        chunk = values[start : start + IN_LIST_MOST]
        length = 1 << (len(chunk) - 1).bit_length()
        yield column.in_(chunk + [chunk[0]] * (length - len(chunk)))


@contextmanager
def postgres_setting(connection: Connection, name: str, value: str) -> Iterator[None]:
    """`name` set to `value` for the statements of the block on PostgreSQL (for the
    transaction, as SET LOCAL), then back to what it was; elsewhere nothing. Not restored when
    the block fails: the transaction's rollback takes the setting away with the rest."""
    if connection.dialect.name != "postgresql":
        yield
        return
    was = connection.scalar(text("SELECT current_setting(:name)"), {"name": name})
    set_local = text("SELECT set_config(:name, :value, true)")
    connection.execute(set_local, {"name": name, "value": value})
    yield
    connection.execute(set_local, {"name": name, "value": was})


def analyze_filled(connection: Connection, table: Table) -> None:
    """Statistics of a table the transaction just filled (a temporary table the next
    statements join from), so that the planner knows its size. On PostgreSQL from a small
    sample (a statistics target of 10, where the default of 100 samples 30 000 rows): the size
    is what counts, and the default sample cost more than the statements it plans
    (docs/performance.md#screening-runs)."""
    with postgres_setting(connection, "default_statistics_target", "10"):
        connection.execute(text(f"ANALYZE {table.name}"))
