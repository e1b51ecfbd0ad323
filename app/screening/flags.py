"""The commission's work on flags: list, read, close with a reason, open a tip, precision, XLSX.

Invariants:
- A flag is created and updated by the rules only (app.screening.flagging); people only close it
  (confirmed or dismissed, with a reason) and open a tip from a confirmed one, once.
- Every close and every tip opened is in the audit log, before and after.
- A township officer reads the flags of their own township only: a flag elsewhere is not found,
  a filter naming a region elsewhere is forbidden. Nobody else but the commission and the county
  administrators sees flags at all.
- Persons are shown masked (from the payout store), the XLSX export by masked name only.
- A page costs four queries whatever its size (count, flags, their persons, their villages).
"""

import io
import json
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.schemas import AuditEntryRead, AuditFilter
from app.config import Settings
from app.db.base import utcnow
from app.pagination import Page, PageParams, paginate
from app.regions import service as regions_service
from app.schemas import COUNTY_TZ, yuan_text
from app.screening.errors_flags import (
    FlagClosed,
    FlagNotConfirmed,
    FlagNotFound,
    FlagReasonMissing,
    FlagTipExists,
)
from app.screening.models import Flag, FlagState
from app.screening.rules import RULES, RuleCode
from app.screening.schemas_flags import (
    STATE_NAMES,
    FlagClose,
    FlagDetail,
    FlagFilter,
    FlagLine,
    FlagPerson,
    FlagRead,
    RulePrecision,
)
from app.spreadsheets import append_row
from app.staff import service as staff_service
from app.staff.models import Role, Staff
from app.subsidies import store as payout_store
from app.tips import service as tips_service

ENTITY = "screening_flag"
HISTORY_SIZE = 100
XLSX_BATCH = 1000
XLSX_HEADER = [
    "编号",
    "规则",
    "村（社区）",
    "姓名（打码）",
    "期次",
    "项目",
    "发放记录",
    "数据",
    "发现时间",
]
SOCIAL_ASSISTANCE = "01"  # 社会救助


# --- reading ---------------------------------------------------------------------------------


def _scoped(stmt: Select[Any], staff: Staff, filters: FlagFilter) -> Select[Any]:
    """The filters, inside what the staff member may see (403 for a filter outside it)."""
    for code in (filters.township_code, filters.village_code):
        if code is not None:
            staff_service.check_region(staff, code)
    if staff.role == Role.township_officer:
        stmt = stmt.where(Flag.township_code == regions_service.township_of(staff.region_code))
    if filters.rule is not None:
        stmt = stmt.where(Flag.rule == filters.rule)
    if filters.state is not None:
        stmt = stmt.where(Flag.state == filters.state)
    if filters.township_code is not None:
        stmt = stmt.where(Flag.township_code == regions_service.township_of(filters.township_code))
    if filters.village_code is not None:
        stmt = stmt.where(Flag.village_code == filters.village_code)
    if filters.period is not None:
        stmt = stmt.where(Flag.period == filters.period)
    return stmt


def _reads(session: Session, flags: Sequence[Flag]) -> list[FlagRead]:
    persons = payout_store.persons_by_id(
        session, (f.person_id for f in flags if f.person_id is not None)
    )
    villages = regions_service.full_names(session, sorted({f.village_code for f in flags}))
    reads = []
    for flag in flags:
        person = persons.get(flag.person_id) if flag.person_id is not None else None
        reads.append(
            FlagRead(
                id=flag.id,
                rule=RuleCode(flag.rule),
                rule_version=flag.rule_version,
                rule_name=RULES[RuleCode(flag.rule)].name,
                village_code=flag.village_code,
                village=villages.get(flag.village_code),
                person=FlagPerson(name_masked=person.name_masked, id_number_masked=person.id_masked)
                if person is not None
                else None,
                period=flag.period,
                item_name=flag.item_name,
                record_ids=flag.record_ids,
                figures=flag.figures,
                state=FlagState(flag.state),
                state_name=STATE_NAMES[flag.state],
                reason=flag.reason,
                tip_id=flag.tip_id,
                created_at=flag.created_at,
                updated_at=flag.updated_at,
            )
        )
    return reads


