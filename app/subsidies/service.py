"""Payouts as synced from the 一卡通 platform, and the villager's lookup by ID number.

Invariants:
- No ID number or full name is stored: a person is the HMAC of their ID number; the name is kept
  as an HMAC (to check a lookup) and masked.
- `payout` holds the highest version of each record_id; every lower version seen is kept in
  `payout_version`. A replay (same or lower version) never changes `payout`; a version seen
  before with other content is not stored but handed back as a conflict.
- Reversed lines are shown as reversed and left out of every total; totals are summed in SQL.
- An unknown ID number and a wrong name get the same answer.
"""

import hmac
from functools import cache
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection, Integer, bindparam, cast, func, literal_column, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import BulkInsert, FastSelect, dialect_insert, one_of
from app.errors import InvalidState, NotFound
from app.policies import service as policies_service
from app.regions import service as regions_service
from app.subsidies import identity
from app.subsidies.categories import category_name
from app.subsidies.items import frequency_label
from app.subsidies.models import Payout, PayoutVersion, Person
from app.subsidies.schemas import (
    CategoryTotal,
    LookupRequest,
    LookupResponse,
    PayoutIn,
    PayoutRead,
    PersonRead,
    StoreCounts,
    Summary,
    YearTotal,
)

PAID = "paid"
# A payout line's own columns but its person (an id in `payout`, a hash in `payout_version`),
# which comes third in the sync's bulk writes, as in the tables.
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


class IdNumberInvalid(InvalidState):
    code = "id_number_invalid"
    title = "身份证号不正确"


class PersonNotFound(NotFound):
    code = "person_not_found"
    title = "没有查到补贴记录"


def pepper(settings: Settings) -> bytes:
    return settings.secret("id_pepper").encode()


# --- storing what the feed sends ---------------------------------------------------------------


class KnownPersons:
    """The persons one sync run has met, so that a person met again (every month of the feed
    meets most of them) is neither looked up nor written again: their hash → their id and a
    64-bit digest of what is stored of them (name, village). About 150 bytes a person, for
    the first `limit` persons met: each month of the feed brings them in the same order, so
    those kept serve every month (forgetting all at once when full would serve few). Also the
    next free id, read once: the run holds the sync lease, so no one else gives ids
    meanwhile."""

    def __init__(self, limit: int = 300_000) -> None:
        self.limit = limit
        self._known: dict[bytes, int] = {}  # id << 64 | digest: one small object a person
        self.next_id: int | None = None

    @staticmethod
    def digest(record: PayoutIn) -> int:
        return hash((record.name_hash, record.village_code)) & _DIGEST_MASK

    def get(self, id_hash: bytes) -> tuple[int, int] | None:
        entry = self._known.get(id_hash)
        return None if entry is None else (entry >> 64, entry & _DIGEST_MASK)

    def remember(self, entries: dict[bytes, tuple[int, int]]) -> None:
        """New persons while there is room; a person kept already, always (they moved, or
        were renamed)."""
        known = self._known
        for id_hash, (person_id, digest) in entries.items():
            if len(known) < self.limit or id_hash in known:
                known[id_hash] = person_id << 64 | digest


_DIGEST_MASK = (1 << 64) - 1


