"""Regions are reference data: county → township → village, loaded from a CSV file.

Invariants: a code is 12 digits; a township's code ends in 000 and its villages share its first
nine digits; the county's code ends in 000000. Importing the same file twice changes nothing.
"""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from app.errors import NotFound
from app.regions.models import Region, RegionLevel
from app.regions.schemas import ImportSummary, RegionBrief, RegionRead, RegionTree, TownshipRead

DEFAULT_CSV = Path(__file__).parent / "data" / "511923.csv"


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: RegionLevel
    parent_code: str | None


def read_csv(path: Path = DEFAULT_CSV) -> list[RegionRow]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = [
            RegionRow(
                code=r["code"].strip(),
                name=r["name"].strip(),
                level=RegionLevel(r["level"].strip()),
                parent_code=(r["parent_code"] or "").strip() or None,
            )
            for r in csv.DictReader(f)
        ]
    _check_rows(rows)
    return rows


def _check_rows(rows: list[RegionRow]) -> None:
    codes = {r.code for r in rows}
    if len(codes) != len(rows):
        raise ValueError("区划代码重复")
    for r in rows:
        if len(r.code) != 12 or not r.code.isdigit():
            raise ValueError(f"区划代码格式不对：{r.code}")
        if r.parent_code is not None and r.parent_code not in codes:
            raise ValueError(f"{r.code} 的上级 {r.parent_code} 不在文件中")
        if r.parent_code is not None and not r.code.startswith(scope_prefix(r.parent_code)):
            raise ValueError(f"{r.code} 不在上级 {r.parent_code} 的编码范围内")


def import_regions(session: Session, rows: Iterable[RegionRow]) -> ImportSummary:
    """Insert new regions and update renamed ones; parents before children."""
    order = {RegionLevel.county: 0, RegionLevel.township: 1, RegionLevel.village: 2}
    existing = {r.code: r for r in session.scalars(select(Region))}
    created = updated = unchanged = 0
    for row in sorted(rows, key=lambda r: (order[r.level], r.code)):
        region = existing.get(row.code)
        if region is None:
            session.add(
                Region(code=row.code, name=row.name, level=row.level, parent_code=row.parent_code)
            )
            created += 1
        elif (region.name, region.level, region.parent_code) != (
            row.name,
            row.level,
            row.parent_code,
        ):
            region.name, region.level, region.parent_code = row.name, row.level, row.parent_code
            updated += 1
        else:
            unchanged += 1
        session.flush()
    return ImportSummary(created=created, updated=updated, unchanged=unchanged)


def scope_prefix(code: str) -> str:
    """The code prefix that every region inside `code` shares (county 6, township 9 digits)."""
    if code.endswith("000000"):
        return code[:6]
    if code.endswith("000"):
        return code[:9]
    return code


def contains(outer_code: str, inner_code: str) -> bool:
    return inner_code.startswith(scope_prefix(outer_code))


def find_region(session: Session, code: str) -> Region | None:
    return session.get(Region, code)


def get_region(session: Session, code: str) -> Region:
    region = session.get(
        Region, code, options=[selectinload(Region.children), selectinload(Region.parent)]
    )
    if region is None:
        raise NotFound(f"没有编码为 {code} 的地区")
    return region


def full_name(region: Region) -> str:
    names = [region.name]
    parent = region.parent
    while parent is not None:
        names.append(parent.name)
        parent = parent.parent
    return "".join(reversed(names))


def full_name_of(code: Any) -> Any:
    """平昌县佛楼镇三官寨村 for a region code column, as a scalar subquery: a caller's query
    gets the full name without a second round trip."""
    village, township, county = aliased(Region), aliased(Region), aliased(Region)
    return (
        select(func.coalesce(county.name, "") + func.coalesce(township.name, "") + village.name)
        .select_from(village)
        .outerjoin(township, township.code == village.parent_code)
        .outerjoin(county, county.code == township.parent_code)
        .where(village.code == code)
        .scalar_subquery()
    )


# Built once: it runs for every village list.
_FULL_NAMES = select(Region.code, full_name_of(Region.code)).where(
    Region.code.in_(bindparam("codes", expanding=True))
)


def full_names(session: Session, codes: list[str]) -> dict[str, str]:
    """平昌县佛楼镇三官寨村 for each code, in one query."""
    return {code: name for code, name in session.execute(_FULL_NAMES, {"codes": codes})}


def region_detail(session: Session, code: str) -> RegionRead:
    region = get_region(session, code)
    return RegionRead(
        code=region.code,
        name=region.name,
        level=RegionLevel(region.level),
        full_name=full_name(region),
        parent=RegionBrief.model_validate(region.parent) if region.parent else None,
        children=[RegionBrief.model_validate(c) for c in region.children],
    )


def region_tree(session: Session) -> RegionTree:
    county_region = county(session)
    townships = session.scalars(
        select(Region)
        .where(Region.parent_code == county_region.code)
        .order_by(Region.code)
        .options(selectinload(Region.children))
    )
    return RegionTree(
        county=RegionBrief.model_validate(county_region),
        townships=[
            TownshipRead(
                code=t.code,
                name=t.name,
                villages=[RegionBrief.model_validate(v) for v in t.children],
            )
            for t in townships
        ],
    )


def county(session: Session) -> Region:
    region = session.scalar(select(Region).where(Region.level == RegionLevel.county))
    if region is None:
        raise NotFound("尚未导入地区数据")
    return region
