""" "这条不对": a villager's objection to a line of a village's monthly list (晒账).

Invariants:
- The rules of every public write (app.public_writes) and of every tip hold: the objection is an
  anonymous tip tied to the line, its receipt code shown once; the path keeps no access line or
  request id; the row keeps the county's date only; attempts count in expiring per-client
  counters, before any work.
- A line may be objected to when it is on that village's list of that month, reversed lines
  included (the list shows them, and a villager may know the money was taken all the same).
- Each objection raises or updates the line's `objection` flag at once, by the shared rule of
  flags: its figures (how many objections, the line's item, amount, period and status) change
  with every objection, so a dismissed flag opens again when someone objects again.
"""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import public_writes
from app.config import Settings
from app.schemas import yuan_amount, yuan_text
from app.screening.errors_flags import LineNotListed
from app.screening.flagging import Finding, record_findings
from app.screening.flags import tip_category
from app.screening.models import Objection
from app.screening.rules import RuleCode
from app.screening.schemas_objections import ObjectionCreate
from app.screening.scope import Scope
from app.subsidies import store as payout_store
from app.subsidies.store import LineDetail
from app.tips import service as tips_service
from app.tips.schemas import TipReceipt

OBJECTION_LIMIT = "10/hour"


def _figures(line: LineDetail, objections: int) -> dict[str, Any]:
    return {
        "objections": objections,
        "item_name": line.item_name,
        "amount": yuan_amount(line.amount_fen),
        "period": line.period,
        "status": line.status,
    }


def _finding(line: LineDetail, village_code: str, objections: int) -> Finding:
    return Finding(
        village_code=village_code,
        period=line.period,
        record_ids=(line.record_id,),
        figures=_figures(line, objections),
        person_id=line.person_id,
        item_name=line.item_name,
    )


def _content(line: LineDetail, reason: str | None) -> str:
    said = reason.strip() if reason and reason.strip() else "（未填写）"
    return (
        f"群众在村务公示清单上对这一条提出异议（这条不对）：{line.period} {line.item_name} "
        f"{yuan_text(line.amount_fen)} 元，发放记录 {line.record_id}。\n理由：{said}"
    )


def object_to_line(
    session: Session,
    village_code: str,
    *,
    period: str,
    data: ObjectionCreate,
    client: str,
    settings: Settings,
) -> TipReceipt:
    public_writes.limit(OBJECTION_LIMIT, "objection", client)
    line = payout_store.line_of_village_month(
        session, data.record_id, village_code=village_code, period=period
    )
    if line is None:
        raise LineNotListed(f"{period} 的公示清单里没有发放记录 {data.record_id}。")
    tip, receipt = tips_service.submit_objection(
        session,
        category=tip_category({line.category_code}),
        village_code=village_code,
        payout_record_id=line.record_id,
        content=_content(line, data.reason),
        settings=settings,
    )
    session.add(
        Objection(
            record_id=line.record_id,
            village_code=village_code,
            period=period,
            created_on=receipt.submitted_on,
            tip_id=tip.id,
        )
    )
    session.flush()
    _flag_line(session, line, village_code)
    return receipt


def _flag_line(session: Session, line: LineDetail, village_code: str) -> None:
    """Raise or update the line's flag. Two first objections to one line at once (or one and
    the nightly run) both find no flag and insert one: the later insert breaks the flag's
    unique key, and is tried again, finding the flag the other committed."""
    for attempt in range(2):
        try:
            with session.begin_nested():
                count = session.scalar(
                    select(func.count())
                    .select_from(Objection)
                    .where(Objection.record_id == line.record_id)
                )
                finding = _finding(line, village_code, count or 1)
                record_findings(session, RuleCode.objection, [finding], run_id=None)
            return
        except IntegrityError:
            if attempt:
                raise


def find_objections(session: Session, scope: Scope | None = None) -> list[Finding]:
    """Every line objected to, with its current figures: two queries whatever the number of
    objections. Objections are few, so the whole set is found whatever the run's `scope`."""
    counts = session.execute(
        select(Objection.record_id, Objection.village_code, func.count())
        .group_by(Objection.record_id, Objection.village_code)
        .order_by(Objection.record_id)
    ).all()
    lines = payout_store.lines_by_record_id(session, (record_id for record_id, _, _ in counts))
    return [
        _finding(lines[record_id], village_code, n)
        for record_id, village_code, n in counts
        if record_id in lines
    ]
