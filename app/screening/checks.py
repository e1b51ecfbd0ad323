"""The SQL of the eight data rules (SPEC.md, "Payout screening"; their catalogue is
app.screening.rules). Each reads the paid lines of app.subsidies.store (the latest version of
each line, status `paid`: a reversed line is not paid) in one or two set-based statements, the
same on SQLite and PostgreSQL, and answers `Finding`s with figures a commission member reads:
amounts in fen and in yuan, ages, standards, medians, dates.

What each re-checks in an incremental scope (app.screening.scope: the (person, period) pairs a
sync touched):
- `duplicate`, `two_villages`, `age_mismatch`, `over_standard`: every line of the touched
  pairs (a rule that groups lines groups them by person and period, so a touched pair holds
  every line of its groups);
- `after_death`, `public_employee`, `cadre_relative` (one finding a person and item, of every
  period): every line of the touched persons;
- `village_jump`: every village's totals of the items touched, in the touched months and the
  months whose six months before hold a touched one (their medians moved).
A touched pair includes the pairs of the touched lines' earlier versions (app.screening.scope).
A change that is not a line's (a reference list uploaded, a standard edited) needs a full run
of the rules that read it: `after_death`, `public_employee`, `cadre_relative`, `over_standard`
(app.screening.runs.rescreen).
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import groupby
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Subquery,
    Table,
    and_,
    cast,
    distinct,
    extract,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.db.base import analyze_filled
from app.schemas import yuan_amount
from app.screening.flagging import Finding
from app.screening.models import Deceased, ItemStandard, PublicEmployee, RosterEntry, RunScope
from app.screening.rules import RULES, RuleCode
from app.screening.scope import Scope
from app.subsidies import store

# What finds one rule's lines in a scope (the objection rule's too: app.screening.objections).
Finder = Callable[[Session, Scope], Sequence[Finding]]


# --- figures -----------------------------------------------------------------------------------


def money(name: str, fen: int) -> dict[str, Any]:
    return {f"{name}_fen": int(fen), f"{name}_yuan": yuan_amount(int(fen))}


def period_of(month_index: int) -> str:
    return f"{month_index // 12:04d}-{month_index % 12 + 1:02d}"


def month_of(period: str) -> int:
    """The month index (year × 12 + month − 1) of a period "2026-10"; `period_of` reversed."""
    return int(period[:4]) * 12 + int(period[5:7]) - 1


# --- SQL shared by the rules -------------------------------------------------------------------


def month_index(period: Any) -> ColumnElement[int]:
    """A period "2026-10" as a count of months (year × 12 + month − 1), to compare and subtract."""
    year = cast(func.substr(period, 1, 4), Integer)
    month = cast(func.substr(period, 6, 2), Integer)
    return year * 12 + month - 1


def date_month_index(day: Any) -> ColumnElement[int]:
    return cast(extract("year", day), Integer) * 12 + cast(extract("month", day), Integer) - 1


def _paid(scope: Scope, *, birth_on: bool = False, id_hash: bool = False) -> Subquery:
    """The paid lines of the scope: all of them, or those of the touched (person, period)
    pairs (read once for the run: app.screening.scope)."""
    source = scope.lines if scope.kind is RunScope.incremental else None
    return store.paid_lines(birth_on=birth_on, id_hash=id_hash, source=source).subquery("paid")


def _line_figures(row: Any) -> dict[str, Any]:
    return {
        "record_id": row.record_id,
        "village_code": row.village_code,
        "item_name": row.item_name,
        **money("amount", row.amount_fen),
    }


def _grouped(rows: Iterable[Any], key: Callable[[Any], Any]) -> Iterator[tuple[Any, list[Any]]]:
    for value, group in groupby(rows, key):
        yield value, list(group)


# --- duplicate ---------------------------------------------------------------------------------


def find_duplicates(session: Session, scope: Scope) -> list[Finding]:
    """The same person, item and period paid under two record_ids or more, in any villages."""
    paid = _paid(scope)
    groups = (
        select(paid.c.person_id, paid.c.item_name, paid.c.period)
        .group_by(paid.c.person_id, paid.c.item_name, paid.c.period)
        .having(func.count() > 1)
        .subquery("dup")
    )
    rows = session.execute(
        select(paid)
        .join(
            groups,
            and_(
                groups.c.person_id == paid.c.person_id,
                groups.c.item_name == paid.c.item_name,
                groups.c.period == paid.c.period,
            ),
        )
        .order_by(paid.c.person_id, paid.c.item_name, paid.c.period, paid.c.record_id)
    )
    findings = []
    for (person_id, item, period), lines in _grouped(
        rows, lambda r: (r.person_id, r.item_name, r.period)
    ):
        figures = {
            "item_name": item,
            "period": period,
            "line_count": len(lines),
            **money("total", sum(r.amount_fen for r in lines)),
            "villages": sorted({r.village_code for r in lines}),
            "lines": [_line_figures(r) for r in lines],
        }
        findings.append(
            Finding(
                village_code=lines[0].village_code,
                period=period,
                record_ids=tuple(r.record_id for r in lines),
                figures=figures,
                person_id=person_id,
                item_name=item,
                key=f"{person_id}|{item}|{period}",
            )
        )
    return findings


# --- two_villages ------------------------------------------------------------------------------


def find_two_villages(session: Session, scope: Scope) -> list[Finding]:
    """The same person paid in two villages or more in one period."""
    paid = _paid(scope)
    groups = (
        select(paid.c.person_id, paid.c.period)
        .group_by(paid.c.person_id, paid.c.period)
        .having(func.count(distinct(paid.c.village_code)) > 1)
        .subquery("two")
    )
    rows = session.execute(
        select(paid)
        .join(
            groups,
            and_(groups.c.person_id == paid.c.person_id, groups.c.period == paid.c.period),
        )
        .order_by(paid.c.person_id, paid.c.period, paid.c.village_code, paid.c.record_id)
    )
    findings = []
    for (person_id, period), lines in _grouped(rows, lambda r: (r.person_id, r.period)):
        villages = [
            {
                "village_code": village,
                "line_count": len(of_village),
                **money("total", sum(r.amount_fen for r in of_village)),
                "items": sorted({r.item_name for r in of_village}),
            }
            for village, of_village in _grouped(lines, lambda r: r.village_code)
        ]
        figures = {
            "period": period,
            "village_count": len(villages),
            "villages": villages,
            "lines": [_line_figures(r) for r in lines],
        }
        findings.append(
            Finding(
                village_code=lines[0].village_code,
                period=period,
                record_ids=tuple(r.record_id for r in lines),
                figures=figures,
                person_id=person_id,
                key=f"{person_id}|{period}",
            )
        )
    return findings


# --- age_mismatch ------------------------------------------------------------------------------


def find_age_mismatches(session: Session, scope: Scope) -> list[Finding]:
    """高龄津贴 under 80, 城乡居民基础养老金 under 60, 学生资助 (category 07) over 25: the age
    in whole years at the period's month, from the stored birth date (the month of a birthday
    counts as reached: someone born in March 1945 is 80 for the period 2025-03)."""
    parameters = RULES[RuleCode.age_mismatch].parameters
    min_age: dict[str, int] = parameters["min_age"]
    max_age: dict[str, int] = parameters["max_age_by_category"]
    paid = _paid(scope, birth_on=True)
    age_months = month_index(paid.c.period) - date_month_index(paid.c.birth_on)
    too_young = [
        and_(paid.c.item_name == item, age_months < age * 12) for item, age in min_age.items()
    ]
    too_old = [
        and_(paid.c.category_code == category, age_months >= (age + 1) * 12)
        for category, age in max_age.items()
    ]
    rows = session.execute(
        select(paid, age_months.label("age_months"))
        .where(or_(false(), *too_young, *too_old))
        .order_by(paid.c.record_id)
    )
    findings = []
    for row in rows:
        age = row.age_months // 12
        if row.item_name in min_age:
            limit = {"min_age": min_age[row.item_name], "condition": "不满"}
        else:
            limit = {"max_age": max_age[row.category_code], "condition": "超过"}
        birth = row.birth_on
        figures = {
            "item_name": row.item_name,
            "category_code": row.category_code,
            "period": row.period,
            "birth_month": birth[:7] if isinstance(birth, str) else birth.strftime("%Y-%m"),
            "age": age,
            **limit,
            **money("amount", row.amount_fen),
        }
        findings.append(_line_finding(row, figures))
    return findings


def _line_finding(row: Any, figures: dict[str, Any]) -> Finding:
    return Finding(
        village_code=row.village_code,
        period=row.period,
        record_ids=(row.record_id,),
        figures=figures,
        person_id=row.person_id,
        item_name=row.item_name,
    )


def _per_line(rows: Iterable[Any], figures: Callable[[Any], dict[str, Any]]) -> list[Finding]:
    """A finding of each line: its item, period and amount, and the rule's own `figures`."""
    return [
        _line_finding(
            row,
            {
                "item_name": row.item_name,
                "period": row.period,
                **money("amount", row.amount_fen),
                **figures(row),
            },
        )
        for row in rows
    ]


