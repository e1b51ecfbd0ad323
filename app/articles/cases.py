"""Disciplinary cases made public (通报曝光), kept as data.

Invariants:
- A case's public words are made by `_words` from its fields, one template for every case, at
  read time: so `name_public_until` takes effect the day after it without a job, in lists,
  details, snippets alike (past it, the name reads 王某某 everywhere, in the facts too).
- The search index holds published cases only, and only their masked words (the surname), so a
  name whose time is past cannot be found by searching for it either.
- A case happens in a township (and maybe one of its villages) that exists; the facts come
  before the discipline, the discipline before the 通报 and the return visit.
- The commission (and the county admin) writes and publishes; a township officer proposes:
  writes, edits and submits drafts within their own township, never publishes.
- Every staff write goes through the audit log; a refused write stores nothing.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from app import search
from app.articles.errors import CaseInvalid, CaseNotFound, CaseStateInvalid, OutsideTownship
from app.articles.models import DISCIPLINE_NAMES, Case, CaseState
from app.articles.schemas import (
    CaseAdminBrief,
    CaseAdminRead,
    CaseBrief,
    CaseCreate,
    CaseRead,
    CaseUpdate,
    DisciplineRead,
    Revisit,
)
from app.audit import service as audit
from app.db.base import utcnow
from app.pagination import Page, PageParams, paginate
from app.public_writes import today
from app.regions import service as regions
from app.regions.models import RegionLevel
from app.schemas import yuan_text
from app.staff.models import Role, Staff
from app.subsidies.categories import category_name
from app.tips.schemas import CATEGORY_NAMES as TIP_CATEGORY_NAMES

ENTITY = "case"
KIND = "case"
COMMISSION = (Role.commission, Role.county_admin)


# --- the one template ---------------------------------------------------------------------------


def masked_name(name: str) -> str:
    """王小明 → 王某某, 王明 → 王某: the surname, as a 通报 does once the naming period is over."""
    return name[0] + "某" * min(len(name) - 1, 2)


def _name_shown(case: Case, on: date, *, masked: bool = False) -> str:
    if masked or (case.name_public_until is not None and on > case.name_public_until):
        return masked_name(case.person_name)
    return case.person_name


def _day(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


@dataclass(frozen=True)
class _Words:
    name: str
    title: str
    facts: str
    text: str
    revisit: str | None


def _words(case: Case, places: dict[str, str], on: date, *, masked: bool = False) -> _Words:
    """Title, facts and full text of a case as the public read them on `on` (`masked`: as
    they will read once the name's time is past)."""
    name = _name_shown(case, on, masked=masked)
    place = _place(case, places)
    title = f"{place}{case.post}{name}{case.problem}问题"
    facts = case.facts.replace(case.person_name, name).strip()
    if facts and facts[-1] not in "。！？":
        facts += "。"
    money = ""
    if case.amount_involved is not None:
        money = f"涉及金额{yuan_text(case.amount_involved)}元"
        if case.amount_recovered:
            money += f"，已追回{yuan_text(case.amount_recovered)}元"
        money += "。"
    disciplines = "、".join(DISCIPLINE_NAMES[d] for d in case.disciplines)
    text = (
        f"{title}。{facts}{money}"
        f"{_day(case.discipline_on)}，{case.issued_by}对{name}作出处理：{disciplines}。"
    )
    revisit = _revisit_text(case)
    if revisit is not None:
        revisit = revisit.replace(case.person_name, name)
    return _Words(name=name, title=title, facts=facts, text=text, revisit=revisit)


def _revisit_text(case: Case) -> str | None:
    if all(
        v is None for v in (case.money_returned, case.rectified, case.revisit_on, case.revisit_note)
    ):
        return None
    parts = [f"{_day(case.revisit_on)}回访" if case.revisit_on else "通报回访"]
    if case.money_returned is not None:
        parts.append(f"已退还群众{yuan_text(case.money_returned)}元")
    if case.rectified is not None:
        parts.append("问题已整改到位" if case.rectified else "问题仍在整改")
    text = "：".join([parts[0], "，".join(parts[1:])]) if len(parts) > 1 else parts[0]
    note = (case.revisit_note or "").strip()
    return text + "。" + (note if not note or note[-1] in "。！？" else note + "。")


def _place(case: Case, places: dict[str, str]) -> str:
    township = places.get(case.township_code, "")
    return township + (places.get(case.village_code, "") if case.village_code else "")


def _places(session: Session, cases: list[Case]) -> dict[str, str]:
    codes = [c.township_code for c in cases] + [c.village_code for c in cases if c.village_code]
    return regions.names(session, codes)


# --- public -------------------------------------------------------------------------------------


def _brief(case: Case, places: dict[str, str], on: date, snippet: str | None) -> dict[str, Any]:
    return {
        "id": case.id,
        "number": case.number,
        "published_on": case.published_on,
        "title": _words(case, places, on).title,
        "township_code": case.township_code,
        "village_code": case.village_code,
        "place": _place(case, places),
        "disciplines": [DisciplineRead(code=d, name=DISCIPLINE_NAMES[d]) for d in case.disciplines],
        "tip_category": case.tip_category,
        "tip_category_name": TIP_CATEGORY_NAMES[case.tip_category],
        "snippet": snippet,
    }


def list_published(
    session: Session,
    *,
    township_code: str | None,
    village_code: str | None,
    year: int | None,
    category: str | None,
    q: str | None,
    page: PageParams,
) -> Page[CaseBrief]:
    """Published cases, the latest 通报 first; with `q`, those that match, best first."""
    stmt: Select[Any] = select(Case).where(Case.state == CaseState.published)
    if village_code is not None:
        stmt = stmt.where(Case.village_code == village_code)
    if township_code is not None:
        stmt = stmt.where(Case.township_code == township_code)
    if year is not None:
        stmt = stmt.where(
            and_(Case.published_on >= date(year, 1, 1), Case.published_on <= date(year, 12, 31))
        )
    if category is not None:
        stmt = stmt.where(Case.tip_category == category)
    query_runs = search.runs(q) if q else []
    if q and not query_runs:
        return Page[CaseBrief](items=[], total=0, page=page.page, size=page.size)
    if query_runs:
        hits = search.hits(session, KIND, query_runs)
        stmt = stmt.join(hits, hits.c.ref_id == Case.id).order_by(
            hits.c.score.desc(), Case.published_on.desc(), Case.id.desc()
        )
    else:
        stmt = stmt.order_by(Case.published_on.desc(), Case.id.desc())
    rows, total = paginate(session, stmt, page)
    places, on = _places(session, rows), today()
    items = []
    for case in rows:
        snippet = None
        if query_runs:
            words = _words(case, places, on)
            snippet = search.snippet([words.facts, words.title, words.text], query_runs)
        items.append(CaseBrief(**_brief(case, places, on, snippet)))
    return Page[CaseBrief](items=items, total=total, page=page.page, size=page.size)


def get_published(session: Session, case_id: int) -> CaseRead:
    case = session.get(Case, case_id)
    if case is None or case.state != CaseState.published:
        raise CaseNotFound(f"没有编号为 {case_id} 的案例，或它没有公开。")
    places, on = _places(session, [case]), today()
    words = _words(case, places, on)
    revisit = None
    if words.revisit is not None:
        revisit = Revisit(
            money_returned=case.money_returned,
            rectified=case.rectified,
            revisit_on=case.revisit_on,
            note=(case.revisit_note or "").replace(case.person_name, words.name) or None,
            text=words.revisit,
        )
    return CaseRead(
        **_brief(case, places, on, None),
        person_name=_name_shown(case, on),
        post=case.post,
        problem=case.problem,
        facts=words.facts,
        facts_on=case.facts_on,
        amount_involved=case.amount_involved,
        amount_recovered=case.amount_recovered,
        discipline_on=case.discipline_on,
        issued_by=case.issued_by,
        policy_category=case.policy_category,
        policy_category_name=category_name(case.policy_category) if case.policy_category else None,
        text=words.text,
        revisit=revisit,
    )


# --- staff --------------------------------------------------------------------------------------


def _township_of(staff: Staff) -> str | None:
    return staff.region_code if staff.role == Role.township_officer else None


def _check_township(staff: Staff, township_code: str) -> None:
    township = _township_of(staff)
    if township is not None and not regions.contains(township, township_code):
        raise OutsideTownship("这个案例不在您所在的乡镇，只能由纪委监委处理。")


def _check(session: Session, case: Case) -> None:
    """The rules a case's fields keep together; CaseInvalid (nothing stored) when one fails."""
    township = regions.find_region(session, case.township_code)
    if township is None or township.level != RegionLevel.township:
        raise CaseInvalid(f"没有区划代码为 {case.township_code} 的乡镇（街道）。")
    if case.village_code is not None:
        village = regions.find_region(session, case.village_code)
        if village is None or village.level != RegionLevel.village:
            raise CaseInvalid(f"没有区划代码为 {case.village_code} 的村（社区）。")
        if village.parent_code != case.township_code:
            raise CaseInvalid(f"{village.name}不在这个乡镇（街道）。")
    on = today()
    if case.facts_on > on or case.discipline_on > on:
        raise CaseInvalid("问题发生和作出处理的日期不能晚于今天。")
    if case.discipline_on < case.facts_on:
        raise CaseInvalid(
            f"处理日期（{_day(case.discipline_on)}）早于问题发生的日期（{_day(case.facts_on)}）。"
        )
    if case.published_on is not None and case.published_on < case.discipline_on:
        raise CaseInvalid("通报日期不能早于作出处理的日期。")
    if case.revisit_on is not None and case.revisit_on < case.discipline_on:
        raise CaseInvalid("回访日期不能早于作出处理的日期。")
    if (
        case.amount_recovered is not None
        and case.amount_involved is not None
        and case.amount_recovered > case.amount_involved
    ):
        raise CaseInvalid("追回的金额不能多于涉及的金额。")
    if len(set(case.disciplines)) != len(case.disciplines):
        raise CaseInvalid("处理方式有重复。")


_FIELDS = tuple(CaseCreate.model_fields)


def _snapshot(case: Case) -> dict[str, Any]:
    return {
        "state": case.state,
        **{
            name: value.isoformat() if isinstance(value, date) else value
            for name in _FIELDS
            for value in [getattr(case, name)]
        },
    }


def _admin_view(session: Session, case: Case) -> CaseAdminRead:
    words = _words(case, _places(session, [case]), today())
    text = words.text + (words.revisit or "")
    return CaseAdminRead.model_validate(
        {
            **{name: getattr(case, name) for name in CaseAdminRead.model_fields if name != "text"},
            "text": text,
        }
    )


def _index(session: Session, case: Case) -> None:
    """Published cases are found by their words with the surname only (see the invariants)."""
    words = _words(case, _places(session, [case]), today(), masked=True)
    search.write(
        session,
        KIND,
        case.id,
        title=words.title,
        summary=case.problem,
        body=words.text + (words.revisit or ""),
    )


def _load(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id, with_for_update=True)
    if case is None:
        raise CaseNotFound(f"没有编号为 {case_id} 的案例。")
    return case


def _record(
    session: Session, case: Case, *, actor: Staff, action: str, before: dict[str, Any] | None
) -> CaseAdminRead:
    audit.record(
        session,
        actor=actor,
        action=f"case.{action}",
        entity_type=ENTITY,
        entity_id=case.id,
        before=before,
        after=_snapshot(case),
    )
    return _admin_view(session, case)


def create_case(session: Session, *, data: CaseCreate, actor: Staff) -> CaseAdminRead:
    """A draft case; nothing public until published."""
    _check_township(actor, data.township_code)
    case = Case(
        state=CaseState.draft,
        **data.model_dump(),
        created_by_id=actor.id,
    )
    _check(session, case)
    session.add(case)
    session.flush()
    return _record(session, case, actor=actor, action="create", before=None)


def update_case(session: Session, case_id: int, *, data: CaseUpdate, actor: Staff) -> CaseAdminRead:
    """The given fields changed; a published case (the commission's alone) is re-indexed and
    reads the new way at once."""
    case = _load(session, case_id)
    _check_township(actor, case.township_code)
    if _township_of(actor) is not None and case.state == CaseState.published:
        raise CaseStateInvalid("已公开的案例只能由纪委监委修改。")
    changes = data.model_dump(exclude_unset=True)
    required = set(CaseCreate.model_fields) - {
        n for n, f in CaseCreate.model_fields.items() if not f.is_required()
    }
    cleared = sorted(n for n in required if n in changes and changes[n] is None)
    if cleared:
        raise CaseInvalid("这些内容不能清空：" + "、".join(cleared) + "。")
    before = _snapshot(case)
    if "township_code" in changes:
        _check_township(actor, changes["township_code"])
    with session.no_autoflush:
        for name, value in changes.items():
            setattr(case, name, value)
        try:
            _check(session, case)
        except CaseInvalid:
            session.expire(case)  # nothing of the refused change stays on the object
            raise
    if _snapshot(case) == before:
        return _admin_view(session, case)
    case.updated_at = utcnow()
    session.flush()
    if case.state == CaseState.published:
        _index(session, case)
    return _record(session, case, actor=actor, action="update", before=before)


def submit_case(session: Session, case_id: int, *, actor: Staff) -> CaseAdminRead:
    case = _load(session, case_id)
    _check_township(actor, case.township_code)
    if case.state != CaseState.draft:
        raise CaseStateInvalid("只有草稿可以提交。")
    before = _snapshot(case)
    case.state = CaseState.submitted
    session.flush()
    return _record(session, case, actor=actor, action="submit", before=before)


def publish_case(session: Session, case_id: int, *, actor: Staff) -> CaseAdminRead:
    """A draft, submitted or withdrawn case made public (its 通报 date today unless set)."""
    case = _load(session, case_id)
    if case.state == CaseState.published:
        raise CaseStateInvalid("这个案例已经公开了。")
    before = _snapshot(case)
    case.state = CaseState.published
    case.published_on = case.published_on or today()
    _check(session, case)
    case.updated_at = utcnow()
    session.flush()
    _index(session, case)
    return _record(session, case, actor=actor, action="publish", before=before)


def unpublish_case(session: Session, case_id: int, *, actor: Staff) -> CaseAdminRead:
    case = _load(session, case_id)
    if case.state != CaseState.published:
        raise CaseStateInvalid("这个案例没有公开，无需撤下。")
    before = _snapshot(case)
    case.state = CaseState.withdrawn
    case.updated_at = utcnow()
    session.flush()
    search.remove(session, KIND, case.id)
    return _record(session, case, actor=actor, action="unpublish", before=before)


def get_case(session: Session, case_id: int, *, staff: Staff) -> CaseAdminRead:
    case = session.get(Case, case_id)
    if case is None:
        raise CaseNotFound(f"没有编号为 {case_id} 的案例。")
    _check_township(staff, case.township_code)
    return _admin_view(session, case)


def list_cases(
    session: Session, *, state: CaseState | None, staff: Staff, page: PageParams
) -> Page[CaseAdminBrief]:
    """Every case, the latest changed first; a township officer sees their township's."""
    stmt = select(Case).order_by(Case.updated_at.desc(), Case.id.desc())
    if state is not None:
        stmt = stmt.where(Case.state == state)
    township = _township_of(staff)
    if township is not None:
        stmt = stmt.where(Case.township_code == township)
    rows, total = paginate(session, stmt, page)
    places, on = _places(session, rows), today()
    items = [
        CaseAdminBrief(
            id=c.id,
            state=CaseState(c.state),
            number=c.number,
            title=_words(c, places, on).title,
            township_code=c.township_code,
            village_code=c.village_code,
            published_on=c.published_on,
            updated_at=c.updated_at,
        )
        for c in rows
    ]
    return Page[CaseAdminBrief](items=items, total=total, page=page.page, size=page.size)
