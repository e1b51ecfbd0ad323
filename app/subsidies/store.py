"""The payout store: every statement on the `person`, `payout`, `payout_version` and
`payout_month_total` tables.

Other modules, in this domain and others, read and write payouts and persons only through these
functions, which answer in named tuples, never in positional rows. Rules (which version wins,
what counts as a replay or a conflict) are the services'; the store says what is stored.

Two kinds of statements here exist for speed (app.db.fastpath says when to use each and what it
costs):
- the lookup's reads (`person_by_hash`, `lines_of_person`) are `FastSelect`s, compiled once
  and run on the driver's cursor;
- the sync's bulk writes (`write_persons`, `insert_lines`, `replace_lines`, `insert_history`)
  take the checked records as they come and write plain tuples: on SQLite by the driver's
  executemany (`BulkInsert`), on PostgreSQL by COPY (`copy_rows`, `StagedInsert`); the month
  totals they keep in step by set-based statements.
Every writer holds the sync lease (app.sync.lease): no other writer of payouts or persons
runs meanwhile, so versions read and person ids given out stay true until commit.
"""

import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import cache, partial
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Select,
    Table,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from app.db.base import dialect_insert, in_conditions, one_of
from app.db.fastpath import (
    BulkInsert,
    FastSelect,
    ReadConnection,
    StagedInsert,
    copy_rows,
    transaction_time,
)
from app.regions import service as regions_service
from app.subsidies.models import Payout, PayoutMonthTotal, PayoutVersion, Person
from app.subsidies.schemas import PayoutIn

PAID = "paid"

_payout, _person, _history, _totals = typing.cast(
    tuple[Table, Table, Table, Table],
    (Payout.__table__, Person.__table__, PayoutVersion.__table__, PayoutMonthTotal.__table__),
)


# --- what the store answers ----------------------------------------------------------------------


class PersonRow(NamedTuple):
    """A person as the lookup reads them."""

    name_hash: bytes
    name_masked: str
    id_masked: str
    village_code: str
    village: str | None  # the village's full name; None if the region table lacks the code
    id: int


class LineRow(NamedTuple):
    """A payout line of one person, as the lookup shows it."""

    record_id: str
    category_code: str
    item_name: str
    amount_fen: int
    period: str
    paid_on: date | str  # on SQLite, through the driver's cursor, ISO text
    status: str
    department: str


class CategorySum(NamedTuple):
    category_code: str
    total_fen: int
    line_count: int


class VillageLine(NamedTuple):
    """A line of a village's monthly list: the person by their masked name only."""

    record_id: str
    name_masked: str
    category_code: str
    item_name: str
    amount_fen: int
    status: str


class StoredPerson(NamedTuple):
    id: int
    name_hash: bytes
    village_code: str


class LineContent(NamedTuple):
    """What must be equal for a record_id and version sent again to be a replay: the line's own
    fields and its person (a person's name is kept per person, not per version). Equal to the
    plain tuple `content_of(record)` of a record with that content."""

    person_hash: bytes
    village_code: str
    category_code: str
    item_name: str
    amount_fen: int
    period: str
    paid_on: date
    status: str
    department: str


# A payout line's own columns but its person (an id in `payout`, a hash in `payout_version`),
# which comes third in the bulk writes, as in the tables.
_LINE_FIELDS = (
    "record_id",
    "version",
    "village_code",
    "category_code",
    "item_name",
    "amount_fen",
    "period",
    "paid_on",
    "status",
    "department",
)
_CONTENT_FIELDS = _LINE_FIELDS[2:]
content_of = attrgetter("id_hash", *_CONTENT_FIELDS)
"""A record's `LineContent`, as a plain tuple (made per record, so made fast)."""


# --- the villager's lookup -------------------------------------------------------------------


# Built and compiled once (both cost more than running them), run on the driver's cursor.
_PERSON_BY_HASH = FastSelect(
    select(
        _person.c.name_hash,
        _person.c.name_masked,
        _person.c.id_masked,
        _person.c.village_code,
        regions_service.full_name_of(_person.c.village_code).label("village"),
        _person.c.id,
    ).where(_person.c.id_hash == bindparam("h"))
)