def store_payouts(
    session: Session, records: list[PayoutIn], *, known_persons: KnownPersons | None = None
) -> StoreCounts:
    """Upsert one page of checked records, in order; returns how each record counted.

    The caller holds the sync lease (app.sync.service): no other writer of payouts or persons
    runs, so the versions read here stay true until commit, and so do the person ids given out.
    Records not stored yet are then plain INSERTs; only newer versions of stored ones go through
    the upsert: on SQLite, an upsert costs about 1.5 times a plain insert
    (`scripts/bench_db_paths`). A writer that broke the rule would fail on a primary key, never
    overwrite silently.

    `known_persons`, kept by the caller across the pages of one run, spares looking up and
    re-writing a person already met in this run. Rows go to the database in the feed's order:
    the payout table's own b-tree (by record id, in the order a platform numbers its payouts)
    and its person index (by person id, in the order persons were first met) then take them in
    runs."""
    if not records:
        return StoreCounts()
    ids = list({r.record_id for r in records})
    existing: dict[str, int] = {
        record_id: version
        for record_id, version in session.execute(
            select(Payout.record_id, Payout.version).where(one_of(session, Payout.record_id, ids))
        )
    }
    known = dict(existing)
    latest: dict[str, PayoutIn] = {}
    in_page: dict[tuple[str, int], PayoutIn] = {}
    superseded: list[PayoutIn] = []
    replayed: list[PayoutIn] = []  # versions the database may have: compared below
    conflicts: list[PayoutIn] = []
    created = updated = unchanged = 0
    for record in records:
        stored = existing.get(record.record_id)
        if stored is not None and record.version <= stored:
            replayed.append(record)
            continue
        key = (record.record_id, record.version)
        earlier = in_page.get(key)
        if earlier is not None:
            if _LINE_CONTENT(earlier) == _LINE_CONTENT(record):
                unchanged += 1
            else:
                conflicts.append(record)
            continue
        in_page[key] = record
        version = known.get(record.record_id)
        if version is None:
            created += 1
        elif record.version > version:
            updated += 1
        else:  # older than a version earlier in this page
            unchanged += 1
            superseded.append(record)
            continue
        previous = latest.get(record.record_id)
        if previous is not None:
            superseded.append(previous)
        known[record.record_id] = record.version
        latest[record.record_id] = record
    if replayed:
        compared = _compare_with_stored(session, replayed, existing)
        superseded += compared.new_history
        unchanged += len(compared.new_history) + compared.same
        conflicts += compared.conflicts

    to_store = latest.values()
    person_ids = _write_persons(
        session, {r.id_hash: r for r in to_store}, known_persons or KnownPersons()
    )
    new = [r for r in to_store if r.record_id not in existing]
    newer = [r for r in to_store if r.record_id in existing]
    if newer:  # keep the versions about to be overwritten
        replaced = [r.record_id for r in newer]
        columns = [*_LINE_FIELDS, "synced_at"]
        session.execute(
            dialect_insert(session, _history)
            .from_select(
                [*columns, "person_hash"],
                select(*(_payout.c[f] for f in columns), _person.c.id_hash)
                .join_from(_payout, _person, _person.c.id == _payout.c.person_id)
                .where(_payout.c.record_id.in_(replaced)),
            )
            .on_conflict_do_nothing()
        )
    _HISTORY_INSERT.execute(session, [_line(r, r.id_hash) for r in superseded])
    _PAYOUT_INSERT.execute(session, [_line(r, person_ids[r.id_hash]) for r in new])
    _PAYOUT_UPSERT.execute(session, [_line(r, person_ids[r.id_hash]) for r in newer])
    return StoreCounts(
        created=created, updated=updated, unchanged=unchanged, conflicts=tuple(conflicts)
    )


class StoredComparison(NamedTuple):
    new_history: list[PayoutIn]  # a lower version not kept yet
    same: int  # how many are the same as stored
    conflicts: list[PayoutIn]  # other content than stored of that version


def _compare_with_stored(
    session: Session, records: list[PayoutIn], stored_versions: dict[str, int]
) -> StoredComparison:
    """Records whose version is at most the stored one's, against what is stored of that
    version (the line, or its history): those to add to the history (a lower version not kept
    yet), how many are the same as stored, and those with other content (conflicts). Content
    is the line's own fields and its person (a person's name is kept per person, not per
    version, so a name alone is not compared)."""
    ids = list({r.record_id for r in records})
    kept: dict[tuple[str, int], tuple[Any, ...]] = {}
    for record_id, version, *content in session.execute(
        select(
            _payout.c.record_id,
            _payout.c.version,
            _person.c.id_hash,
            *(_payout.c[f] for f in _LINE_FIELDS[2:]),
        )
        .join_from(_payout, _person, _person.c.id == _payout.c.person_id)
        .where(one_of(session, _payout.c.record_id, ids))
    ):
        kept[(record_id, version)] = tuple(content)
    history = _history.c
    for record_id, version, *content in session.execute(
        select(
            history.record_id,
            history.version,
            history.person_hash,
            *(history[f] for f in _LINE_FIELDS[2:]),
        )
        .select_from(_history)
        .where(one_of(session, history.record_id, ids))
    ):
        kept[(record_id, version)] = tuple(content)
    new_history: list[PayoutIn] = []
    same = 0
    conflicts: list[PayoutIn] = []
    for record in records:
        key = (record.record_id, record.version)
        sent: tuple[Any, ...] = _LINE_CONTENT(record)
        found = kept.get(key)
        if found is None and record.version < stored_versions[record.record_id]:
            kept[key] = sent  # a lower version not kept yet: kept now
            new_history.append(record)
        elif found == sent:
            same += 1
        else:
            conflicts.append(record)
    return StoredComparison(new_history, same, conflicts)


