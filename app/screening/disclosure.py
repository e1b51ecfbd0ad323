"""The public disclosure of what a village's cadres and their close relatives were paid in a
year (村干部及其近亲属享受惠民政策情况公示, seed 003), computed from the roster and the payouts.

Invariants: every figure is summed in SQL from the roster (`screening_roster`, the village being
the cadre's) and the village's paid lines of the year (app.subsidies.store), never typed in;
reversed lines are left out; a person shows by their masked name only; the group's figures
count each person and each line once, even for a person on the roster of two cadres.
"""

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.regions import service as regions_service
from app.screening.errors_lists import VillageNotFound
from app.screening.lists import RELATIONS
from app.screening.models import RosterEntry
from app.screening.schemas_lists import CadreBenefitItem, CadreBenefitPerson, CadreBenefits
from app.subsidies import store
from app.subsidies.categories import category_name

_RELATION_RANK = {relation: n for n, relation in enumerate(RELATIONS)}


def percent(part: int, whole: int) -> str:
    """part ÷ whole as a percentage with two places, rounded half up ("0.00" of nothing)."""
    if whole == 0:
        return "0.00"
    share = Decimal(part * 100) / Decimal(whole)
    return str(share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def cadre_benefits(session: Session, village_code: str, *, year: int) -> CadreBenefits:
    if regions_service.find_village(session, village_code) is None:
        raise VillageNotFound(f"没有编码为 {village_code} 的村（社区）。")
    lines = store.village_year_paid_lines(village_code, year)
    on_roster = RosterEntry.village_code == village_code
    entry_and_item = (
        RosterEntry.id,
        RosterEntry.relation,
        RosterEntry.post,
        RosterEntry.cadre_hash,
        lines.c.name_masked,
        lines.c.category_code,
        lines.c.item_name,
    )
    rows = session.execute(
        select(
            *entry_and_item,
            func.count().label("lines"),
            func.sum(lines.c.amount_fen).label("total_fen"),
        )
        .join_from(RosterEntry, lines, lines.c.id_hash == RosterEntry.id_hash)
        .where(on_roster)
        .group_by(*entry_and_item)
    ).all()
    # Ordered here, not in SQL: Chinese text sorts by each database's collation.
    per_item = sorted(
        rows,
        key=lambda r: (
            r.post,
            r.cadre_hash,
            _RELATION_RANK.get(r.relation, len(RELATIONS)),
            r.name_masked,
            r.id,
            r.category_code,
            r.item_name,
        ),
    )
    group_persons, group_fen = session.execute(
        select(
            func.count(func.distinct(lines.c.person_id)),
            func.coalesce(func.sum(lines.c.amount_fen), 0),
        ).where(lines.c.id_hash.in_(select(RosterEntry.id_hash).where(on_roster)))
    ).one()
    village = store.village_year_paid(session, village_code, year=year)
    persons: dict[int, CadreBenefitPerson] = {}
    for row in per_item:  # one row per person and item: a few dozen at most
        person = persons.get(row.id)
        if person is None:
            person = persons[row.id] = CadreBenefitPerson(
                name_masked=row.name_masked,
                relation=row.relation,
                cadre_post=row.post,
                items=[],
                total=0,
            )
        person.items.append(
            CadreBenefitItem(
                category_code=row.category_code,
                category_name=category_name(row.category_code),
                item_name=row.item_name,
                lines=row.lines,
                total=int(row.total_fen),
            )
        )
        person.total += int(row.total_fen)
    return CadreBenefits(
        village_code=village_code,
        village=regions_service.full_names(session, [village_code])[village_code],
        year=year,
        persons=list(persons.values()),
        group_persons=int(group_persons),
        group_total=int(group_fen),
        village_persons=village.persons,
        village_total=village.total_fen,
        persons_share=percent(int(group_persons), village.persons),
        money_share=percent(int(group_fen), village.total_fen),
    )