# --- over_standard -----------------------------------------------------------------------------


def find_over_standard(session: Session, scope: Scope) -> list[Finding]:
    """One payout above its item's standard (the most one payout may be); a payout exactly at
    the standard is within it. Items without a standard are not checked."""
    paid = _paid(scope)
    standard = ItemStandard.__table__
    rows = session.execute(
        select(paid, standard.c.max_fen, standard.c.basis)
        .join(standard, standard.c.item_name == paid.c.item_name)
        .where(paid.c.amount_fen > standard.c.max_fen)
        .order_by(paid.c.record_id)
    )
    return _per_line(
        rows,
        lambda row: {
            **money("standard", row.max_fen),
            **money("excess", row.amount_fen - row.max_fen),
            "standard_basis": row.basis,
        },
    )


# --- village_jump ------------------------------------------------------------------------------


def find_village_jumps(session: Session, scope: Scope) -> list[Finding]:
    """A village's month total for an item above `times_own_median` × the median of its own
    totals in the `months_before` months before (at least `min_months_before` of them with
    payouts of the item), and above `times_township_median` × the median of the other
    villages of its township in that month (at least one other village paid the item)."""
    parameters = RULES[RuleCode.village_jump].parameters
    before: int = parameters["months_before"]
    own_times: float = parameters["times_own_median"]
    township_times: float = parameters["times_township_median"]
    min_months: int = parameters["min_months_before"]

    # The month totals in a temporary table with its indexes: the medians join them by
    # village, item and month, which neither database plans well on a CTE.
    with _month_totals(session, _village_month_totals(session, scope, before)) as totals:
        # Candidates: above `own_times` × the smallest of the months before (the median is no
        # smaller), with enough months before: the medians are then taken for these alone.
        history = func.min(totals.c.total_fen).over(
            partition_by=(totals.c.village_code, totals.c.item_name),
            order_by=totals.c.month,
            range_=(-before, -1),
        )
        months = func.count().over(
            partition_by=(totals.c.village_code, totals.c.item_name),
            order_by=totals.c.month,
            range_=(-before, -1),
        )
        windowed = select(
            totals, history.label("history_min"), months.label("months_before")
        ).subquery("windowed")
        target = (
            select(
                windowed.c.village_code,
                windowed.c.item_name,
                windowed.c.month,
                windowed.c.total_fen,
            )
            .where(
                *_in_scope(session, scope, windowed),
                windowed.c.months_before >= min_months,
                windowed.c.total_fen > own_times * windowed.c.history_min,
            )
            .cte("target")
            .prefix_with("MATERIALIZED")
        )
        # Each candidate's median of its months before, the candidate's total carried along.
        own = _medians(
            select(
                target.c.village_code,
                target.c.item_name,
                target.c.month,
                target.c.total_fen.label("current_fen"),
                totals.c.total_fen.label("value_fen"),
            )
            .select_from(target)
            .join(
                totals,
                and_(
                    totals.c.village_code == target.c.village_code,
                    totals.c.item_name == target.c.item_name,
                    totals.c.month.between(target.c.month - before, target.c.month - 1),
                ),
            ),
            "own",
            carried=("current_fen",),
        )
        # Those above their own median; the township's medians are then taken for these alone.
        rising = (
            select(own.c.village_code, own.c.item_name, own.c.month, own.c.current_fen)
            .add_columns(own.c.median.label("own_median"))
            .where(own.c.current_fen > own_times * own.c.median)
            .cte("rising")
            .prefix_with("MATERIALIZED")
        )
        others = _medians(
            select(rising, totals.c.total_fen.label("value_fen")).join(
                totals,
                and_(
                    totals.c.township_code == func.substr(rising.c.village_code, 1, 9),
                    totals.c.village_code != rising.c.village_code,
                    totals.c.item_name == rising.c.item_name,
                    totals.c.month == rising.c.month,
                ),
            ),
            "others",
            carried=("current_fen", "own_median"),
        )
        jumps = session.execute(
            select(
                others.c.village_code,
                others.c.item_name,
                others.c.month,
                others.c.current_fen.label("total_fen"),
                others.c.own_median,
                others.c.median.label("township_median"),
                others.c.n.label("other_villages"),
            )
            .where(others.c.current_fen > township_times * others.c.median)
            .order_by(others.c.village_code, others.c.item_name, others.c.month)
        ).all()
    if not jumps:
        return []
    return _jump_findings(session, jumps, before)


