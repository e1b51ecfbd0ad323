"""Screening runs: every rule of RULE_FINDERS over a scope, each finding kept as a flag
(app.screening.flagging), the run recorded with its counts per rule.

Invariants:
- A run reads and writes under the sync lease (app.sync.lease): after a successful sync, in the
  sync's own lease; on demand, in a lease taken for the request. So no payout changes under a
  run, and two runs never meet.
- A run never acts on a payout: it raises, updates, re-opens and withdraws flags only.
- A rule's open flags that its scope no longer finds are withdrawn (the lines were corrected or
  reversed, a list or a standard changed): on a full run every open flag of the rule, on an
  incremental one those of the touched persons' months (village_jump: the village months
  checked). Dismissed and confirmed flags stay as a person left them.
- A screening that fails after a sync leaves the sync succeeded: the screening run is recorded
  `failed` with a Chinese reason, logged by its kind only (a message could carry a line's
  values).
"""

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.db.base import utcnow
from app.db.engines import session_scope
from app.pagination import PageParams, paginate
from app.screening import checks, flagging, objections
from app.screening.flagging import Finding
from app.screening.models import RunScope, ScreeningRun
from app.screening.rules import RULES, Rule, RuleCode
from app.screening.scope import FULL, Scope, incremental_scope, touched_among
from app.staff.models import Staff
from app.sync import lease
from app.sync.models import SyncRun

logger = logging.getLogger(__name__)

# Every rule a run checks, by code: the eight data rules, and the villagers' objections (whose
# flag is raised at once too, when the objection is made).
RULE_FINDERS: dict[RuleCode, checks.Finder] = {
    **checks.FINDERS,
    RuleCode.objection: objections.find_objections,
}
# Rules whose open flags are withdrawn when their scope no longer finds them.
WITHDRAWING: frozenset[RuleCode] = frozenset(checks.FINDERS)

# The lines an incremental run after a sync checks are those stored from this long before the
# sync run's start: the app's clock (the run's start) and the database's (a line's) may differ,
# and SQLite keeps a line's time to the second. Lines checked twice cost nothing.
CLOCK_MARGIN = timedelta(minutes=1)

FAILED = (
    "筛查意外出错（{kind}），本次筛查中止，已有的疑点不受影响；下次同步后或手动筛查时重新进行。"
)


# --- a run -------------------------------------------------------------------------------------


def run_screening(
    session: Session,
    *,
    scope: RunScope,
    trigger: str,
    sync_run_id: int | None = None,
    actor: Staff | None = None,
    rules: Sequence[RuleCode] | None = None,
) -> ScreeningRun:
    """A run in the caller's transaction, under the lease the caller holds: recorded, carried
    out, ended `succeeded` with its counts. `rules` limits it to some rules (a full run of the
    rules that read a reference list just uploaded or a standard just changed)."""
    run = start_run(session, scope=scope, trigger=trigger, sync_run_id=sync_run_id, actor=actor)
    return carry_out(session, run.id, rules=rules)


def start_run(
    session: Session,
    *,
    scope: RunScope,
    trigger: str,
    sync_run_id: int | None = None,
    actor: Staff | None = None,
) -> ScreeningRun:
    run = ScreeningRun(
        trigger=trigger,
        scope=scope,
        sync_run_id=sync_run_id,
        started_by_id=actor.id if actor else None,
        outcome="running",
        counts={},
    )
    session.add(run)
    session.flush()
    return run


def carry_out(
    session: Session, run_id: int, *, rules: Sequence[RuleCode] | None = None
) -> ScreeningRun:
    """The rules of the run recorded as `run_id`, their findings kept as flags, the run ended."""
    run = session.get_one(ScreeningRun, run_id)
    codes = [code for code in RULE_FINDERS if rules is None or code in rules]
    with _scope_of(session, run) as scope:
        run.scope = scope.kind  # an incremental run with nothing to start from checks everything
        # One rule after another, its findings kept before the next rule's are read: a full
        # run finds tens of thousands, which need not all be in memory at once.
        counts = {
            code: _keep(session, run.id, scope, code, list(RULE_FINDERS[code](session, scope)))
            for code in codes
        }
    run.counts = {code.value: figures for code, figures in counts.items()}
    run.outcome, run.finished_at = "succeeded", utcnow()
    session.flush()
    return run


@contextmanager
def _scope_of(session: Session, run: ScreeningRun) -> Iterator[Scope]:
    since = _incremental_since(session, run) if run.scope == RunScope.incremental else None
    if since is None:
        yield FULL
        return
    with incremental_scope(session, since) as scope:
        yield scope


