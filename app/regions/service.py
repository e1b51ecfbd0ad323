"""Regions are reference data: county → township → village, loaded from a CSV file.

Invariants: a code is 12 digits; a township's code ends in 000 and its villages share its first
nine digits; the county's code ends in 000000. Importing the same file twice changes nothing.
A code that a newer file no longer lists is kept and marked not current, never deleted: payout
lines, tips, posters, surveys and staff scopes may still refer to it.

The file: lines starting with `#` are comments (where the data came from, which year); then a
header `code,name,level,parent_code[,urban_rural_code]`. Village names may be given as the
statistics bureau writes them (三官寨村委会, 佛楼寺社区居民委员会): they are shortened to the
names villagers use (三官寨村, 佛楼寺社区).
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
from app.regions.schemas import (
    ImportSummary,
    RegionBrief,
    RegionRead,
    RegionTree,
    TownshipRead,
    VillageBrief,
)

DEFAULT_CSV = Path(__file__).parent / "data" / "511923.csv"

# 国家统计局《统计用区划代码和城乡划分代码编制规则》 (国统字〔2009〕91号)
URBAN_RURAL_CODES = {
    "111": "主城区",
    "112": "城乡结合区",
    "121": "镇中心区",
    "122": "镇乡结合区",
    "123": "特殊区域",
    "210": "乡中心区",
    "220": "村庄",
}

# The bureau's committee suffixes, longest first, and what villagers call the place.
_COMMITTEE_SUFFIXES = (
    ("村村民委员会", "村"),
    ("村民委员会", "村"),
    ("村村委会", "村"),
    ("村委会", "村"),
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("居委会", "社区"),
)


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: RegionLevel
    parent_code: str | None
    urban_rural_code: str | None = None


def short_name(name: str) -> str:
    """三官寨村委会 → 三官寨村, 佛楼寺社区居民委员会 → 佛楼寺社区; other names unchanged."""
    for suffix, plain in _COMMITTEE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + plain
    return name


def read_csv(path: Path = DEFAULT_CSV) -> list[RegionRow]:
    with path.open(encoding="utf-8", newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    reader = csv.DictReader(lines)
    missing = {"code", "name", "level", "parent_code"} - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"文件缺少列：{'、'.join(sorted(missing))}")
    rows = []
    for r in reader:
        try:
            level = RegionLevel(r["level"].strip())
        except ValueError:
            message = f"{r['code']} 的层级 {r['level']} 不对（county、township、village）"
            raise ValueError(message) from None
        name = r["name"].strip()
        rows.append(
            RegionRow(
                code=r["code"].strip(),
                name=short_name(name) if level is RegionLevel.village else name,
                level=level,
                parent_code=(r["parent_code"] or "").strip() or None,
                urban_rural_code=(r.get("urban_rural_code") or "").strip() or None,
            )
        )
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
        if r.urban_rural_code is not None and r.urban_rural_code not in URBAN_RURAL_CODES:
            raise ValueError(f"{r.code} 的城乡分类代码 {r.urban_rural_code} 不是国家统计局的代码")


def import_regions(session: Session, rows: Iterable[RegionRow]) -> ImportSummary:
    """Insert new regions, update renamed or moved ones (parents before children), and mark the
    codes of the file's counties that the file no longer lists as not current. Nothing is
    deleted, so every reference to an old code keeps working."""
    order = {RegionLevel.county: 0, RegionLevel.township: 1, RegionLevel.village: 2}
    rows = sorted(rows, key=lambda r: (order[r.level], r.code))
    existing = {r.code: r for r in session.scalars(select(Region))}
    created = updated = unchanged = 0
    for row in rows:
        region = existing.get(row.code)
        wanted = (row.name, row.level, row.parent_code, row.urban_rural_code, True)
        if region is None:
            session.add(
                Region(
                    code=row.code,
                    name=row.name,
                    level=row.level,
                    parent_code=row.parent_code,
                    urban_rural_code=row.urban_rural_code,
                    current=True,
                )
            )
            created += 1
        elif (
            region.name,
            region.level,
            region.parent_code,
            region.urban_rural_code,
            region.current,
        ) != wanted:
            region.name, region.level, region.parent_code = row.name, row.level, row.parent_code
            region.urban_rural_code, region.current = row.urban_rural_code, True
            updated += 1
        else:
            unchanged += 1
        session.flush()
    listed = {r.code for r in rows}
    counties = tuple(r.code[:6] for r in rows if r.level is RegionLevel.county)
    retired = 0
    for code, region in existing.items():
        if region.current and code not in listed and code.startswith(counties):
            region.current = False
            retired += 1
    session.flush()
    return ImportSummary(created=created, updated=updated, unchanged=unchanged, retired=retired)


def scope_prefix(code: str) -> str:
    """The code prefix that every region inside `code` shares (county 6, township 9 digits)."""
    if code.endswith("000000"):
        return code[:6]
    if code.endswith("000"):
        return code[:9]
    return code


def township_of(village_code: str) -> str:
    """The code of the township a village (or a township) is in."""
    return village_code[:9] + "000"


def contains(outer_code: str, inner_code: str) -> bool:
    return inner_code.startswith(scope_prefix(outer_code))


def find_region(session: Session, code: str) -> Region | None:
    return session.get(Region, code)


def find_village(session: Session, code: str) -> Region | None:
    """The village (村 or 社区) of that code; None for an unknown code, a township's or the
    county's."""
    region = session.get(Region, code)
    return region if region is not None and region.level == RegionLevel.village else None


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


def names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """The name of each region (黄柳村, 西兴镇), in one query."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.execute(select(Region.code, Region.name).where(Region.code.in_(wanted)))
    return {code: name for code, name in rows}


def region_detail(session: Session, code: str) -> RegionRead:
    region = get_region(session, code)
    return RegionRead(
        code=region.code,
        name=region.name,
        level=RegionLevel(region.level),
        full_name=full_name(region),
        urban_rural_code=region.urban_rural_code,
        current=region.current,
        parent=RegionBrief.model_validate(region.parent) if region.parent else None,
        children=[RegionBrief.model_validate(c) for c in region.children],
    )


def region_tree(session: Session) -> RegionTree:
    """The county's current townships and their current villages, in code order: one query
    of plain columns (through ORM objects it took ten times as long, for a reference list that
    the H5 app asks for often)."""
    county_region = county(session)
    rows = session.execute(
        select(Region.code, Region.name, Region.parent_code, Region.urban_rural_code)
        .where(Region.current, Region.level != RegionLevel.county)
        .order_by(Region.code)
    )
    townships: dict[str, str] = {}  # code → name
    villages_of: dict[str, list[VillageBrief]] = {}
    for code, name, parent_code, urban_rural_code in rows:  # a township before its villages
        if parent_code == county_region.code:
            townships[code] = name
            villages_of[code] = []
        elif parent_code in villages_of:  # a current village of a current township
            village = VillageBrief(code=code, name=name, urban_rural_code=urban_rural_code)
            villages_of[parent_code].append(village)
    return RegionTree(
        county=RegionBrief.model_validate(county_region),
        townships=[
            TownshipRead(code=code, name=name, villages=villages_of[code])
            for code, name in townships.items()
        ],
    )


def county(session: Session) -> Region:
    region = session.scalar(select(Region).where(Region.level == RegionLevel.county))
    if region is None:
        raise NotFound("尚未导入地区数据")
    return region
