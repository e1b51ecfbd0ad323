"""What a rule found, kept as flags: a re-run finds the same flag by its key instead of raising
another; a dismissed flag opens again only when its figures change (SPEC.md)."""

import hashlib
import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def record_findings(
    session: Session, rule: RuleCode, findings: Iterable[Finding], *, run_id: int | None
) -> Tally:
    """Keep each finding as a flag of `rule`: new, unchanged, its figures updated (open or
    confirmed), or opened again (dismissed or withdrawn, and its figures changed)."""
    by_key = {finding_key(finding): finding for finding in findings}
    if not by_key:
        return Tally()
    existing = {
        flag.key: flag
        for flag in session.scalars(
            select(Flag).where(Flag.rule == rule, Flag.key.in_(list(by_key)))
        )
    }
    version = RULES[rule].version
    new = reopened = updated = 0
    for key, finding in by_key.items():
        digest = figures_digest(finding.figures)
        flag = existing.get(key)
        if flag is None:
            session.add(_new_flag(rule, version, key, digest, finding, run_id))
            new += 1
            continue
        flag.last_run_id = run_id or flag.last_run_id
        if flag.figures_digest == digest:
            continue
        flag.figures, flag.figures_digest, flag.rule_version = finding.figures, digest, version
        flag.record_ids = list(finding.record_ids)
        if flag.state in (FlagState.dismissed, FlagState.withdrawn):
            flag.state, flag.reason, flag.closed_at, flag.closed_by_id = (
                FlagState.open,
                None,
                None,
                None,
            )
            reopened += 1
        else:
            updated += 1
    session.flush()
    return Tally(new, reopened, updated)


def _new_flag(
    rule: RuleCode, version: int, key: str, digest: str, finding: Finding, run_id: int | None
) -> Flag:
    return Flag(
        rule=rule,
        rule_version=version,
        key=key,
        village_code=finding.village_code,
        township_code=township_of(finding.village_code),
        person_id=finding.person_id,
        period=finding.period,
        item_name=finding.item_name,
        record_ids=list(finding.record_ids),
        figures=finding.figures,
        figures_digest=digest,
        first_run_id=run_id,
        last_run_id=run_id,
    )