def _write_persons(
    session: Session, people: dict[bytes, PayoutIn], known: KnownPersons
) -> dict[bytes, int]:
    """The id of each person of a page (by hash, from their last record in it), after writing
    who is new, renamed or moved. New persons get the next free ids, in the page's order."""
    ids: dict[bytes, int] = {}
    met: dict[bytes, tuple[int, int]] = {}
    to_write: list[tuple[Any, ...]] = []
    unknown: list[PayoutIn] = []
    digest = known.digest
    for id_hash, record in people.items():
        entry = known.get(id_hash)
        if entry is None:
            unknown.append(record)
            continue
        person_id, now = entry[0], digest(record)
        ids[id_hash] = person_id
        if entry[1] != now:
            met[id_hash] = (person_id, now)
            to_write.append((person_id, *_PERSON_ROW(record)))
    if unknown:
        stored = {
            id_hash: (person_id, name_hash, village_code)
            for id_hash, person_id, name_hash, village_code in session.execute(
                select(
                    _person.c.id_hash, _person.c.id, _person.c.name_hash, _person.c.village_code
                ).where(_person.c.id_hash.in_([r.id_hash for r in unknown]))
            )
        }
        for record in unknown:
            found = stored.get(record.id_hash)
            if found is None:
                if known.next_id is None:
                    known.next_id = _next_person_id(session)
                person_id = known.next_id
                known.next_id += 1
            else:
                person_id = found[0]
            ids[record.id_hash] = person_id
            met[record.id_hash] = (person_id, digest(record))
            if found is None or found[1:] != (record.name_hash, record.village_code):
                to_write.append((person_id, *_PERSON_ROW(record)))
    _PERSON_UPSERT.execute(session, to_write)
    known.remember(met)
    return ids


def _next_person_id(session: Session) -> int:
    return (session.scalar(select(func.max(_person.c.id))) or 0) + 1


# The sync's bulk writes. Timestamps come from the database: binding one per row costs more
# than the row itself.
_payout, _person, _history = Payout.__table__, Person.__table__, PayoutVersion.__table__
_LINE_REST = attrgetter(*_LINE_FIELDS[2:])


def _line(record: PayoutIn, person: Any) -> tuple[Any, ...]:
    return (record.record_id, record.version, person, *_LINE_REST(record))


# What must be equal for the same record_id and version sent again to be a replay.
_CONTENT_FIELDS = ("id_hash", *_LINE_FIELDS[2:])
_LINE_CONTENT = attrgetter(*_CONTENT_FIELDS)


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


def _values(insert: Any, table: Any, fields: tuple[str, ...], now_column: str) -> Any:
    values: dict[str, Any] = {f: bindparam(f) for f in fields}
    return insert(table).values({**values, now_column: func.current_timestamp()})


_PAYOUT_COLUMNS = (*_LINE_FIELDS[:2], "person_id", *_LINE_FIELDS[2:])
_HISTORY_COLUMNS = (*_LINE_FIELDS[:2], "person_hash", *_LINE_FIELDS[2:])
_PERSON_COLUMNS = ("id", *_PERSON_FIELDS)


def _payout_upsert(insert: Any) -> Any:
    statement = _values(insert, _payout, _PAYOUT_COLUMNS, "synced_at")
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[_payout.c.record_id],
        set_={f: excluded[f] for f in (*_PAYOUT_COLUMNS[1:], "synced_at")},
        where=_payout.c.version < excluded.version,
    )


def _person_upsert(insert: Any) -> Any:
    """New persons, and the new name or village of stored ones (their hash and id stay)."""
    statement = _values(insert, _person, _PERSON_COLUMNS, "updated_at")
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