def person_by_hash(connection: ReadConnection, id_hash: bytes) -> PersonRow | None:
    found = _PERSON_BY_HASH.rows(connection, h=id_hash)
    return PersonRow(*found[0]) if found else None


# The year of a line's period, for the lookup's year filter.
_year_of_period = cast(
    func.substr(_payout.c.period, literal_column("1"), literal_column("4")), Integer
)


def _of_person(year: bool, category: bool) -> list[Any]:
    """Conditions for one person's lines (bound as `person`), filtered by the request's `year`
    and `category` when these say so."""
    where = [_payout.c.person_id == bindparam("person")]
    if year:
        where.append(_year_of_period == bindparam("year"))
    if category:
        where.append(_payout.c.category_code == bindparam("category"))
    return where


@cache
def _lines_of_person(year: bool, category: bool) -> FastSelect:
    return FastSelect(
        select(
            _payout.c.record_id,
            _payout.c.category_code,
            _payout.c.item_name,
            _payout.c.amount_fen,
            _payout.c.period,
            _payout.c.paid_on,
            _payout.c.status,
            _payout.c.department,
        )
        .where(*_of_person(year, category))
        .order_by(_payout.c.period.desc(), _payout.c.paid_on.desc(), _payout.c.record_id.desc())
    )


def lines_of_person(
    connection: ReadConnection, person_id: int, *, year: int | None, category: str | None
) -> list[LineRow]:
    """Newest first (by period, then payment date, then record id), reversed lines too."""
    statement = _lines_of_person(year is not None, category is not None)
    rows = statement.rows(connection, person=person_id, year=year, category=category)
    return list(map(_LINE_ROW, rows))


# A driver's row as a named tuple by tuple.__new__ itself: `_make` costs half as much again, a
# few microseconds a lookup, to check a length that the statement fixes.
_LINE_ROW: Callable[[Any], LineRow] = partial(tuple.__new__, LineRow)


# --- a village's month (晒账) ------------------------------------------------------------------


def village_periods(session: Session, village_code: str) -> list[str]:
    """The months ("2026-10") with lines of the village, newest first."""
    return list(
        session.scalars(
            select(_payout.c.period)
            .where(_payout.c.village_code == village_code)
            .group_by(_payout.c.period)
            .order_by(_payout.c.period.desc())
        )
    )


def village_has_month(session: Session, village_code: str, period: str) -> bool:
    found = session.scalar(
        select(_payout.c.record_id)
        .where(_payout.c.village_code == village_code, _payout.c.period == period)
        .limit(1)
    )
    return found is not None


def _of_village_month(village_code: str, period: str, category: str | None) -> list[Any]:
    where = [_payout.c.village_code == village_code, _payout.c.period == period]
    if category is not None:
        where.append(_payout.c.category_code == category)
    return where


def village_month_lines(
    session: Session, village_code: str, *, period: str, category: str | None
) -> list[VillageLine]:
    """By category, item and record id, reversed lines too."""
    rows = session.execute(
        select(
            _payout.c.record_id,
            _person.c.name_masked,
            _payout.c.category_code,
            _payout.c.item_name,
            _payout.c.amount_fen,
            _payout.c.status,
        )
        .join_from(_payout, _person, _person.c.id == _payout.c.person_id)
        .where(*_of_village_month(village_code, period, category))
        .order_by(_payout.c.category_code, _payout.c.item_name, _payout.c.record_id)
    )
    return [VillageLine._make(row) for row in rows]


def village_month_paid_by_category(
    session: Session, village_code: str, *, period: str, category: str | None
) -> list[CategorySum]:
    """Paid lines only (reversed ones left out), by category code."""
    rows = session.execute(
        select(_payout.c.category_code, func.sum(_payout.c.amount_fen), func.count())
        .where(*_of_village_month(village_code, period, category), _payout.c.status == PAID)
        .group_by(_payout.c.category_code)
        .order_by(_payout.c.category_code)
    )
    return [CategorySum._make(row) for row in rows]


# --- single lines ------------------------------------------------------------------------------


def payout_exists(session: Session, record_id: str) -> bool:
    found = session.scalar(select(_payout.c.record_id).where(_payout.c.record_id == record_id))
    return found is not None


