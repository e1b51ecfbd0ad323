"""找谁监督: the directory of supervision phones staff keep, shown on every village's home page.

Invariants: one number of each kind per region, and each kind on the level it belongs to
(the county's 举报电话 on the county, a township commission's on its township, a 包片 leader's
on a village); a village sees the county's, its township's and its own; every write is audited;
staff below the county keep only the numbers inside their region.
"""

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.contacts.errors import ContactExists, ContactNotFound, ContactRegionInvalid
from app.contacts.models import ContactKind, SupervisionContact
from app.contacts.schemas import (
    KIND_NAMES,
    ContactCreate,
    ContactFilter,
    ContactRead,
    ContactUpdate,
    VillageContacts,
)
from app.errors import NotFound
from app.pagination import Page, PageParams, paginate
from app.regions import service as regions_service
from app.regions.models import RegionLevel
from app.staff import service as staff_service
from app.staff.models import Staff

LEVEL_OF_KIND = {
    ContactKind.county_hotline: RegionLevel.county,
    ContactKind.township_commission: RegionLevel.township,
    ContactKind.area_leader: RegionLevel.village,
}
# As a villager reads them: whom to call first.
ORDER = (ContactKind.township_commission, ContactKind.county_hotline, ContactKind.area_leader)


def _read(contact: SupervisionContact) -> ContactRead:
    return ContactRead(
        id=contact.id,
        region_code=contact.region_code,
        kind=ContactKind(contact.kind),
        kind_name=KIND_NAMES[contact.kind],
        title=contact.title,
        person=contact.person,
        phone=contact.phone,
        note=contact.note,
        demo=contact.demo,
        updated_at=contact.updated_at,
    )


def _snapshot(contact: SupervisionContact) -> dict[str, Any]:
    fields = ("region_code", "kind", "title", "person", "phone", "note", "demo")
    return {name: getattr(contact, name) for name in fields}


def village_contacts(session: Session, village_code: str) -> VillageContacts:
    village = regions_service.get_region(session, village_code)
    if village.level != RegionLevel.village:
        raise NotFound(f"{village_code} 不是村（社区）")
    county = regions_service.county(session)
    rows = session.scalars(
        select(SupervisionContact).where(
            or_(
                (SupervisionContact.kind == ContactKind.county_hotline)
                & (SupervisionContact.region_code == county.code),
                (SupervisionContact.kind == ContactKind.township_commission)
                & (SupervisionContact.region_code == regions_service.township_of(village_code)),
                (SupervisionContact.kind == ContactKind.area_leader)
                & (SupervisionContact.region_code == village_code),
            )
        )
    )
    items = sorted((_read(row) for row in rows), key=lambda c: ORDER.index(c.kind))
    return VillageContacts(
        village_code=village_code,
        village=regions_service.full_name(village),
        items=items,
    )


def list_contacts(
    session: Session, *, staff: Staff, filters: ContactFilter, page: PageParams
) -> Page[ContactRead]:
    """The numbers inside the staff member's region (and, for any, the county's hotline)."""
    prefix = regions_service.scope_prefix(staff.region_code)
    stmt = select(SupervisionContact).where(SupervisionContact.region_code.startswith(prefix))
    if filters.region_code:
        stmt = stmt.where(SupervisionContact.region_code == filters.region_code)
    rows, total = paginate(
        session, stmt.order_by(SupervisionContact.region_code, SupervisionContact.id), page
    )
    return Page[ContactRead](
        items=[_read(r) for r in rows], total=total, page=page.page, size=page.size
    )


def _get(session: Session, contact_id: int, *, staff: Staff) -> SupervisionContact:
    contact = session.get(SupervisionContact, contact_id)
    if contact is None or not regions_service.contains(staff.region_code, contact.region_code):
        raise ContactNotFound(f"没有编号为 {contact_id} 的电话。")
    return contact


def create_contact(session: Session, *, data: ContactCreate, actor: Staff) -> ContactRead:
    region = regions_service.get_region(session, data.region_code)
    if region.level != LEVEL_OF_KIND[data.kind]:
        raise ContactRegionInvalid(
            f"{KIND_NAMES[data.kind]}应登记在{_LEVEL_NAMES[LEVEL_OF_KIND[data.kind]]}上，"
            f"{regions_service.full_name(region)}不是。"
        )
    staff_service.check_region(actor, data.region_code)
    contact = SupervisionContact(**data.model_dump())
    try:
        with session.begin_nested():
            session.add(contact)
            session.flush()
    except IntegrityError:
        raise ContactExists(
            f"{regions_service.full_name(region)}已经登记了{KIND_NAMES[data.kind]}，请修改那一条。"
        ) from None
    audit.record(
        session,
        actor=actor,
        action="contact.create",
        entity_type="supervision_contact",
        entity_id=contact.id,
        after=_snapshot(contact),
    )
    return _read(contact)


def update_contact(
    session: Session, contact_id: int, *, data: ContactUpdate, actor: Staff
) -> ContactRead:
    contact = _get(session, contact_id, staff=actor)
    before = _snapshot(contact)
    for name, value in data.model_dump().items():
        setattr(contact, name, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="contact.update",
        entity_type="supervision_contact",
        entity_id=contact.id,
        before=before,
        after=_snapshot(contact),
    )
    return _read(contact)


def delete_contact(session: Session, contact_id: int, *, actor: Staff) -> None:
    contact = _get(session, contact_id, staff=actor)
    before = _snapshot(contact)
    session.delete(contact)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="contact.delete",
        entity_type="supervision_contact",
        entity_id=contact_id,
        before=before,
        after={"deleted": True},
    )


_LEVEL_NAMES = {
    RegionLevel.county: "县",
    RegionLevel.township: "乡镇（街道）",
    RegionLevel.village: "村（社区）",
}


# --- demo -------------------------------------------------------------------------------------

DEMO_NOTE = "演示号码，不是真实电话"


def load_demo(session: Session) -> int:
    """The demo county's directory: the national 12388 as the county's hotline, and made-up
    0827 numbers (marked demo) for every township's commission and the seeds' villages' 包片
    leaders. Numbers already there are left alone; returns how many were added."""
    county = regions_service.county(session)
    have = {(c.region_code, c.kind) for c in session.scalars(select(SupervisionContact))}
    rows = [
        SupervisionContact(
            region_code=county.code,
            kind=ContactKind.county_hotline,
            title=f"{county.name}纪委监委",
            phone="12388",
            note="纪检监察举报电话，全国统一；也可以到县纪委监委来信来访",
        )
    ]
    tree = regions_service.region_tree(session)
    for number, township in enumerate(tree.townships, start=1):
        rows.append(
            SupervisionContact(
                region_code=township.code,
                kind=ContactKind.township_commission,
                title=f"{township.name}纪委",
                phone=f"0827-55501{number:02d}",
                note=DEMO_NOTE,
                demo=True,
            )
        )
        for village in township.villages:
            rows.append(
                SupervisionContact(
                    region_code=village.code,
                    kind=ContactKind.area_leader,
                    title=f"{township.name}包片领导",
                    person="副镇长（演示）",
                    phone=f"0827-556{village.code[-4:]}",
                    note=DEMO_NOTE,
                    demo=True,
                )
            )
    added = [row for row in rows if (row.region_code, row.kind) not in have]
    session.add_all(added)
    session.flush()
    return len(added)
