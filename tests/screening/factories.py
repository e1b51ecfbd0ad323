"""Payout lines and flags for the screening tests: flags come from `record_findings`, as a
rule's would."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.screening.flagging import Finding, finding_key, record_findings
from app.screening.models import Flag
from app.screening.rules import RuleCode
from app.subsidies import service as subsidies_service
from app.subsidies import store
from tests.factories import HUANGLIU, SANGUANZHAI
from tests.subsidies.factories import ID_B, ID_C, make_payout


def seed_lines(session: Session) -> None:
    """张秀英 (ID_A) paid twice in 三官寨村 in 2026-10, 欧阳明华 (ID_B) 低保 in 黄柳村 in
    2026-09, and a reversed 低保 line of ID_C in 三官寨村."""
    subsidies_service.store_payouts(
        session,
        [
            make_payout(record_id="A-1"),
            make_payout(record_id="A-2", department="县民政局"),
            make_payout(
                record_id="B-1",
                id_number=ID_B,
                name="欧阳明华",
                village_code=HUANGLIU,
                category_code="01",
                item_name="城乡居民最低生活保障金",
                amount_fen=35600,
                period="2026-09",
            ),
            make_payout(
                record_id="C-1",
                id_number=ID_C,
                name="李四",
                category_code="01",
                item_name="城乡居民最低生活保障金",
                amount_fen=35600,
                status="reversed",
            ),
        ],
    )


def person_of(session: Session, record_id: str) -> int:
    return store.lines_by_record_id(session, [record_id])[record_id].person_id


def flag(
    session: Session,
    rule: RuleCode,
    record_ids: tuple[str, ...],
    *,
    village_code: str = SANGUANZHAI,
    period: str = "2026-10",
    figures: dict[str, object] | None = None,
    person: bool = True,
    item_name: str | None = "城乡居民基础养老金",
    key: str | None = None,
) -> Flag:
    finding = Finding(
        village_code=village_code,
        period=period,
        record_ids=record_ids,
        figures=figures or {"lines": len(record_ids)},
        person_id=person_of(session, record_ids[0]) if person else None,
        item_name=item_name,
        key=key,
    )
    record_findings(session, rule, [finding], run_id=None)
    return session.scalars(
        select(Flag).where(Flag.rule == rule, Flag.key == finding_key(finding))
    ).one()


def seed_flags(session: Session) -> dict[str, Flag]:
    seed_lines(session)
    return {
        "duplicate": flag(
            session, RuleCode.duplicate, ("A-1", "A-2"), figures={"lines": 2, "total": "286.00"}
        ),
        "cadre": flag(
            session,
            RuleCode.cadre_relative,
            ("B-1",),
            village_code=HUANGLIU,
            period="2026-09",
            item_name="城乡居民最低生活保障金",
            figures={"relation": "配偶", "post": "村委会主任"},
        ),
        "jump": flag(
            session,
            RuleCode.village_jump,
            ("A-1", "A-2"),
            person=False,
            key=f"{SANGUANZHAI}|2026-10|城乡居民基础养老金",
            figures={"total": "286.00", "median": "143.00"},
        ),
    }