# --- what a page of the feed meets -------------------------------------------------------------


def versions_of(session: Session, record_ids: Iterable[str]) -> dict[str, int]:
    """The stored (latest) version of each of these records that is stored."""
    ids = list(dict.fromkeys(record_ids))
    rows = session.execute(
        select(_payout.c.record_id, _payout.c.version).where(
            one_of(session, _payout.c.record_id, ids)
        )
    )
    return {record_id: version for record_id, version in rows}


def contents_of_versions(
    session: Session, record_ids: Iterable[str]
) -> dict[tuple[str, int], LineContent]:
    """What is stored of every version of these records, by (record_id, version): the latest
    in `payout`, lower ones in `payout_version`."""
    ids = list(dict.fromkeys(record_ids))
    kept: dict[tuple[str, int], LineContent] = {}
    latest = session.execute(
        select(
            _payout.c.record_id,
            _payout.c.version,
            _person.c.id_hash,
            *(_payout.c[f] for f in _CONTENT_FIELDS),
        )
        .join_from(_payout, _person, _person.c.id == _payout.c.person_id)
        .where(one_of(session, _payout.c.record_id, ids))
    )
    for record_id, version, *content in latest:
        kept[(record_id, version)] = LineContent._make(content)
    history = _history.c
    earlier = session.execute(
        select(
            history.record_id,
            history.version,
            history.person_hash,
            *(history[f] for f in _CONTENT_FIELDS),
        )
        .select_from(_history)
        .where(one_of(session, history.record_id, ids))
    )
    for record_id, version, *content in earlier:
        kept[(record_id, version)] = LineContent._make(content)
    return kept


def persons_by_hash(session: Session, id_hashes: Iterable[bytes]) -> dict[bytes, StoredPerson]:
    """The stored persons among these hashes."""
    found = {}
    for among in in_conditions(session, _person.c.id_hash, list(id_hashes)):
        rows = session.execute(
            select(
                _person.c.id_hash, _person.c.id, _person.c.name_hash, _person.c.village_code
            ).where(among)
        )
        found.update({id_hash: StoredPerson(*rest) for id_hash, *rest in rows})
    return found


def next_person_id(session: Session) -> int:
    """The first id no person has (ids are given in the order persons are first met)."""
    return (session.scalar(select(func.max(_person.c.id))) or 0) + 1


# --- the sync's bulk writes --------------------------------------------------------------------
# Rows go to the database in the order given (the feed's): the payout table's own b-tree (by
# record id, in the order a platform numbers its payouts) and its person index (by person id, in
# the order persons were first met) then take them in runs. Timestamps come from the database:
# binding one per row costs more than the row itself.


def write_persons(session: Session, persons: Sequence[tuple[int, PayoutIn]]) -> None:
    """Each (id, record) as a person: new persons with their hashes; for stored ones (same id)
    the name and village of the record, their hashes, id, birth date and sex left as stored."""
    rows = [(person_id, *_PERSON_ROW(r)) for person_id, r in persons]
    if _on_postgresql(session):
        _PERSON_UPSERT_STAGED.execute(session, rows)
    else:
        _PERSON_UPSERT.execute(session, rows)


def insert_lines(
    session: Session, records: Sequence[PayoutIn], person_ids: Mapping[bytes, int]
) -> None:
    """Records not stored yet, each with the id of its person (by hash): a plain INSERT, which
    costs less than an upsert (docs/performance.md#plain-insert-before-upsert); on PostgreSQL
    a COPY straight into the table (docs/performance.md#copy). Their paid amounts are added to
    the month totals."""
    if not records:
        return
    if _on_postgresql(session):
        now = transaction_time(session)
        rows = [(*_line(r, person_ids[r.id_hash]), now) for r in records]
        copy_rows(session, _payout, (*_PAYOUT_COLUMNS, "synced_at"), rows)
    else:
        _PAYOUT_INSERT.execute(session, [_line(r, person_ids[r.id_hash]) for r in records])
    _add_to_month_totals_as_written(session, records)