def list_flags(
    session: Session, *, filters: FlagFilter, page: PageParams, staff: Staff
) -> Page[FlagRead]:
    """Newest first."""
    stmt = _scoped(select(Flag), staff, filters).order_by(Flag.id.desc())
    flags, total = paginate(session, stmt, page)
    return Page[FlagRead](items=_reads(session, flags), total=total, page=page.page, size=page.size)


def get_flag(session: Session, flag_id: int, *, staff: Staff) -> Flag:
    """The flag, when the staff member may see it (otherwise not found, as if there were none)."""
    flag = session.get(Flag, flag_id)
    if flag is None or (
        staff.role == Role.township_officer
        and flag.township_code != regions_service.township_of(staff.region_code)
    ):
        raise FlagNotFound(f"没有编号为 {flag_id} 的疑点。")
    return flag


def _lines(session: Session, flag: Flag) -> list[FlagLine]:
    found = payout_store.lines_by_record_id(session, flag.record_ids)
    villages = regions_service.full_names(session, sorted({v.village_code for v in found.values()}))
    return [
        FlagLine(
            record_id=line.record_id,
            village_code=line.village_code,
            village=villages.get(line.village_code),
            category_code=line.category_code,
            item_name=line.item_name,
            amount=line.amount_fen,
            period=line.period,
            paid_on=line.paid_on,
            status=line.status,
            department=line.department,
        )
        for line in (found.get(record_id) for record_id in flag.record_ids)
        if line is not None
    ]


def _history(session: Session, flag: Flag) -> list[AuditEntryRead]:
    entries, _total = audit.list_entries(
        session,
        filters=AuditFilter(entity_type=ENTITY, entity_id=str(flag.id)),
        page=PageParams(page=1, size=HISTORY_SIZE),
    )
    return [AuditEntryRead.model_validate(entry) for entry in entries]


def _detail(session: Session, flag: Flag) -> FlagDetail:
    (read,) = _reads(session, [flag])
    return FlagDetail(
        **read.model_dump(),
        rule_explanation=RULES[RuleCode(flag.rule)].explanation,
        lines=_lines(session, flag),
        history=_history(session, flag),
    )


def read_flag(session: Session, flag_id: int, *, staff: Staff) -> FlagDetail:
    return _detail(session, get_flag(session, flag_id, staff=staff))


# --- what people do with a flag ------------------------------------------------------------


def _state(flag: Flag) -> dict[str, Any]:
    return {"state": flag.state, "reason": flag.reason, "tip_id": flag.tip_id}


def close_flag(session: Session, flag_id: int, *, data: FlagClose, actor: Staff) -> FlagDetail:
    flag = get_flag(session, flag_id, staff=actor)
    if flag.state != FlagState.open:
        raise FlagClosed(f"该疑点已是“{STATE_NAMES[flag.state]}”，不能再处理。")
    reason = (data.reason or "").strip()
    if not reason:
        raise FlagReasonMissing("确认或排除疑点都须填写理由（reason）。")
    _change(
        session,
        flag,
        actor=actor,
        action="screening.flag.close",
        state=data.state,
        reason=reason,
        closed_by_id=actor.id,
        closed_at=utcnow(),
    )
    return _detail(session, flag)


def _change(session: Session, flag: Flag, *, actor: Staff, action: str, **changes: Any) -> None:
    """Set `changes` on the flag, with an audit entry of its state before and after."""
    before = _state(flag)
    for name, value in changes.items():
        setattr(flag, name, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=ENTITY,
        entity_id=flag.id,
        before=before,
        after=_state(flag),
    )


def tip_category(category_codes: set[str]) -> str:
    """The tip category of lines of these payout categories: 低保/救助 for social assistance
    alone, 扶贫/惠民资金 otherwise."""
    return "dibao" if category_codes == {SOCIAL_ASSISTANCE} else "funds"