_PAYOUT_INSERT = BulkInsert(
    lambda insert: _values(insert, _payout, _PAYOUT_COLUMNS, "synced_at"), _PAYOUT_COLUMNS
)
_PAYOUT_UPSERT = BulkInsert(_payout_upsert, _PAYOUT_COLUMNS)
_PERSON_UPSERT = BulkInsert(_person_upsert, _PERSON_COLUMNS)
_HISTORY_INSERT = BulkInsert(
    lambda insert: _values(
        insert, _history, _HISTORY_COLUMNS, "synced_at"
    ).on_conflict_do_nothing(),
    _HISTORY_COLUMNS,
)


# --- the villager's lookup ---------------------------------------------------------------------


# The lookup's statements, built and compiled once (both cost more than running them), and run on
# the driver's cursor (see FastSelect).
_PERSON = FastSelect(
    select(
        _person.c.name_hash,
        _person.c.name_masked,
        _person.c.id_masked,
        _person.c.village_code,
        regions_service.full_name_of(_person.c.village_code).label("village"),
        _person.c.id,
    ).where(_person.c.id_hash == bindparam("h"))
)


@cache
def _payout_statements(year: bool, category: bool) -> tuple[FastSelect, FastSelect, FastSelect]:
    """A person's lines, totals by category and totals by year, with the request's filters
    (bound as `year` and `category`) when `year` and `category` say so."""
    # Constants written out, not bound: PostgreSQL must see the GROUP BY's expression as the
    # one selected (see FastSelect).
    year_of = cast(func.substr(_payout.c.period, literal_column("1"), literal_column("4")), Integer)
    where = [_payout.c.person_id == bindparam("person")]
    if year:
        where.append(year_of == bindparam("year"))
    if category:
        where.append(_payout.c.category_code == bindparam("category"))
    paid = [*where, _payout.c.status == PAID]
    lines = (
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
        .where(*where)
        .order_by(_payout.c.period.desc(), _payout.c.paid_on.desc(), _payout.c.record_id.desc())
    )
    by_category = (
        select(_payout.c.category_code, func.sum(_payout.c.amount_fen), func.count())
        .where(*paid)
        .group_by(_payout.c.category_code)
        .order_by(_payout.c.category_code)
    )
    by_year = (
        select(year_of, func.sum(_payout.c.amount_fen), func.count())
        .where(*paid)
        .group_by(year_of)
        .order_by(year_of.desc())
    )
    return FastSelect(lines), FastSelect(by_category), FastSelect(by_year)


def lookup(connection: Connection, *, request: LookupRequest, settings: Settings) -> LookupResponse:
    """The caller has counted the lookup against the client's rate limit
    (app.subsidies.router.counted_lookup)."""
    try:
        number = identity.check_id(request.id_number)
    except identity.InvalidIdNumber as exc:
        raise IdNumberInvalid(str(exc)) from None
    key = pepper(settings)
    id_hash = identity.keyed_hash(key, number)
    found = _PERSON.rows(connection, h=id_hash)
    expected = found[0][0] if found else identity.name_hash(key, "\0")
    name_ok = hmac.compare_digest(expected, identity.name_hash(key, request.name))
    if not found or not name_ok:
        raise PersonNotFound("没有查到与该身份证号和姓名相符的补贴记录，请核对后再试。")
    _, name_masked, id_masked, village_code, village, person_id = found[0]

    statements = _payout_statements(request.year is not None, request.category is not None)
    params = {"person": person_id, "year": request.year, "category": request.category}
    payouts, by_category, by_year = (s.rows(connection, **params) for s in statements)
    categories = [
        CategoryTotal(category_code=code, category_name=category_name(code), total=total, count=n)
        for code, total, n in by_category
    ]
    policies = policies_service.policy_ids_by_item(connection)
    return LookupResponse(
        person=PersonRead(
            name_masked=name_masked,
            id_number_masked=id_masked,
            village=village or village_code,
            village_code=village_code,
        ),
        summary=Summary(
            total=sum(c.total for c in categories),
            by_category=categories,
            by_year=[YearTotal(year=y, total=t, count=n) for y, t, n in by_year],
        ),
        payouts=[
            PayoutRead(
                record_id=record_id,
                category_code=code,
                category_name=category_name(code),
                item_name=item,
                amount=amount,
                period=period,
                paid_at=paid_on,
                status=status,
                department=department,
                frequency=frequency_label(item),
                policy_id=policies.get(item),
            )
            for record_id, code, item, amount, period, paid_on, status, department in payouts
        ],
    )