def replace_lines(
    session: Session, records: Sequence[PayoutIn], person_ids: Mapping[bytes, int]
) -> None:
    """Newer versions of stored records (only those: see `versions_of`): the stored version
    goes into the history first, then the record overwrites it; the month totals lose the
    stored version's paid amount and gain the new one's, taken from the records themselves (a
    record not newer than the stored line would be skipped by the upsert but still counted)."""
    if not records:
        return
    record_ids = [r.record_id for r in records]
    take_from_month_totals(session, record_ids)
    columns = [*_LINE_FIELDS, "synced_at"]
    session.execute(
        dialect_insert(session, _history)
        .from_select(
            [*columns, "person_hash"],
            select(*(_payout.c[f] for f in columns), _person.c.id_hash)
            .join_from(_payout, _person, _person.c.id == _payout.c.person_id)
            .where(one_of(session, _payout.c.record_id, record_ids)),
        )
        .on_conflict_do_nothing()
    )
    rows = [_line(r, person_ids[r.id_hash]) for r in records]
    if _on_postgresql(session):
        _PAYOUT_UPSERT_STAGED.execute(session, rows)
    else:
        _PAYOUT_UPSERT.execute(session, rows)
    _add_to_month_totals_as_written(session, records)


def insert_history(session: Session, records: Sequence[PayoutIn]) -> None:
    """Versions that are not the latest, into the history (one kept already stays)."""
    rows = [_line(r, r.id_hash) for r in records]
    if _on_postgresql(session):
        _HISTORY_INSERT_STAGED.execute(session, rows)
    else:
        _HISTORY_INSERT.execute(session, rows)


def _on_postgresql(session: Session) -> bool:
    """Whether the bulk writes go by COPY (PostgreSQL) or by executemany (SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


_LINE_REST = attrgetter(*_LINE_FIELDS[2:])


def _line(record: PayoutIn, person: Any) -> tuple[Any, ...]:
    return (record.record_id, record.version, person, *_LINE_REST(record))


_PERSON_FIELDS = (
    "id_hash",
    "name_hash",
    "name_masked",
    "id_masked",
    "village_code",
    "birth_on",
    "sex",
)
_PERSON_ROW = attrgetter(*_PERSON_FIELDS)


def _values(
    insert: Any, table: Any, fields: tuple[str, ...], now_column: str | None, staged: Any = None
) -> Any:
    """An INSERT of `fields`, with the database's time in `now_column` if one is named: of bound
    values (a row of an executemany), or of every row of `staged` (a StagedInsert's table)."""
    now = {} if now_column is None else {now_column: func.current_timestamp()}
    if staged is None:
        values: dict[str, Any] = {f: bindparam(f) for f in fields}
        return insert(table).values({**values, **now})
    return insert(table).from_select(
        [*fields, *now], select(*(staged.c[f] for f in fields), *now.values())
    )


_PAYOUT_COLUMNS = (*_LINE_FIELDS[:2], "person_id", *_LINE_FIELDS[2:])
_HISTORY_COLUMNS = (*_LINE_FIELDS[:2], "person_hash", *_LINE_FIELDS[2:])
_PERSON_COLUMNS = ("id", *_PERSON_FIELDS)


def _payout_upsert(insert: Any, staged: Any = None) -> Any:
    statement = _values(insert, _payout, _PAYOUT_COLUMNS, "synced_at", staged)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[_payout.c.record_id],
        set_={f: excluded[f] for f in (*_PAYOUT_COLUMNS[1:], "synced_at")},
        where=_payout.c.version < excluded.version,
    )


def _person_upsert(insert: Any, staged: Any = None) -> Any:
    statement = _values(insert, _person, _PERSON_COLUMNS, "updated_at", staged)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[_person.c.id],
        set_={
            "name_hash": excluded.name_hash,
            "name_masked": excluded.name_masked,
            "village_code": excluded.village_code,
            "updated_at": excluded.updated_at,
        },
    )


def _history_insert(insert: Any, staged: Any = None) -> Any:
    statement = _values(insert, _history, _HISTORY_COLUMNS, "synced_at", staged)
    return statement.on_conflict_do_nothing()


