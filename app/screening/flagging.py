"""What a rule found, kept as flags: a re-run finds the same flag by its key instead of raising
another; a dismissed flag opens again only when its figures change (SPEC.md)."""

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.db.base import utcnow
from app.regions.service import township_of
from app.screening.models import Flag, FlagState
from app.screening.rules import RULES, RuleCode


class Finding(NamedTuple):
    """One finding of a rule: the lines (record_ids) and the figures a person reads to judge it."""

    village_code: str
    period: str
    record_ids: tuple[str, ...]
    figures: dict[str, Any]
    person_id: int | None = None
    item_name: str | None = None
    key: str | None = None  # by default the sorted record_ids; a village's month for village_jump


class Tally(NamedTuple):
    new: int = 0
    reopened: int = 0
    updated: int = 0


def finding_key(finding: Finding) -> str:
    raw = finding.key if finding.key is not None else "|".join(sorted(finding.record_ids))
    return hashlib.sha256(raw.encode()).hexdigest()


def figures_digest(figures: dict[str, Any]) -> str:
    canonical = json.dumps(figures, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# Statements on many flags take their ids this many at a time (SQLite's bound parameters).
CHUNK = 5000


def record_findings(
    session: Session, rule: RuleCode, findings: Iterable[Finding], *, run_id: int | None
) -> Tally:
    """Keep each finding as a flag of `rule`: new, unchanged (its row not written), its figures
    updated (open or confirmed), or opened again (dismissed and its figures changed; withdrawn,
    found again).
    Written in bulk statements (a full run finds tens of thousands): flags of the session that
    these change are expired, to be read again."""
    by_key = {finding_key(finding): finding for finding in findings}
    if not by_key:
        return Tally()
    existing = _existing(session, rule, list(by_key))
    version = RULES[rule].version
    new_rows: list[dict[str, Any]] = []
    updated_rows: list[dict[str, Any]] = []
    reopened_rows: list[dict[str, Any]] = []
    for key, finding in by_key.items():
        digest = figures_digest(finding.figures)
        flag = existing.get(key)
        if flag is None:
            new_rows.append(_new_flag(rule, version, key, digest, finding, run_id))
            continue
        flag_id, old_digest, state = flag
        reopen = state == FlagState.withdrawn or (
            state == FlagState.dismissed and old_digest != digest
        )
        if old_digest == digest and not reopen:
            continue  # found as it was: left untouched (a run rewrites no row it need not)
        change: dict[str, Any] = {
            "id": flag_id,
            "last_run_id": run_id,
            "figures": finding.figures,
            "figures_digest": digest,
            "rule_version": version,
            "record_ids": list(finding.record_ids),
        }
        if run_id is None:  # kept as it was
            del change["last_run_id"]
        if reopen:
            change |= {"state": FlagState.open, "reason": None, "closed_at": None}
            reopened_rows.append(change | {"closed_by_id": None})
        else:
            updated_rows.append(change)
    session.flush()
    if new_rows:
        session.execute(insert(Flag), new_rows)
    for changed in (updated_rows, reopened_rows):  # each with the same columns
        for rows in _chunks(changed):
            session.execute(update(Flag), rows)
    if updated_rows or reopened_rows:
        _expire_flags(session)
    return Tally(len(new_rows), len(reopened_rows), len(updated_rows))


class OpenFlag(NamedTuple):
    id: int
    key: str
    person_id: int | None
    period: str
    village_code: str
    item_name: str | None


def open_flags(session: Session, rule: RuleCode, *where: ColumnElement[bool]) -> list[OpenFlag]:
    """The open flags of `rule` (those that meet `where` too)."""
    rows = session.execute(
        select(
            Flag.id, Flag.key, Flag.person_id, Flag.period, Flag.village_code, Flag.item_name
        ).where(Flag.rule == rule, Flag.state == FlagState.open, *where)
    )
    return [OpenFlag._make(row) for row in rows]


def withdraw(session: Session, flag_ids: list[int], *, run_id: int | None) -> int:
    """Open flags whose lines no longer meet their rule (corrected or reversed at the source, a
    list or a standard changed): withdrawn, by no one."""
    for ids in _chunks(flag_ids):
        session.execute(
            update(Flag)
            .where(Flag.id.in_(ids), Flag.state == FlagState.open)
            .values(state=FlagState.withdrawn, last_run_id=run_id)
            .execution_options(synchronize_session=False)
        )
    if flag_ids:
        _expire_flags(session)
    return len(flag_ids)


def _existing(session: Session, rule: RuleCode, keys: list[str]) -> dict[str, tuple[int, str, str]]:
    """(id, figures digest, state) of the flags of `rule` with these keys. Many keys: every
    flag of the rule is read at once, which costs less than as many keys bound."""
    columns = select(Flag.key, Flag.id, Flag.figures_digest, Flag.state).where(Flag.rule == rule)
    if len(keys) > CHUNK:
        wanted = set(keys)
        rows = [row for row in session.execute(columns) if row.key in wanted]
    else:
        rows = list(session.execute(columns.where(Flag.key.in_(keys))))
    return {key: (flag_id, digest, state) for key, flag_id, digest, state in rows}


_T = TypeVar("_T")


def _chunks(items: list[_T]) -> Iterator[list[_T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _expire_flags(session: Session) -> None:
    for instance in list(session.identity_map.values()):
        if isinstance(instance, Flag):
            session.expire(instance)


def _new_flag(
    rule: RuleCode, version: int, key: str, digest: str, finding: Finding, run_id: int | None
) -> dict[str, Any]:
    now = utcnow()
    return {
        "rule": rule,
        "rule_version": version,
        "key": key,
        "village_code": finding.village_code,
        "township_code": township_of(finding.village_code),
        "person_id": finding.person_id,
        "period": finding.period,
        "item_name": finding.item_name,
        "record_ids": list(finding.record_ids),
        "figures": finding.figures,
        "figures_digest": digest,
        "state": FlagState.open,
        "first_run_id": run_id,
        "last_run_id": run_id,
        "created_at": now,
        "updated_at": now,
    }
