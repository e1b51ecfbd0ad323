"""Payouts as synced from the 一卡通 platform, and the villager's lookup by ID number.

Invariants:
- No ID number or full name is stored: a person is the HMAC of their ID number; the name is kept
  as an HMAC (to check a lookup) and masked.
- `payout` holds the highest version of each record_id; every lower version seen is kept in
  `payout_version`. A replay (same or lower version) never changes `payout`.
- Reversed lines are shown as reversed and left out of every total; totals are summed in SQL.
- An unknown ID number and a wrong name get the same answer.
"""

import hmac
from typing import Any

from sqlalchemy import Integer, bindparam, cast, func, select, tuple_
from sqlalchemy.orm import Session

from app import ratelimit
from app.config import Settings
from app.db import dialect_insert
from app.errors import InvalidState, NotFound
from app.policies import service as policies_service
from app.regions import service as regions_service
from app.subsidies import identity
from app.subsidies.categories import category_name
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
_PAYOUT_FIELDS = (
    "record_id",
    "version",
    "person_hash",
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


def _payout_row(record: PayoutIn) -> dict[str, Any]:
    return {
        "record_id": record.record_id,
        "version": record.version,
        "person_hash": record.id_hash,
        "village_code": record.village_code,
        "category_code": record.category_code,
        "item_name": record.item_name,
        "amount_fen": record.amount_fen,
        "period": record.period,
        "paid_on": record.paid_on,
        "status": record.status,
        "department": record.department,
    }


def store_payouts(
    session: Session, records: list[PayoutIn], *, known_persons: dict[str, str] | None = None
) -> StoreCounts:
    """Upsert one page of checked records, in order; returns how each record counted.

    `known_persons` (person hash → name hash + village, kept by the caller across the pages of
    one run) spares re-writing a person already written unchanged in this run."""
    if not records:
        return StoreCounts()
    ids = list({r.record_id for r in records})
    payout, history, person = Payout.__table__, PayoutVersion.__table__, Person.__table__
    existing: dict[str, int] = {
        record_id: version
        for record_id, version in session.execute(
            select(Payout.record_id, Payout.version).where(Payout.record_id.in_(ids))
        )
    }
    known = dict(existing)
    latest: dict[str, PayoutIn] = {}
    superseded: list[PayoutIn] = []
    created = updated = unchanged = 0
    for record in records:
        version = known.get(record.record_id)
        if version is None:
            created += 1
        elif record.version > version:
            updated += 1
        else:
            unchanged += 1
            if record.version < version:
                superseded.append(record)
            continue
        previous = latest.get(record.record_id)
        if previous is not None:
            superseded.append(previous)
        known[record.record_id] = record.version
        latest[record.record_id] = record

    # Timestamps come from the database: binding one per row costs more than the row itself.
    now = func.current_timestamp()
    _upsert_persons(session, person, list(latest.values()), now, known_persons)
    replaced = [rid for rid in latest if rid in existing]
    columns = [*_PAYOUT_FIELDS, "synced_at"]
    if replaced:  # keep the versions about to be overwritten
        session.execute(
            dialect_insert(session, history)
            .from_select(
                columns,
                select(*(payout.c[f] for f in columns)).where(payout.c.record_id.in_(replaced)),
            )
            .on_conflict_do_nothing()
        )
    if superseded:
        session.execute(
            dialect_insert(session, history).values(synced_at=now).on_conflict_do_nothing(),
            [_payout_row(r) for r in superseded],
        )
    if latest:
        insert = dialect_insert(session, payout).values(synced_at=now)
        excluded = insert.excluded
        session.execute(
            insert.on_conflict_do_update(
                index_elements=[payout.c.record_id],
                set_={f: excluded[f] for f in columns[1:]},
                where=payout.c.version < excluded.version,
            ),
            [_payout_row(r) for r in latest.values()],
        )
    return StoreCounts(created=created, updated=updated, unchanged=unchanged)


def _upsert_persons(
    session: Session,
    person: Any,
    records: list[PayoutIn],
    now: Any,
    known: dict[str, str] | None,
) -> None:
    if known is not None:
        records = [r for r in records if known.get(r.id_hash) != r.name_hash + r.village_code]
    people: dict[str, dict[str, Any]] = {
        r.id_hash: {
            "id_hash": r.id_hash,
            "name_hash": r.name_hash,
            "name_masked": r.name_masked,
            "id_masked": r.id_masked,
            "village_code": r.village_code,
            "birth_on": r.birth_on,
            "sex": r.sex,
        }
        for r in records
    }
    if not people:
        return
    insert = dialect_insert(session, person).values(updated_at=now)
    excluded = insert.excluded
    session.execute(
        insert.on_conflict_do_update(
            index_elements=[person.c.id_hash],
            set_={
                "name_hash": excluded.name_hash,
                "name_masked": excluded.name_masked,
                "village_code": excluded.village_code,
                "updated_at": excluded.updated_at,
            },
            where=tuple_(person.c.name_hash, person.c.village_code)
            != tuple_(excluded.name_hash, excluded.village_code),
        ),
        list(people.values()),
    )
    if known is not None:
        known.update((k, v["name_hash"] + v["village_code"]) for k, v in people.items())


# --- the villager's lookup ---------------------------------------------------------------------


# The lookup's statements, built once (building them costs more than running them).
_payout = Payout.__table__
_person = Person.__table__
_PERSON = select(
    _person.c.id_hash,
    _person.c.name_hash,
    _person.c.name_masked,
    _person.c.id_masked,
    _person.c.village_code,
).where(_person.c.id_hash == bindparam("h"))
_LINES = (
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
    .where(_payout.c.person_hash == bindparam("h"))
    .order_by(_payout.c.period.desc(), _payout.c.paid_on.desc(), _payout.c.record_id.desc())
)
_PAID = (_payout.c.person_hash == bindparam("h"), _payout.c.status == PAID)
_BY_CATEGORY = (
    select(_payout.c.category_code, func.sum(_payout.c.amount_fen), func.count())
    .where(*_PAID)
    .group_by(_payout.c.category_code)
    .order_by(_payout.c.category_code)
)
_YEAR = cast(func.substr(_payout.c.period, 1, 4), Integer)
_BY_YEAR = (
    select(_YEAR, func.sum(_payout.c.amount_fen), func.count())
    .where(*_PAID)
    .group_by(_YEAR)
    .order_by(_YEAR.desc())
)


def lookup(
    session: Session, *, request: LookupRequest, client: str, settings: Settings
) -> LookupResponse:
    ratelimit.hit(settings.lookup_limit_per_client, "subsidy-lookup", client)
    try:
        number = identity.check_id(request.id_number)
    except identity.InvalidIdNumber as exc:
        raise IdNumberInvalid(str(exc)) from None
    key = pepper(settings)
    person = session.execute(_PERSON, {"h": identity.keyed_hash(key, number)}).first()
    expected = person.name_hash if person else identity.name_hash(key, "\0")
    name_ok = hmac.compare_digest(expected, identity.name_hash(key, request.name))
    if person is None or not name_ok:
        raise PersonNotFound("没有查到与该身份证号和姓名相符的补贴记录，请核对后再试。")

    statements = [_LINES, _BY_CATEGORY, _BY_YEAR]
    if request.year is not None:
        in_year = _payout.c.period.startswith(f"{request.year:04d}-")
        statements = [s.where(in_year) for s in statements]
    if request.category is not None:
        in_category = _payout.c.category_code == request.category
        statements = [s.where(in_category) for s in statements]
    params = {"h": person.id_hash}
    payouts, by_category, by_year = (session.execute(s, params).all() for s in statements)
    categories = [
        CategoryTotal(category_code=code, category_name=category_name(code), total=total, count=n)
        for code, total, n in by_category
    ]
    policies = policies_service.policy_ids_by_item(session)
    return LookupResponse(
        person=PersonRead(
            name_masked=person.name_masked,
            id_number_masked=person.id_masked,
            village=regions_service.full_names(session, [person.village_code]).get(
                person.village_code, person.village_code
            ),
            village_code=person.village_code,
        ),
        summary=Summary(
            total=sum(c.total for c in categories),
            by_category=categories,
            by_year=[YearTotal(year=y, total=t, count=n) for y, t, n in by_year],
        ),
        payouts=[
            PayoutRead(
                record_id=p.record_id,
                category_code=p.category_code,
                category_name=category_name(p.category_code),
                item_name=p.item_name,
                amount=p.amount_fen,
                period=p.period,
                paid_at=p.paid_on,
                status=p.status,
                department=p.department,
                policy_id=policies.get(p.item_name),
            )
            for p in payouts
        ],
    )