# SQLite: executemany.
_PAYOUT_INSERT = BulkInsert(
    lambda insert: _values(insert, _payout, _PAYOUT_COLUMNS, "synced_at"), _PAYOUT_COLUMNS
)
_PAYOUT_UPSERT = BulkInsert(_payout_upsert, _PAYOUT_COLUMNS)
_PERSON_UPSERT = BulkInsert(_person_upsert, _PERSON_COLUMNS)
_HISTORY_INSERT = BulkInsert(_history_insert, _HISTORY_COLUMNS)
# PostgreSQL: COPY into a staging table, one statement from it (`insert_lines` copies straight).
_PAYOUT_UPSERT_STAGED = StagedInsert(_payout, _PAYOUT_COLUMNS, _payout_upsert)
_PERSON_UPSERT_STAGED = StagedInsert(_person, _PERSON_COLUMNS, _person_upsert)
_HISTORY_INSERT_STAGED = StagedInsert(_history, _HISTORY_COLUMNS, _history_insert)


# --- the month totals -----------------------------------------------------------------------------
# Each village's paid total of each item each month (PayoutMonthTotal), kept in step with the
# lines by the writes above, in their transaction: what a line's latest version paid is taken
# out before it is replaced and put in after (set-based, a page at a time).

_TOTAL_KEY = ("village_code", "item_name", "period")
_TOTALS_COLUMNS = (*_TOTAL_KEY, "total_fen", "line_count")


def add_to_month_totals(session: Session, record_ids: list[str]) -> None:
    """What the stored lines `record_ids` pay, added to their month totals (read back: for lines
    written around the store, as a benchmark writes them)."""
    _count_in_month_totals(session, record_ids, 1)


def _add_to_month_totals_as_written(session: Session, records: Sequence[PayoutIn]) -> None:
    """What `records`, each just written as its line's latest version, pay, added to their
    month totals: summed from the records in hand, where reading the lines back took about a
    sixth of storing a page (docs/performance.md#month-totals-summed-in-hand)."""
    sums: dict[tuple[str, str, str], list[int]] = {}
    for record in records:
        if record.status == PAID:
            total = sums.setdefault((record.village_code, record.item_name, record.period), [0, 0])
            total[0] += record.amount_fen
            total[1] += 1
    rows = [(*key, fen, count) for key, (fen, count) in sums.items()]
    if _on_postgresql(session):
        _TOTALS_ADD_STAGED.execute(session, rows)
    else:
        _TOTALS_ADD.execute(session, rows)


def take_from_month_totals(session: Session, record_ids: list[str]) -> None:
    """What the stored lines `record_ids` pay, taken from their month totals (before they are
    replaced or reversed)."""
    _count_in_month_totals(session, record_ids, -1)


def _count_in_month_totals(session: Session, record_ids: list[str], sign: int) -> None:
    if not record_ids:
        return
    key = [_payout.c[name] for name in _TOTAL_KEY]
    paid = (
        select(*key, sign * func.sum(_payout.c.amount_fen), sign * func.count())
        .where(one_of(session, _payout.c.record_id, record_ids), _payout.c.status == PAID)
        .group_by(*key)
    )
    session.execute(
        _adding_to_totals(dialect_insert(session, _totals).from_select(_TOTALS_COLUMNS, paid))
    )


def _adding_to_totals(statement: Any) -> Any:
    """`statement`, an INSERT into the month totals, adding to a total already kept."""
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=list(_TOTAL_KEY),
        set_={
            "total_fen": _totals.c.total_fen + excluded.total_fen,
            "line_count": _totals.c.line_count + excluded.line_count,
        },
    )


def _totals_add(insert: Any, staged: Any = None) -> Any:
    return _adding_to_totals(_values(insert, _totals, _TOTALS_COLUMNS, None, staged))


_TOTALS_ADD = BulkInsert(_totals_add, _TOTALS_COLUMNS)
_TOTALS_ADD_STAGED = StagedInsert(_totals, _TOTALS_COLUMNS, _totals_add)


def rebuild_month_totals(session: Session) -> None:
    """The month totals summed again from every line (for lines written around the store, as a
    benchmark writes them)."""
    key = [_payout.c[name] for name in _TOTAL_KEY]
    session.execute(delete(PayoutMonthTotal))
    session.execute(
        insert(PayoutMonthTotal).from_select(
            [*_TOTAL_KEY, "total_fen", "line_count"],
            select(*key, func.sum(_payout.c.amount_fen), func.count())
            .where(_payout.c.status == PAID)
            .group_by(*key),
        )
    )


