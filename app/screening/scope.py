"""What a screening run looks at: every paid line (`full`), or only the persons' months that a
sync run touched (`incremental`).

An incremental scope is the (person, period) pairs of the lines stored at or after a time (the
sync run's start, less a margin for the clocks of the app and the database), kept for the run
in a temporary table so that the payout table is scanned for them once, not once a rule. Each
rule says in app.screening.checks what it re-checks within it."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, and_, select, text, true
from sqlalchemy.orm import Session

from app.db.base import insert_for
from app.screening.models import RunScope
from app.subsidies import store

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
    def touched_items(self) -> Table:
        """The (item_name, period) pairs of the lines of an incremental scope, paid or not."""
        if self.kind is not RunScope.incremental:
            raise ValueError("a full scope touches everything")
        return _touched_items


FULL = Scope(RunScope.full)


@contextmanager
def incremental_scope(session: Session, since: datetime) -> Iterator[Scope]:
    """The scope of the lines stored since `since`, its pairs in a temporary table of the
    session's connection for as long as the context lasts. On an error the caller's rollback
    takes the table away with the rest."""
    connection = session.connection()
    for table in (_touched, _touched_items):
        table.drop(connection, checkfirst=True)
        table.create(connection)
    lines = store.lines_synced_since(since).subquery()
    # A pair met twice is skipped by the primary key: SELECT DISTINCT would read the payouts
    # in the order of their (person_id, period) index, one row lookup a line. (SQLite parses
    # ON CONFLICT after INSERT … SELECT only after a WHERE.)
    connection.execute(
        insert_for(connection.dialect.name)(_touched)
        .from_select(
            ["person_id", "period"], select(lines.c.person_id, lines.c.period).where(true())
        )
        .on_conflict_do_nothing()
    )
    connection.execute(text(f"ANALYZE {_touched.name}"))  # its size: the joins start from it
    stored = store.stored_lines().subquery()
    connection.execute(
        _touched_items.insert().from_select(
            ["item_name", "period"],
            select(stored.c.item_name, stored.c.period)
            .join(
                _touched,
                and_(
                    _touched.c.person_id == stored.c.person_id, _touched.c.period == stored.c.period
                ),
            )
            .distinct(),
        )
    )
    connection.execute(text(f"ANALYZE {_touched_items.name}"))
    yield Scope(RunScope.incremental, since)
    for table in (_touched, _touched_items):
        table.drop(connection)


def touched_among(
    session: Session, pairs: Iterable[tuple[int | None, str]]
) -> set[tuple[int | None, str]]:
    """Those of these (person_id, period) pairs that the incremental scope in force touched.
    The scope's table is read for these persons only: a sync that touched every line would
    otherwise bring a million pairs into memory to answer for a few flags."""
    wanted = set(pairs)
    persons = sorted({person for person, _ in wanted if person is not None})
    found: set[tuple[int | None, str]] = set()
    for start in range(0, len(persons), _PERSONS_A_QUERY):
        some = persons[start : start + _PERSONS_A_QUERY]
        rows = session.execute(select(_touched).where(_touched.c.person_id.in_(some)))
        found.update((person, period) for person, period in rows if (person, period) in wanted)
    return found


_PERSONS_A_QUERY = 1000  # bound parameters of a statement, well below either database's limit
