"""Screening runs: every rule of RULE_FINDERS over a scope, each finding kept as a flag
(app.screening.flagging), the run recorded with its counts per rule.

Invariants:
- A run reads and writes under the sync lease (app.sync.lease): after a successful sync, in the
  sync's own lease; on demand, in a lease taken for the request. So no payout changes under a
  run, and two runs never meet.
- A run never acts on a payout: it raises, updates, re-opens and withdraws flags only.
- A rule's open flags that its scope no longer finds are withdrawn (the lines were corrected or
  reversed, a list or a standard changed): on a full run every open flag of the rule, on an
  incremental one those of the touched persons' months, the months their lines were corrected
  away from included (village_jump: the village months checked). Dismissed and confirmed
  flags stay as a person left them.
- A list uploaded or a standard edited re-runs the rules that read it (`rescreen`), in full,
  with the change, under the lease. The lease is not waited for: while a sync holds it, the
  run is owed (`OwedRun`) and carried out at the end of the sync or at the scheduler's next
  tick (`run_owed`), whichever comes first.
- A screening that fails after a sync leaves the sync succeeded: the screening run is recorded
  `failed` with a Chinese reason, logged by its kind only (a message could carry a line's
  values).
"""

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app import collector
from app.audit import service as audit
from app.config import Settings
from app.db.base import dialect_insert, utcnow
from app.db.engines import session_scope, sorting_session_scope
from app.pagination import PageParams, paginate
from app.screening import checks, flagging, objections
from app.screening.flagging import Finding
from app.screening.models import Flag, ListKind, OwedRun, RunScope, ScreeningRun
from app.screening.rules import RULES, Rule, RuleCode
from app.screening.scope import FULL, Scope, incremental_scope, is_worth_incremental
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
    counts = {}
    with _scope_of(session, run) as scope, collector.paused() as collect:
        # an incremental run with nothing to start from, or with most lines new, checks everything
        run.scope = scope.kind
        # One rule after another, its findings kept before the next rule's are read: a full
        # run finds tens of thousands, which need not all be in memory at once.
        for code in codes:
            findings = list(RULE_FINDERS[code](session, scope))
            counts[code] = _keep(session, run.id, scope, code, findings)
            del findings
            collect()
    run.counts = {code.value: figures for code, figures in counts.items()}
    run.outcome, run.finished_at = "succeeded", utcnow()
    session.flush()
    return run


@contextmanager
def _scope_of(session: Session, run: ScreeningRun) -> Iterator[Scope]:
    since = _incremental_since(session, run) if run.scope == RunScope.incremental else None
    if since is None or not is_worth_incremental(session, since):
        yield FULL
        return
    with incremental_scope(session, since) as scope:
        yield scope