def month_totals() -> Select[Any]:
    """The month totals of villages and items with paid lines that month: `village_code`,
    `item_name`, `period`, `total_fen`."""
    return select(
        _totals.c.village_code, _totals.c.item_name, _totals.c.period, _totals.c.total_fen
    ).where(_totals.c.line_count > 0)


# --- screening: flags --------------------------------------------------------------------------


class MaskedPerson(NamedTuple):
    """A person as a flag shows them: masked only."""

    id: int
    name_masked: str
    id_masked: str


class LineDetail(NamedTuple):
    """A payout line's current version, as a flag or an objection reads it."""

    record_id: str
    person_id: int
    village_code: str
    category_code: str
    item_name: str
    amount_fen: int
    period: str
    paid_on: date
    status: str
    department: str


_LINE_DETAIL = select(
    _payout.c.record_id,
    _payout.c.person_id,
    _payout.c.village_code,
    _payout.c.category_code,
    _payout.c.item_name,
    _payout.c.amount_fen,
    _payout.c.period,
    _payout.c.paid_on,
    _payout.c.status,
    _payout.c.department,
)


def persons_by_id(session: Session, person_ids: Iterable[int]) -> dict[int, MaskedPerson]:
    """The masked name and ID of each of these persons that is stored, in one query."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(_person.c.id, _person.c.name_masked, _person.c.id_masked).where(
            _person.c.id.in_(ids)
        )
    )
    return {row[0]: MaskedPerson._make(row) for row in rows}


def lines_by_record_id(session: Session, record_ids: Iterable[str]) -> dict[str, LineDetail]:
    """The current version of each of these lines that is stored (reversed ones too)."""
    ids = list(dict.fromkeys(record_ids))
    if not ids:
        return {}
    rows = session.execute(_LINE_DETAIL.where(one_of(session, _payout.c.record_id, ids)))
    return {row[0]: LineDetail._make(row) for row in rows}


def line_of_village_month(
    session: Session, record_id: str, *, village_code: str, period: str
) -> LineDetail | None:
    """The line, when it is on that village's list of that month (reversed lines are listed)."""
    row = session.execute(
        _LINE_DETAIL.where(
            _payout.c.record_id == record_id,
            _payout.c.village_code == village_code,
            _payout.c.period == period,
        )
    ).first()
    return LineDetail._make(row) if row is not None else None


# --- screening: disclosure ---------------------------------------------------------------------


class VillageYearPaid(NamedTuple):
    total_fen: int
    persons: int


def _village_year(village_code: str, year: int) -> list[Any]:
    """Paid lines of a village in a year, by the (village, period) index."""
    return [
        _payout.c.village_code == village_code,
        _payout.c.period >= f"{year:04d}-01",
        _payout.c.period <= f"{year:04d}-12",
        _payout.c.status == PAID,
    ]


def village_year_paid_lines(village_code: str, year: int) -> Any:
    """The paid lines (reversed ones left out) of a village in a year, as a subquery with the
    columns `person_id`, `id_hash` and `name_masked` (of the person), `category_code`,
    `item_name` and `amount_fen`: a caller joins it to its own tables by `id_hash`."""
    return (
        select(
            _payout.c.person_id,
            _person.c.id_hash,
            _person.c.name_masked,
            _payout.c.category_code,
            _payout.c.item_name,
            _payout.c.amount_fen,
        )
        .join_from(_payout, _person, _person.c.id == _payout.c.person_id)
        .where(*_village_year(village_code, year))
        .subquery("village_year_paid")
    )


def village_year_paid(session: Session, village_code: str, *, year: int) -> VillageYearPaid:
    """What a village's paid lines of a year add up to, and how many persons they paid."""
    total, persons = session.execute(
        select(
            func.coalesce(func.sum(_payout.c.amount_fen), 0),
            func.count(func.distinct(_payout.c.person_id)),
        ).where(*_village_year(village_code, year))
    ).one()
    return VillageYearPaid(int(total), int(persons))