def _tip_content(session: Session, flag: Flag, lines: list[FlagLine]) -> str:
    rule = RULES[RuleCode(flag.rule)]
    (read,) = _reads(session, [flag])
    text = [
        f"疑点筛查（规则：{rule.name}，{rule.code} 第 {flag.rule_version} 版，疑点编号 {flag.id}）",
        f"规则说明：{rule.explanation}",
        f"村（社区）：{read.village or flag.village_code}；期次：{flag.period}"
        + (f"；项目：{flag.item_name}" if flag.item_name else ""),
    ]
    if read.person is not None:
        text.append(f"涉及人员：{read.person.name_masked}（{read.person.id_number_masked}）")
    text.append("发放记录：")
    text += [
        f"- {line.record_id} {line.period} {line.item_name} {yuan_text(line.amount)} 元 "
        f"{line.status} {line.department} {line.village or line.village_code}"
        for line in lines
    ]
    figures = json.dumps(flag.figures, ensure_ascii=False, sort_keys=True)
    text += [f"数据：{figures}", f"核实结论：{flag.reason or ''}"]
    return "\n".join(text)


def open_tip(session: Session, flag_id: int, *, actor: Staff, settings: Settings) -> FlagDetail:
    """A confirmed flag becomes a tip for the commission's own triage (once)."""
    flag = get_flag(session, flag_id, staff=actor)
    if flag.tip_id is not None:
        raise FlagTipExists(f"该疑点已转为举报（编号 {flag.tip_id}）。")
    if flag.state != FlagState.confirmed:
        raise FlagNotConfirmed(f"该疑点当前为“{STATE_NAMES[flag.state]}”，确认属实后才能转为举报。")
    lines = _lines(session, flag)
    tip = tips_service.open_screening_tip(
        session,
        category=tip_category({line.category_code for line in lines}),
        village_code=flag.village_code,
        content=_tip_content(session, flag, lines),
        payout_record_id=flag.record_ids[0] if len(flag.record_ids) == 1 else None,
        actor=actor,
        settings=settings,
    )
    _change(session, flag, actor=actor, action="screening.flag.tip", tip_id=tip.id)
    return _detail(session, flag)


# --- figures for staff -----------------------------------------------------------------------


def precision(session: Session) -> list[RulePrecision]:
    """Per rule: confirmed ÷ (confirmed + dismissed); None while none is closed."""
    counts: dict[tuple[str, str], int] = {
        (rule, state): n
        for rule, state, n in session.execute(
            select(Flag.rule, Flag.state, func.count()).group_by(Flag.rule, Flag.state)
        )
    }
    rows = []
    for code, rule in RULES.items():
        confirmed = counts.get((code, FlagState.confirmed), 0)
        dismissed = counts.get((code, FlagState.dismissed), 0)
        closed = confirmed + dismissed
        rows.append(
            RulePrecision(
                rule=code,
                rule_name=rule.name,
                open=counts.get((code, FlagState.open), 0),
                confirmed=confirmed,
                dismissed=dismissed,
                precision=round(confirmed / closed, 4) if closed else None,
            )
        )
    return rows


def open_flags_xlsx(session: Session, *, filters: FlagFilter, staff: Staff) -> bytes:
    """The open flags that the filters (but their state) select, oldest first, masked names."""
    filters = filters.model_copy(update={"state": FlagState.open})
    stmt = _scoped(select(Flag), staff, filters).order_by(Flag.id)
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 (a new workbook has one sheet)
    sheet.title = "待处理疑点"
    sheet.append(XLSX_HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    last_id = 0
    while True:
        batch = list(session.scalars(stmt.where(Flag.id > last_id).limit(XLSX_BATCH)))
        if not batch:
            break
        last_id = batch[-1].id
        for read in _reads(session, batch):
            row = [
                read.id,
                f"{read.rule_name}（{read.rule}）",
                read.village or read.village_code,
                read.person.name_masked if read.person is not None else "",
                read.period,
                read.item_name or "",
                "、".join(read.record_ids),
                json.dumps(read.figures, ensure_ascii=False, sort_keys=True),
                read.created_at.astimezone(COUNTY_TZ).strftime("%Y-%m-%d %H:%M"),
            ]
            append_row(sheet, row)
    for letter, width in zip("BCDGH", (24, 32, 12, 30, 60), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
