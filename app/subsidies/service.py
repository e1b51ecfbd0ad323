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
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from app import ratelimit
from app.config import Settings
from app.db.fastpath import ReadConnection
from app.errors import InvalidState, NotFound
from app.policies import service as policies_service
from app.subsidies import identity, store
from app.subsidies.categories import category_name
from app.subsidies.items import frequency_label
from app.subsidies.schemas import (
    CategoryTotal,
    LookupRequest,
    LookupResponse,
    PayoutIn,
    StoreCounts,
    YearTotal,
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
    the first `limit` persons met (forgetting all at once when full would serve few). Also the
    next free id, read once: the run holds the sync lease, so no one else gives ids
    meanwhile. It lives as long as the run's one transaction chain (app.sync.steps.store_pages):
    a rolled-back group ends the run, and the ids it gave out with it."""

    def __init__(self, limit: int = identity.PERSONS_PER_RUN) -> None:
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
    """Store one page of checked records, in order; returns how each record counted.

    The caller holds the sync lease (app.sync.lease): no other writer of payouts or persons
    runs, so the versions read here stay true until commit, and so do the person ids given out.
    Records not stored yet then go in as new lines; only newer versions of stored ones replace
    lines (see app.subsidies.store). A writer that broke the rule would fail on a primary key,
    never overwrite silently.

    `known_persons`, kept by the caller across the pages of one run, spares looking up and
    re-writing a person already met in this run."""
    if not records:
        return StoreCounts()
    stored = store.versions_of(session, (r.record_id for r in records))
    page = _sort_by_version(records, stored)
    if page.replayed:
        compared = _compare_with_stored(session, page.replayed, stored)
        page.superseded += compared.new_history
        page.unchanged += len(compared.new_history) + compared.same
        page.conflicts += compared.conflicts

    to_store = page.latest.values()
    person_ids = _write_persons(
        session, {r.id_hash: r for r in to_store}, known_persons or KnownPersons()
    )
    store.insert_history(session, page.superseded)
    store.insert_lines(session, [r for r in to_store if r.record_id not in stored], person_ids)
    store.replace_lines(session, [r for r in to_store if r.record_id in stored], person_ids)
    return StoreCounts(
        created=page.created,
        updated=page.updated,
        unchanged=page.unchanged,
        conflicts=tuple(page.conflicts),
    )


@dataclass
class SortedPage:
    """A page's records sorted against the stored versions and one another."""

    latest: dict[str, PayoutIn] = field(default_factory=dict)  # to store, by record_id
    superseded: list[PayoutIn] = field(default_factory=list)  # lower versions, for the history
    replayed: list[PayoutIn] = field(default_factory=list)  # at most the stored version
    conflicts: list[PayoutIn] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _sort_by_version(records: list[PayoutIn], stored: dict[str, int]) -> SortedPage:
    """A record newer than the stored version (or not stored) is the latest of its record_id
    unless a newer one follows in the page; one at most the stored version is a replay, to
    compare with what is stored (`_compare_with_stored`); the same record_id and version twice
    in the page is unchanged when the content is the same, else a conflict."""
    page = SortedPage()
    known = dict(stored)
    in_page: dict[tuple[str, int], PayoutIn] = {}
    for record in records:
        stored_version = stored.get(record.record_id)
        if stored_version is not None and record.version <= stored_version:
            page.replayed.append(record)
            continue
        key = (record.record_id, record.version)
        earlier = in_page.get(key)
        if earlier is not None:
            if store.content_of(earlier) == store.content_of(record):
                page.unchanged += 1
            else:
                page.conflicts.append(record)
            continue
        in_page[key] = record
        version = known.get(record.record_id)
        if version is None:
            page.created += 1
        elif record.version > version:
            page.updated += 1
        else:  # older than a version earlier in this page
            page.unchanged += 1
            page.superseded.append(record)
            continue
        previous = page.latest.get(record.record_id)
        if previous is not None:
            page.superseded.append(previous)
        known[record.record_id] = record.version
        page.latest[record.record_id] = record
    return page


class StoredComparison(NamedTuple):
    new_history: list[PayoutIn]  # a lower version not kept yet
    same: int  # how many are the same as stored
    conflicts: list[PayoutIn]  # other content than stored of that version


def _compare_with_stored(
    session: Session, records: list[PayoutIn], stored_versions: dict[str, int]
) -> StoredComparison:
    """Records whose version is at most the stored one's, against what is stored of that
    version (the line, or its history): those to add to the history (a lower version not kept
    yet), how many are the same as stored, and those with other content (conflicts)."""
    kept: dict[tuple[str, int], tuple[Any, ...]] = dict(
        store.contents_of_versions(session, (r.record_id for r in records))
    )
    new_history: list[PayoutIn] = []
    same = 0
    conflicts: list[PayoutIn] = []
    for record in records:
        key = (record.record_id, record.version)
        sent: tuple[Any, ...] = store.content_of(record)
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
    to_write: list[tuple[int, PayoutIn]] = []
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
            to_write.append((person_id, record))
    if unknown:
        stored = store.persons_by_hash(session, (r.id_hash for r in unknown))
        for record in unknown:
            found = stored.get(record.id_hash)
            if found is None:
                if known.next_id is None:
                    known.next_id = store.next_person_id(session)
                person_id = known.next_id
                known.next_id += 1
            else:
                person_id = found.id
            ids[record.id_hash] = person_id
            met[record.id_hash] = (person_id, digest(record))
            if found is None or (found.name_hash, found.village_code) != (
                record.name_hash,
                record.village_code,
            ):
                to_write.append((person_id, record))
    store.write_persons(session, to_write)
    known.remember(met)
    return ids


# --- the villager's lookup ---------------------------------------------------------------------


def category_totals(sums: list[store.CategorySum]) -> list[CategoryTotal]:
    return [
        CategoryTotal(
            category_code=s.category_code,
            category_name=category_name(s.category_code),
            total=s.total_fen,
            count=s.line_count,
        )
        for s in sums
    ]


def paid_by_category(lines: list[store.LineRow]) -> list[store.CategorySum]:
    """The paid lines (reversed ones left out) summed by category, in code order."""
    sums = _paid_sums(lines, attrgetter("category_code"))
    return [store.CategorySum(code, *sums[code]) for code in sorted(sums)]


def paid_by_year(lines: list[store.LineRow]) -> list[YearTotal]:
    """The paid lines (reversed ones left out) summed by year, newest first."""
    sums = _paid_sums(lines, lambda line: int(line.period[:4]))
    return [
        YearTotal(year=year, total=total, count=count)
        for year, (total, count) in sorted(sums.items(), reverse=True)
    ]


def _paid_sums(
    lines: list[store.LineRow], key: Callable[[store.LineRow], Any]
) -> dict[Any, tuple[int, int]]:
    """Amount and number of the paid lines by `key`: summed from the lines the lookup has
    read, not by two more statements (docs/performance.md#lookup-sums-from-its-lines)."""
    sums: dict[Any, tuple[int, int]] = {}
    for line in lines:
        if line.status == store.PAID:
            group = key(line)
            total, count = sums.get(group, (0, 0))
            sums[group] = (total + line.amount_fen, count + 1)
    return sums


async def count_lookup(client: str, *, settings: Settings) -> None:
    """Counts one lookup of `client` (the API's and the H5 page's alike): RateLimited (429) past
    `lookup_limit_per_client`."""
    await ratelimit.hit_off_loop(settings.lookup_limit_per_client, "subsidy-lookup", client)


def lookup(
    connection: ReadConnection, *, request: LookupRequest, settings: Settings
) -> LookupResponse:
    """The caller has counted the lookup against the client's rate limit
    (app.subsidies.router.counted_lookup)."""
    try:
        number = identity.check_id(request.id_number)
    except identity.InvalidIdNumber as exc:
        raise IdNumberInvalid(str(exc)) from None
    key = pepper(settings)
    person = store.person_by_hash(connection, identity.keyed_hash(key, number))
    # A name is checked as long when no person is found, so that the time tells nothing.
    expected = person.name_hash if person else identity.name_hash(key, "\0")
    name_ok = hmac.compare_digest(expected, identity.name_hash(key, request.name))
    if person is None or not name_ok:
        raise PersonNotFound("没有查到与该身份证号和姓名相符的补贴记录，请核对后再试。")

    year, category = request.year, request.category
    lines = store.lines_of_person(connection, person.id, year=year, category=category)
    categories = category_totals(paid_by_category(lines))
    policies = policies_service.policy_ids_by_item(connection)
    # one validation of the whole answer, not one per part: docs/performance.md#direct-route
    return LookupResponse.model_validate(
        {
            "person": {
                "name_masked": person.name_masked,
                "id_number_masked": person.id_masked,
                "village": person.village or person.village_code,
                "village_code": person.village_code,
            },
            "summary": {
                "total": sum(c.total for c in categories),
                "by_category": categories,
                "by_year": paid_by_year(lines),
            },
            "payouts": [
                {
                    "record_id": line.record_id,
                    "category_code": line.category_code,
                    "category_name": category_name(line.category_code),
                    "item_name": line.item_name,
                    "amount": line.amount_fen,
                    "period": line.period,
                    "paid_at": line.paid_on,
                    "status": line.status,
                    "department": line.department,
                    "frequency": frequency_label(line.item_name),
                    "policy_id": policies.get(line.item_name),
                }
                for line in lines
            ],
        }
    )