# --- screening: standards ----------------------------------------------------------------------


def item_is_paid(session: Session, item_name: str) -> bool:
    """Whether any stored line is of this item (a name the county's list may not know)."""
    found = session.scalar(
        select(_payout.c.record_id).where(_payout.c.item_name == item_name).limit(1)
    )
    return found is not None


# --- screening: rules ---------------------------------------------------------------------------
# The screening rules (app.screening.checks) read payouts as selectables with named columns, to
# build their set-based SQL on; `payout` holds the latest version of each record, so a line
# corrected or reversed at the source is read as it now stands.

PAID_LINE_COLUMNS = (
    "record_id",
    "person_id",
    "village_code",
    "category_code",
    "item_name",
    "amount_fen",
    "period",
)


def paid_lines(
    *, birth_on: bool = True, id_hash: bool = False, source: Table | None = None
) -> Select[Any]:
    """The paid lines (the latest version of each record, its status `paid`: a reversed line is
    not paid), with the columns of PAID_LINE_COLUMNS and, when asked, their person's `birth_on`
    and `id_hash` (the keyed hash the screening lists are kept by). `source`: a table of
    `line_table`'s columns to read them from instead of every stored line."""
    lines = stored_lines(birth_on=birth_on, id_hash=id_hash, source=source)
    return lines.where(lines.selected_columns.status == PAID)


def stored_lines(
    *, birth_on: bool = False, id_hash: bool = False, source: Table | None = None
) -> Select[Any]:
    """The latest version of every line, paid or not: as `paid_lines`, with `status`. Without
    a person's column, the person table is left out of the statement."""
    lines = _payout if source is None else source
    statement = select(*(lines.c[name] for name in PAID_LINE_COLUMNS), lines.c.status)
    if birth_on or id_hash:
        person_columns = [_person.c.birth_on] if birth_on else []
        person_columns += [_person.c.id_hash] if id_hash else []
        statement = statement.add_columns(*person_columns).join_from(
            lines, _person, _person.c.id == lines.c.person_id
        )
    return statement


def line_table(name: str, metadata: MetaData) -> Table:
    """A temporary table of the columns `stored_lines` answers, for a screening run to keep a
    few lines in and read them again (app.screening.scope)."""
    columns = [*PAID_LINE_COLUMNS, "status"]
    return Table(
        name,
        metadata,
        *(Column(n, _payout.c[n].type) for n in columns),
        prefixes=["TEMPORARY"],
    )


def count_lines_synced_since(session: Session, since: datetime) -> int:
    """How many lines' latest version was stored at `since` or later (by the synced_at index)."""
    return session.scalar(select(func.count()).where(_payout.c.synced_at >= since)) or 0


def lines_synced_since(since: datetime) -> Select[Any]:
    """The lines, paid or not, whose latest version was stored at `since` or later (a line sent
    again unchanged keeps its time): `record_id`, `person_id`, `period`, `village_code`,
    `item_name`."""
    return select(
        _payout.c.record_id,
        _payout.c.person_id,
        _payout.c.period,
        _payout.c.village_code,
        _payout.c.item_name,
    ).where(_payout.c.synced_at >= since)


def earlier_versions(records: Any) -> Select[Any]:
    """The earlier versions of the records of `records` (a table or subquery with a
    `record_id` column), as their person (by id: a version whose person is stored nowhere is
    left out), `period`, `village_code` and `item_name` then stood: a correction may have moved
    a line to another person, month or item."""
    return (
        select(
            _person.c.id.label("person_id"),
            _history.c.period,
            _history.c.village_code,
            _history.c.item_name,
        )
        .select_from(records)
        .join(_history, _history.c.record_id == records.c.record_id)
        .join(_person, _person.c.id_hash == _history.c.person_hash)
    )


def persons_of_hashes(id_hashes: Any) -> Select[Any]:
    """The ids (`person_id`) of the persons whose keyed hash is among `id_hashes` (a select of
    hashes: a screening list's), found by the hashes' index."""
    return select(_person.c.id.label("person_id")).where(_person.c.id_hash.in_(id_hashes))