_totals_table = Table(
    "screening_month_total",
    MetaData(),
    Column("village_code", String(12), primary_key=True),
    Column("item_name", String(64), primary_key=True),
    Column("month", Integer, primary_key=True),
    Column("township_code", String(12), nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Index("ix_screening_month_total_township", "township_code", "item_name", "month"),
    prefixes=["TEMPORARY"],
)


@contextmanager
def _month_totals(session: Session, totals: Select[Any]) -> Iterator[Table]:
    connection = session.connection()
    _totals_table.drop(connection, checkfirst=True)
    _totals_table.create(connection)
    connection.execute(
        _totals_table.insert().from_select(
            ["village_code", "township_code", "item_name", "month", "total_fen"], totals
        )
    )
    analyze_filled(connection, _totals_table)
    yield _totals_table
    _totals_table.drop(connection)


def _village_month_totals(session: Session, scope: Scope, before: int) -> Select[Any]:
    """Each village's total of each item each month (paid lines), as the payout store keeps
    them (app.subsidies.store.month_totals: no line is summed here); in an incremental scope
    those of the months that can matter to the months checked (the touched months' bounds
    read first)."""
    totals = store.month_totals().subquery("kept")
    where: list[ColumnElement[bool]] = []
    if scope.kind is RunScope.incremental:
        items = scope.touched_items
        first, last = session.execute(
            select(func.min(items.c.period), func.max(items.c.period))
        ).one()
        where = [
            totals.c.period.between(shifted(first, -before), shifted(last, before))
            if first is not None
            else false()
        ]
    return select(
        totals.c.village_code,
        func.substr(totals.c.village_code, 1, 9).label("township_code"),
        totals.c.item_name,
        month_index(totals.c.period).label("month"),
        totals.c.total_fen,
    ).where(*where)


def shifted(period: str, months: int) -> str:
    """The period `months` later (earlier, when negative) than `period`."""
    return period_of(month_of(period) + months)


def jump_months(session: Session, scope: Scope) -> dict[str, set[int]]:
    """The month indexes `village_jump` checks in an incremental scope, by item: those whose
    item was touched in them or in one of the `months_before` months before (their medians
    moved). A few dozen: the touched items' months, read from the scope's small table."""
    before: int = RULES[RuleCode.village_jump].parameters["months_before"]
    items = scope.touched_items
    months: dict[str, set[int]] = {}
    for item, period in session.execute(select(items.c.item_name, items.c.period)):
        months.setdefault(item, set()).update(
            range(month_of(period), month_of(period) + before + 1)
        )
    return months


def _in_scope(session: Session, scope: Scope, totals: Any) -> list[ColumnElement[bool]]:
    """A month total is checked if an incremental scope touched its item in its month or in
    one of the months before (`jump_months`), as plain conditions: no subquery a row."""
    if scope.kind is not RunScope.incremental:
        return []
    return [
        or_(
            false(),
            *(
                and_(totals.c.item_name == item, totals.c.month.in_(sorted(months)))
                for item, months in sorted(jump_months(session, scope).items())
            ),
        )
    ]


def _medians(values: Select[Any], name: str, *, carried: tuple[str, ...]) -> Subquery:
    """The median of `value_fen` for each (village_code, item_name, month) of `values`, how many
    values it is taken of (`n`), and the `carried` columns (the same in each group): window
    functions, which SQLite and PostgreSQL share (SQLite has no percentile_cont)."""
    keyed = values.subquery(f"{name}_values")
    partition = (keyed.c.village_code, keyed.c.item_name, keyed.c.month)
    kept = (*partition, *(keyed.c[column] for column in carried))
    ranked = select(
        *kept,
        keyed.c.value_fen,
        func.row_number().over(partition_by=partition, order_by=keyed.c.value_fen).label("rank"),
        func.count().over(partition_by=partition).label("n"),
    ).subquery(f"{name}_ranked")
    # The middle value, or the two middle ones: ranks (n + 1) / 2 and (n + 2) / 2.
    middle = ranked.c.rank.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
    grouped = [ranked.c[column.name] for column in kept]
    return (
        select(
            *grouped,
            (func.sum(ranked.c.value_fen) * 1.0 / func.count()).label("median"),
            func.max(ranked.c.n).label("n"),
        )
        .where(middle)
        .group_by(*grouped)
        .subquery(name)
    )


def _jump_findings(session: Session, jumps: Sequence[Any], before: int) -> list[Finding]:
    """The findings of the village months found, with their months before and their lines."""
    villages = {row.village_code for row in jumps}
    items = {row.item_name for row in jumps}
    first = min(row.month for row in jumps) - before
    last = max(row.month for row in jumps)
    totals = store.month_totals().subquery("kept")
    monthly = {
        (v, i, month_of(p)): int(total)
        for v, i, p, total in session.execute(
            select(totals).where(
                totals.c.village_code.in_(villages),
                totals.c.item_name.in_(items),
                totals.c.period.between(period_of(first), period_of(last)),
            )
        )
    }
    lines = store.paid_lines(birth_on=False).subquery("lines")
    record_ids: dict[tuple[str, str, str], list[str]] = {}
    for v, i, p, record_id in session.execute(
        select(lines.c.village_code, lines.c.item_name, lines.c.period, lines.c.record_id)
        .where(
            lines.c.village_code.in_(villages),
            lines.c.item_name.in_(items),
            lines.c.period.in_({period_of(row.month) for row in jumps}),
        )
        .order_by(lines.c.record_id)
    ):
        record_ids.setdefault((v, i, p), []).append(record_id)
    findings = []
    for row in jumps:
        period = period_of(row.month)
        own_median = round(float(row.own_median))
        township_median = round(float(row.township_median))
        history = [
            {
                "period": period_of(m),
                **money("total", monthly[(row.village_code, row.item_name, m)]),
            }
            for m in range(row.month - before, row.month)
            if (row.village_code, row.item_name, m) in monthly
        ]
        figures = {
            "item_name": row.item_name,
            "period": period,
            **money("total", row.total_fen),
            **money("own_median", own_median),
            "months_before": history,
            **money("township_median", township_median),
            "other_villages": int(row.other_villages),
            "times_own_median": _ratio(row.total_fen, own_median),
            "times_township_median": _ratio(row.total_fen, township_median),
        }
        findings.append(
            Finding(
                village_code=row.village_code,
                period=period,
                record_ids=tuple(record_ids.get((row.village_code, row.item_name, period), [])),
                figures=figures,
                item_name=row.item_name,
                key=f"{row.village_code}|{row.item_name}|{period}",
            )
        )
    return findings


def _ratio(total: int, median: int) -> str:
    return f"{total / median:.1f}" if median else "—"


# --- after_death, public_employee, cadre_relative: one finding a person and item --------------


def _paid_of_persons(scope: Scope, listed: Any) -> Subquery:
    """The paid lines of the persons whose id_hash is among `listed` (a select of a reference
    list's hashes), of every period, with `id_hash`: all of them, or in an incremental scope
    those of the touched persons (a finding of PERSON_RULES gathers a person's months). The
    listed persons are found first, by their hashes: a few of the touched ones."""
    lines = store.paid_lines(birth_on=False, id_hash=True)
    if scope.kind is RunScope.incremental:
        persons = store.persons_of_hashes(listed)
        touched_listed = persons.where(
            persons.selected_columns.person_id.in_(select(scope.touched.c.person_id))
        )
        lines = lines.where(lines.selected_columns.person_id.in_(touched_listed))
    return lines.subquery("paid")


def _per_person_item(
    rows: Iterable[Any],
    figures: Callable[[list[Any]], dict[str, Any]],
    line_figures: Callable[[Any], dict[str, Any]],
) -> list[Finding]:
    """One finding of each person and item with all its lines (`rows` in that order, then by
    period): its item, periods, total and lines, and the rule's own `figures` of the lines and
    `line_figures` of each. Its key is the person and item, so a new line of theirs updates
    the flag (and opens a dismissed one again: its figures changed) instead of raising one."""
    findings = []
    for (person_id, item), lines in _grouped(rows, lambda r: (r.person_id, r.item_name)):
        first = lines[0]
        findings.append(
            Finding(
                village_code=first.village_code,
                period=first.period,
                record_ids=tuple(r.record_id for r in lines),
                figures={
                    "item_name": item,
                    "first_period": first.period,
                    "last_period": lines[-1].period,
                    "line_count": len(lines),
                    **money("total", sum(r.amount_fen for r in lines)),
                    **figures(lines),
                    "lines": [
                        {**_line_figures(r), "period": r.period, **line_figures(r)} for r in lines
                    ],
                },
                person_id=person_id,
                item_name=item,
                key=f"{person_id}|{item}",
            )
        )
    return findings


def find_after_death(session: Session, scope: Scope) -> list[Finding]:
    """Paid for a period after the month of death on the deceased list (the month of death is
    still due): one finding of each person and item, with every such line."""
    deceased = Deceased.__table__
    paid = _paid_of_persons(scope, select(deceased.c.id_hash))
    months_after = month_index(paid.c.period) - date_month_index(deceased.c.died_on)
    rows = session.execute(
        select(paid, deceased.c.died_on, months_after.label("months_after"))
        .join(deceased, deceased.c.id_hash == paid.c.id_hash)
        .where(months_after > 0)
        .order_by(paid.c.person_id, paid.c.item_name, paid.c.period, paid.c.record_id)
    )
    return _per_person_item(
        rows,
        lambda lines: {
            "died_on": str(lines[0].died_on),
            "months_after_death": max(int(r.months_after) for r in lines),
        },
        lambda row: {"months_after_death": int(row.months_after)},
    )


def find_public_employees(session: Session, scope: Scope) -> list[Finding]:
    """On the public employees' list (财政供养人员) and paid an item of the rule's categories
    (社会救助): one finding of each person and item, with every such line."""
    categories: list[str] = RULES[RuleCode.public_employee].parameters["categories"]
    employees = PublicEmployee.__table__
    paid = _paid_of_persons(scope, select(employees.c.id_hash))
    rows = session.execute(
        select(paid)
        .join(employees, employees.c.id_hash == paid.c.id_hash)
        .where(paid.c.category_code.in_(categories))
        .order_by(paid.c.person_id, paid.c.item_name, paid.c.period, paid.c.record_id)
    )
    return _per_person_item(
        rows, lambda lines: {"category_code": lines[0].category_code}, lambda _row: {}
    )


# --- cadre_relative ----------------------------------------------------------------------------


def find_cadre_relatives(session: Session, scope: Scope) -> list[Finding]:
    """On the cadre-relative roster (the cadre included: relation 本人) and paid anything: to
    review, not an accusation. One finding of each person and item, with every such line and
    every roster entry of the person (a relative of two cadres stands there twice)."""
    roster = RosterEntry.__table__
    paid = _paid_of_persons(scope, select(roster.c.id_hash))
    entries: dict[str, list[dict[str, str]]] = {}
    for entry in session.execute(  # the whole roster: a few thousand entries
        select(roster.c.id_hash, roster.c.relation, roster.c.post, roster.c.village_code).order_by(
            roster.c.village_code, roster.c.post, roster.c.relation
        )
    ):
        entries.setdefault(entry.id_hash, []).append(
            {"relation": entry.relation, "post": entry.post, "village_code": entry.village_code}
        )
    rows = session.execute(
        select(paid)
        .where(paid.c.id_hash.in_(select(roster.c.id_hash)))
        .order_by(paid.c.person_id, paid.c.item_name, paid.c.period, paid.c.record_id)
    )
    return _per_person_item(
        rows, lambda lines: {"roster": entries[lines[0].id_hash]}, lambda _row: {}
    )


# Rules whose findings gather a person's lines of every period: an incremental run reads every
# line of the touched persons for them, and checks the open flags of those persons.
PERSON_RULES: frozenset[RuleCode] = frozenset(
    {RuleCode.after_death, RuleCode.public_employee, RuleCode.cadre_relative}
)

FINDERS: dict[RuleCode, Finder] = {
    RuleCode.duplicate: find_duplicates,
    RuleCode.two_villages: find_two_villages,
    RuleCode.age_mismatch: find_age_mismatches,
    RuleCode.over_standard: find_over_standard,
    RuleCode.village_jump: find_village_jumps,
    RuleCode.after_death: find_after_death,
    RuleCode.public_employee: find_public_employees,
    RuleCode.cadre_relative: find_cadre_relatives,
}