def _incremental_since(session: Session, run: ScreeningRun) -> datetime | None:
    """From when lines are checked: the start of the sync run, or, for a run without one, of
    the last screening run of every rule that succeeded (none: everything, as a full run)."""
    if run.sync_run_id is not None:
        started = session.scalar(select(SyncRun.started_at).where(SyncRun.id == run.sync_run_id))
    else:
        started = session.scalar(
            select(ScreeningRun.started_at)
            .where(
                ScreeningRun.outcome == "succeeded",
                ScreeningRun.id != run.id,
                ScreeningRun.trigger.not_in(PARTIAL_TRIGGERS),
            )
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
        gone = [flag.id for flag in _checked(session, scope, code) if flag.key not in found]
        withdrawn = flagging.withdraw(session, gone, run_id=run_id)
    return {"found": len(findings), **tally._asdict(), "withdrawn": withdrawn}


def _checked(session: Session, scope: Scope, code: RuleCode) -> list[flagging.OpenFlag]:
    """The open flags of `code` whose lines the scope checked: every one in a full scope; in an
    incremental one those of the touched persons' months (PERSON_RULES: of the touched
    persons), village_jump's of the village months it checked (checks.jump_months)."""
    if scope.kind is RunScope.full:
        return flagging.open_flags(session, code)
    if code == RuleCode.village_jump:
        months = checks.jump_months(session, scope)
        return [
            flag
            for flag in flagging.open_flags(session, code)
            if checks.month_of(flag.period) in months.get(flag.item_name or "", ())
        ]
    touched = scope.touched
    if code in checks.PERSON_RULES:
        return flagging.open_flags(session, code, Flag.person_id.in_(select(touched.c.person_id)))
    pair = select(touched.c.person_id).where(
        touched.c.person_id == Flag.person_id, touched.c.period == Flag.period
    )
    return flagging.open_flags(session, code, pair.exists())


# --- after a sync, and what is owed ------------------------------------------------------------


def screen_after_sync(sync_run_id: int) -> ScreeningRun | None:
    """An incremental run after a successful sync, in the sync's lease (the caller's)."""
    return _recorded_run(scope=RunScope.incremental, trigger="sync", sync_run_id=sync_run_id)


def run_owed() -> ScreeningRun | None:
    """A full run of the rules owed one (`rescreen`), under the lease the caller holds (the
    sync's, at its end, or the scheduler's tick's); the owed entries it read are settled with
    it. None when nothing is owed."""
    with session_scope().begin() as session:
        owed = _owed(session)
    if not owed:
        return None
    return _recorded_run(
        scope=RunScope.full, trigger="owed", rules=[RuleCode(r) for r in owed], settles=owed
    )


def run_owed_in_lease(settings: Settings) -> ScreeningRun | None:
    """The scheduler's tick: the runs owed, under a lease of their own. While a sync holds
    the lease, nothing: the sync carries them out at its end."""
    with session_scope().begin() as session:
        if not _owed(session):
            return None
    try:
        with lease.held(None, seconds=settings.sync_lease_seconds):
            return run_owed()
    except lease.SyncAlreadyRunning:
        logger.info("owed screening left to the sync that holds the lease")
        return None


def run_full_in_lease(settings: Settings) -> ScreeningRun | None:
    """The scheduler's periodic full run of every rule, under a lease of its own; it settles
    every run owed. While a sync holds the lease, a run of every rule is owed instead (the
    sync carries it out at its end, or the next tick does)."""
    try:
        with lease.held(None, seconds=settings.sync_lease_seconds):
            with session_scope().begin() as session:
                owed = _owed(session)
            return _recorded_run(scope=RunScope.full, trigger="schedule", settles=owed)
    except lease.SyncAlreadyRunning:
        logger.info("full screening owed to the sync that holds the lease")
        with session_scope().begin() as session:
            owe(session, list(RULE_FINDERS))
        return None


def _recorded_run(
    *,
    scope: RunScope,
    trigger: str,
    sync_run_id: int | None = None,
    rules: Sequence[RuleCode] | None = None,
    settles: dict[str, datetime] | None = None,
) -> ScreeningRun | None:
    """A run outside a request, under the lease the caller holds: recorded first in a
    transaction of its own, so that a failure is recorded on it (and logged by its kind)
    instead of failing the caller (a sync stays succeeded)."""
    try:
        with session_scope().begin() as session:
            run_id = start_run(session, scope=scope, trigger=trigger, sync_run_id=sync_run_id).id
    except Exception as exc:
        logger.error(
            "screening not started",
            extra={"sync_run_id": sync_run_id, "reason": type(exc).__name__},
        )
        return None
    try:
        with sorting_session_scope().begin() as session:
            run = carry_out(session, run_id, rules=rules)
            if settles:
                _settle(session, settles)
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


# --- after a list or a standard changed ----------------------------------------------------------

# The rules that read each reference list, and the item standards.
LIST_RULES: dict[ListKind, tuple[RuleCode, ...]] = {
    ListKind.deceased: (RuleCode.after_death,),
    ListKind.public_employees: (RuleCode.public_employee,),
    ListKind.cadre_relatives: (RuleCode.cadre_relative,),
}
STANDARD_RULES: tuple[RuleCode, ...] = (RuleCode.over_standard,)
# Runs of some rules only: the next incremental run on demand starts from a run of every rule.
PARTIAL_TRIGGERS = ("list", "standard", "owed")


def rescreen(
    session: Session,
    rules: Sequence[RuleCode],
    *,
    trigger: str,
    actor: Staff,
    lease_seconds: int,
) -> ScreeningRun | None:
    """After a change that is not a line's (a list uploaded, a standard edited): a full run of
    the `rules` that read what changed, in the caller's transaction under the sync lease, so
    that it commits with the change. The lease is not waited for: while a sync holds it, the
    run is owed instead (in the same transaction) and None answered; the sync carries it out
    at its end, or the scheduler's next tick does (`run_owed`)."""
    holder = uuid.uuid4().hex
    if not lease.acquire(session, holder, seconds=lease_seconds):
        owe(session, rules)
        return None
    owed = _owed(session)
    run = run_screening(session, scope=RunScope.full, trigger=trigger, actor=actor, rules=rules)
    _settle(session, {rule: at for rule, at in owed.items() if rule in rules})
    lease.release(session, holder)
    return run


def owe(session: Session, rules: Sequence[RuleCode]) -> None:
    """Record that `rules` are owed a full run (one owed already now from now)."""
    now = utcnow()
    upsert = dialect_insert(session, OwedRun.__table__).values(
        [{"rule": rule.value, "owed_at": now} for rule in rules]
    )
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=["rule"], set_={"owed_at": upsert.excluded.owed_at}
        )
    )


def _owed(session: Session) -> dict[str, datetime]:
    return {rule: at for rule, at in session.execute(select(OwedRun.rule, OwedRun.owed_at))}


def _settle(session: Session, owed: dict[str, datetime]) -> None:
    """The owed entries read before a run of their rules, deleted; one owed again since (a
    later `owed_at`) stays."""
    for rule, at in owed.items():
        session.execute(delete(OwedRun).where(OwedRun.rule == rule, OwedRun.owed_at == at))


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


def new_flags(session: Session, run_ids: Sequence[int]) -> int:
    """How many flags the runs raised, all rules together."""
    screening_runs = session.scalars(select(ScreeningRun).where(ScreeningRun.id.in_(run_ids)))
    return sum(figures.get("new", 0) for run in screening_runs for figures in run.counts.values())


def rules() -> list[Rule]:
    """The catalogue of the rules, in their order."""
    return list(RULES.values())
