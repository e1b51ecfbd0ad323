"""The item standards of `over_standard`: for an item, the most one payout of it may be.

Invariants: the commission (or a county admin) keeps them, each change audited with the figure
before and after; an item is one of the county's (app.subsidies.items) or one the feed has paid;
the demo figures come from the policies' 补贴标准 and never overwrite a standard already kept.
Each change re-runs `over_standard` over every line with it (app.screening.runs.rescreen).
"""

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.db.base import dialect_insert, utcnow
from app.screening import runs
from app.screening.errors_lists import ItemUnknown, StandardNotFound
from app.screening.models import ItemStandard
from app.screening.schemas_lists import StandardRead, StandardUpdate
from app.staff.models import Staff
from app.subsidies import store
from app.subsidies.items import COUNTY_ITEM_BY_KEY, COUNTY_ITEM_BY_NAME, COUNTY_ITEMS


class DemoStandard(NamedTuple):
    item_key: str
    max_fen: int
    basis: str


# Per payout, from the 能领多少 of each policy page (app/policies/content), for the items whose
# page gives a ceiling. Left out: items paid by area or by child (耕地地力、退耕还林、公益林、育儿
# 补贴: the most depends on the household's 亩 or children), those whose page gives no ceiling
# (临时救助 "特别困难的可以更多", 农机购置), and 生态护林员 (the page says 1500元 a quarter; the
# demo feed pays 2500: which is the county's figure is for the county to say).
DEMO_STANDARDS: tuple[DemoStandard, ...] = (
    DemoStandard(
        "dibao",
        54_000,
        "“城乡居民最低生活保障”：农村低保标准每人每月540元（示例），补差最多补到标准",
    ),
    DemoStandard(
        "tekun",
        100_200,
        "“特困人员救助供养”：基本生活费每月702元＋完全不能自理照料护理费300元（示例）",
    ),
    DemoStandard("yiliao", 3_000_000, "“医疗救助”：每人每年最多3万元（示例）"),
    DemoStandard("pension", 20_300, "“城乡居民基础养老金”：90岁以上每月203元（示例）"),
    DemoStandard("gaoling", 90_000, "“高龄津贴”：100岁以上每月300元，每季度发一次（示例）"),
    DemoStandard("kunnan_canji", 9_000, "“困难残疾人生活补贴”：每人每月90元（示例）"),
    DemoStandard("zhongdu_canji", 12_000, "“重度残疾人护理补贴”：一级每人每月120元（示例）"),
    DemoStandard("yiwu_shenghuo", 75_000, "“学生资助”：住校初中生每年1500元，每学期750元"),
    DemoStandard("gaozhong", 175_000, "“学生资助”：普通高中国家助学金最高每年3500元，每学期发一半"),
    DemoStandard("yulu", 150_000, "“雨露计划”：每人每学期1500元（示例）"),
    DemoStandard("weifang", 2_100_000, "“农村危房改造”：每户最高35000元，验收后发60%（示例）"),
    DemoStandard("gongyi_gangwei", 120_000, "“公益性岗位补贴”：每人每月最高1200元（示例）"),
    DemoStandard("youfu", 250_000, "“优抚对象抚恤补助”：每人每月最高2500元（示例）"),
    DemoStandard(
        "jiangli", 96_000, "“农村部分计划生育家庭奖励扶助”：每人每年960元，一次发齐（示例）"
    ),
    DemoStandard("tebie", 150_000, "“计划生育家庭特别扶助”：每月500元，每季度发一次（示例）"),
)

_ITEM_ORDER = {item.item_name: n for n, item in enumerate(COUNTY_ITEMS)}


def _read(standard: ItemStandard) -> StandardRead:
    county_item = COUNTY_ITEM_BY_NAME.get(standard.item_name)
    return StandardRead(
        item_name=standard.item_name,
        category_code=county_item.category_code if county_item else None,
        max=standard.max_fen,
        basis=standard.basis,
        staff_edited=standard.updated_by_id is not None,
        updated_at=standard.updated_at,
    )


def _public(standard: ItemStandard) -> dict[str, object]:
    return {"max_fen": standard.max_fen, "basis": standard.basis}


def list_standards(session: Session) -> list[StandardRead]:
    """The county's items first, in the order of its list, then the others by name."""
    standards = session.scalars(select(ItemStandard)).all()
    ordered = sorted(
        standards, key=lambda s: (_ITEM_ORDER.get(s.item_name, len(_ITEM_ORDER)), s.item_name)
    )
    return [_read(s) for s in ordered]


def set_standard(
    session: Session, item_name: str, *, data: StandardUpdate, actor: Staff, lease_seconds: int
) -> StandardRead:
    if item_name not in COUNTY_ITEM_BY_NAME and not store.item_is_paid(session, item_name):
        raise ItemUnknown(f"“{item_name}”不是县里的补贴项目，一卡通也没有发放过这个项目。")
    standard = session.get(ItemStandard, item_name)
    before = _public(standard) if standard is not None else None
    if standard is None:
        standard = ItemStandard(item_name=item_name, max_fen=data.fen, basis=data.basis)
        session.add(standard)
    standard.max_fen = data.fen
    standard.basis = data.basis
    standard.updated_by_id = actor.id
    standard.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="screening.standard.set",
        entity_type="screening_standard",
        entity_id=item_name,
        before=before,
        after=_public(standard),
    )
    _rescreen(session, actor, lease_seconds)
    return _read(standard)


def delete_standard(session: Session, item_name: str, *, actor: Staff, lease_seconds: int) -> None:
    standard = session.get(ItemStandard, item_name)
    if standard is None:
        raise StandardNotFound(f"“{item_name}”没有单笔最高标准。")
    before = _public(standard)
    session.delete(standard)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="screening.standard.delete",
        entity_type="screening_standard",
        entity_id=item_name,
        before=before,
        after={"deleted": True},
    )
    _rescreen(session, actor, lease_seconds)


def _rescreen(session: Session, actor: Staff, lease_seconds: int) -> None:
    """`over_standard` run again over every line with the change (or owed to the end of the
    sync that holds the lease)."""
    runs.rescreen(
        session, runs.STANDARD_RULES, trigger="standard", actor=actor, lease_seconds=lease_seconds
    )


def load_demo_standards(session: Session) -> int:
    """The demo figures of items that have no standard yet (one kept, by staff or by an earlier
    run, is left as it is): how many were added. Safe to run again."""
    rows = [
        {
            "item_name": COUNTY_ITEM_BY_KEY[d.item_key].item_name,
            "max_fen": d.max_fen,
            "basis": d.basis,
            "updated_at": utcnow(),
        }
        for d in DEMO_STANDARDS
    ]
    kept = set(session.scalars(select(ItemStandard.item_name)))
    new = [row for row in rows if row["item_name"] not in kept]
    if new:
        session.execute(
            dialect_insert(session, ItemStandard.__table__).values(new).on_conflict_do_nothing()
        )
        audit.record(
            session,
            actor=None,
            action="screening.standard.demo",
            entity_type="screening_standard",
            entity_id="demo",
            after={"added": len(new)},
        )
    return len(new)
