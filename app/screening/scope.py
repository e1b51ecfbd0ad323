"""What a screening run looks at: every paid line (`full`), or only the persons' months that a
sync run touched (`incremental`).

An incremental scope is the (person, period) pairs of the lines stored at or after a time (the
sync run's start, less a margin for the clocks of the app and the database) and of their
earlier versions (a correction may move a line), kept for the run in a temporary table so
that the payout table is scanned for them once, not once a rule; and the stored lines of those
pairs, read once into another (`lines`), where each rule of lines reads them. Each rule says in
app.screening.checks what it re-checks within it."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from app.db.base import analyze_filled, insert_for, postgres_setting
from app.screening.models import RunScope
from app.subsidies import store

_changed = Table(
    "screening_changed",
    MetaData(),
    Column("person_id", Integer, nullable=False),
    Column("period", String(7), nullable=False),
    Column("item_name", String(64), nullable=False),
    prefixes=["TEMPORARY"],
)
_touched = Table(
    "screening_touched",
    MetaData(),
    Column("person_id", Integer, primary_key=True),
    Column("period", String(7), primary_key=True),
    prefixes=["TEMPORARY"],
)
_touched_items = Table(
    "screening_touched_item",
    MetaData(),
    Column("item_name", String(64), primary_key=True),
    Column("period", String(7), primary_key=True),
    prefixes=["TEMPORARY"],
)
_lines = store.line_table("screening_line", MetaData())
_TABLES = (_changed, _touched, _touched_items, _lines)
_PAIR = ("person_id", "period")
_ITEM = ("item_name", "period")
_CHANGED = ("person_id", "period", "item_name")


@dataclass(frozen=True)
class Scope:
    kind: RunScope
    since: datetime | None = None  # incremental: lines stored at or after this time

    @property
    def touched(self) -> Table:
        """The (person_id, period) pairs of an incremental scope, distinct (a temporary table,
        there while `incremental_scope` lasts)."""
        if self.kind is not RunScope.incremental:
            raise ValueError("a full scope touches everything")
        return _touched

    @property
    def lines(self) -> Table:
        """The stored lines of the touched pairs, paid or not, with the columns of
        `store.stored_lines` (a temporary table, there while `incremental_scope` lasts)."""
        if self.kind is not RunScope.incremental:
            raise ValueError("a full scope touches everything")
        return _lines

    @property
    def touched_items(self) -> Table:
        """The (item_name, period) pairs of the lines stored since and of their earlier
        versions, paid or not: the items' months whose village totals changed."""
        if self.kind is not RunScope.incremental:
            raise ValueError("a full scope touches everything")
        return _touched_items


FULL = Scope(RunScope.full)
# A sync that stored more lines than this (the first one, a county's history sent again) is
# screened in full: its pairs would be most of the payouts, kept twice in temporary tables
# (on SQLite in a file), to check what a full run reads once.
INCREMENTAL_MOST_LINES = 200_000


def is_worth_incremental(session: Session, since: datetime) -> bool:
    """Whether the lines stored since `since` are few enough to screen by their pairs."""
    return store.count_lines_synced_since(session, since) <= INCREMENTAL_MOST_LINES


@contextmanager
def incremental_scope(session: Session, since: datetime) -> Iterator[Scope]:
    """The scope of the lines stored since `since`, its pairs in temporary tables of the
    session's connection for as long as the context lasts. On an error the caller's rollback
    takes the tables away with the rest.

    A line corrected since touches the pairs of its earlier versions too: a correction that
    moved it to another person, month or item leaves the old pair's lines to check again (a
    duplicate that is one no more, a flag to withdraw)."""
    connection = session.connection()
    for table in _TABLES:
        table.drop(connection, checkfirst=True)
        table.create(connection)
    # Where the lines stored since stand, and where their earlier versions stood.
    synced = store.lines_synced_since(since).cte("synced")
    earlier = store.earlier_versions(synced).subquery("earlier")
    connection.execute(
        _changed.insert().from_select(
            list(_CHANGED),
            union_all(
                select(*(synced.c[c] for c in _CHANGED)), select(*(earlier.c[c] for c in _CHANGED))
            ),
        )
    )
    # The touched pairs, in the order the lines were stored, a pair met again skipped by the
    # primary key: their lines are then read in about the order they lie in the payouts (in a
    # DISTINCT's hash order they took twice as long). (SQLite parses ON CONFLICT after
    # INSERT … SELECT only after a WHERE.)
    connection.execute(
        insert_for(connection.dialect.name)(_touched)
        .from_select(_PAIR, select(_changed.c.person_id, _changed.c.period).where(true()))
        .on_conflict_do_nothing()
    )
    analyze_filled(connection, _touched)  # its size: joins start from it
    # The items' months whose totals the lines stored since changed (the other lines of the
    # touched pairs changed no total).
    connection.execute(
        _touched_items.insert().from_select(
            _ITEM, select(_changed.c.item_name, _changed.c.period).distinct()
        )
    )
    _keep_lines_of_touched(connection)
    yield Scope(RunScope.incremental, since)
    for table in _TABLES:
        table.drop(connection)


def _keep_lines_of_touched(connection: Connection) -> None:
    """The stored lines of the touched pairs into `_lines`, found by the payouts' (person_id,
    period) index.

    Speed: PostgreSQL's planner prefers a hash join over a scan of every payout for the 30 000
    pairs of a night's delta (1 000 000 lines: 0.78 s against 0.17 s by the index, measured by
    `scripts/bench_screening --profile`); the hash join is switched off for this one statement
    of the transaction."""
    stored = store.stored_lines()
    line = stored.selected_columns
    of_touched = stored.join(
        _touched, and_(_touched.c.person_id == line.person_id, _touched.c.period == line.period)
    )
    with postgres_setting(connection, "enable_hashjoin", "off"):
        connection.execute(_lines.insert().from_select([c.name for c in _lines.c], of_touched))
    analyze_filled(connection, _lines)