def _incremental_since(session: Session, run: ScreeningRun) -> datetime | None:
    """From when lines are checked: the start of the sync run, or, for a run without one, of
    the last screening run that succeeded (none: everything, as a full run)."""
    if run.sync_run_id is not None:
        started = session.scalar(select(SyncRun.started_at).where(SyncRun.id == run.sync_run_id))
    else:
        started = session.scalar(
            select(ScreeningRun.started_at)
            .where(ScreeningRun.outcome == "succeeded", ScreeningRun.id != run.id)
            .order_by(ScreeningRun.id.desc())
            .limit(1)
        )
    return started - CLOCK_MARGIN if started is not None else None


def _keep(
    session: Session, run_id: int, scope: Scope, code: RuleCode, findings: list[Finding]
) -> dict[str, int]:
    tally = flagging.record_findings(session, code, findings, run_id=run_id)
    withdrawn = 0
    if code in WITHDRAWING:
        found = {flagging.finding_key(finding) for finding in findings}
        gone = _checked(
            session,
            scope,
            code,
            [flag for flag in flagging.open_flags(session, code) if flag.key not in found],
        )
        withdrawn = flagging.withdraw(session, [flag.id for flag in gone], run_id=run_id)
    return {"found": len(findings), **tally._asdict(), "withdrawn": withdrawn}


def _checked(
    session: Session, scope: Scope, code: RuleCode, flags: list[flagging.OpenFlag]
) -> list[flagging.OpenFlag]:
    """Those of `flags` whose subject the scope checked. An incremental run leaves
    village_jump's flags to a full run (the months it checks depend on the items touched, not
    on persons)."""
    if scope.kind is RunScope.full:
        return flags
    if code == RuleCode.village_jump or not flags:
        return []
    touched = touched_among(session, ((flag.person_id, flag.period) for flag in flags))
    return [flag for flag in flags if (flag.person_id, flag.period) in touched]


# --- after a sync ------------------------------------------------------------------------------


def screen_after_sync(sync_run_id: int) -> ScreeningRun | None:
    """An incremental run after a successful sync, in the sync's lease (the caller's): recorded
    first in a transaction of its own, so that a failure is recorded on it (and logged by its
    kind) instead of failing the sync."""
    try:
        with session_scope().begin() as session:
            run_id = start_run(
                session, scope=RunScope.incremental, trigger="sync", sync_run_id=sync_run_id
            ).id
    except Exception as exc:
        logger.error(
            "screening not started",
            extra={"sync_run_id": sync_run_id, "reason": type(exc).__name__},
        )
        return None
    try:
        with session_scope().begin() as session:
            run = carry_out(session, run_id)
    except BaseException as exc:
        logger.error(
            "screening failed",
            extra={"screening_run_id": run_id, "reason": type(exc).__name__},
        )
        failed = _fail(run_id, FAILED.format(kind=type(exc).__name__))
        if not isinstance(exc, Exception):
            raise
        return failed
    logger.info("screening finished", extra={"screening_run_id": run_id, "counts": run.counts})
    return run


def _fail(run_id: int, error: str) -> ScreeningRun | None:
    try:
        with session_scope().begin() as session:
            run = session.get_one(ScreeningRun, run_id)
            run.outcome, run.error, run.finished_at = "failed", error[:200], utcnow()
            return run
    except Exception as exc:
        logger.error("screening failure not recorded", extra={"reason": type(exc).__name__})
        return None


# --- on demand ---------------------------------------------------------------------------------


def run_now(session: Session, *, scope: RunScope, actor: Staff, lease_seconds: int) -> ScreeningRun:
    """A run a staff member asks for, in the request's transaction under the sync lease
    (SyncAlreadyRunning while a sync runs), audited with its counts."""
    holder = lease.take(session, seconds=lease_seconds)
    run = run_screening(session, scope=scope, trigger="staff", actor=actor)
    audit.record(
        session,
        actor=actor,
        action="screening.run",
        entity_type="screening_run",
        entity_id=run.id,
        after={"scope": run.scope, "outcome": run.outcome, "counts": run.counts},
    )
    lease.release(session, holder)
    return run


def list_runs(session: Session, *, page: PageParams) -> tuple[list[ScreeningRun], int]:
    return paginate(session, select(ScreeningRun).order_by(ScreeningRun.id.desc()), page)


def rules() -> list[Rule]:
    """The catalogue of the rules, in their order."""
    return list(RULES.values())
