"""Onboarding (扫码安装): posters with QR codes, and the page a scan opens.

Invariants:
- A poster belongs to one village and one channel (where it hangs); its code is 8 random
  characters from an alphabet without look-alikes (no 0/o, 1/l/i), drawn by `secrets`, so
  codes cannot be guessed or enumerated. Its URL is `{public_base_url}/i/{code}`, derived,
  never stored.
- One poster per village and channel: a second one would split the scans, so it is refused
  (409 `poster_exists`, naming the existing code).
- Staff (commission, county admin, township officer) act only on posters of villages inside
  their own region; a poster outside it is a 404, as if it did not exist. Every poster made is
  in the audit log.
- A scan is one counter row per poster, day (Asia/Shanghai) and platform, incremented by an
  upsert. Nothing else of a scan is kept: no time of day, address or user agent. Counting is
  best-effort: a count the database cannot take (SQLite busy under the nightly sync) is dropped
  and the page is still shown.
- Statistics are GROUP BY queries over the counters.
"""

import logging
import re
import secrets
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased, selectinload

from app.audit import service as audit
from app.config import Settings
from app.db.base import dialect_insert
from app.db.engines import transaction
from app.onboarding import fonts, poster, qr
from app.onboarding.errors import NotAVillage, PosterExists, PosterNotFound
from app.onboarding.models import Platform, Poster, PosterScan
from app.onboarding.schemas import (
    DayScans,
    PlatformScans,
    PosterCreate,
    PosterRead,
    PosterStats,
    TownshipScans,
)
from app.pagination import PageParams, paginate
from app.regions import service as regions_service
from app.regions.models import Region, RegionLevel
from app.schemas import COUNTY_TZ
from app.staff import service as staff_service
from app.staff.models import Staff

logger = logging.getLogger(__name__)

ENTITY = "poster"
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 8
CODE_PATTERN = re.compile(rf"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def poster_url(code: str, settings: Settings) -> str:
    return f"{settings.public_base_url.rstrip('/')}/i/{code}"


def village_name(village: Region) -> str:
    """佛楼镇三官寨村: the township's name, then the village's."""
    return (village.parent.name if village.parent else "") + village.name


def _with_village() -> Select[Poster]:
    return select(Poster).options(selectinload(Poster.village).selectinload(Region.parent))


def _read(item: Poster, *, total_scans: int, settings: Settings) -> PosterRead:
    return PosterRead(
        code=item.code,
        url=poster_url(item.code, settings),
        village_code=item.village_code,
        village_name=village_name(item.village),
        channel=item.channel,
        created_at=item.created_at,
        total_scans=total_scans,
    )


def _total_scans(session: Session, poster_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(PosterScan.poster_id, func.sum(PosterScan.scans))
        .where(PosterScan.poster_id.in_(poster_ids))
        .group_by(PosterScan.poster_id)
    )
    return {poster_id: int(total) for poster_id, total in rows}


# --- staff ------------------------------------------------------------------------------------


def get_poster(session: Session, code: str, *, staff: Staff) -> Poster:
    """The poster, when its village lies inside the staff member's region (otherwise 404)."""
    item = session.scalars(_with_village().where(Poster.code == code)).one_or_none()
    if item is None or not regions_service.contains(staff.region_code, item.village_code):
        raise PosterNotFound(f"没有海报码为 {code} 的海报。")
    return item


def find_poster(session: Session, *, village_code: str, channel: str) -> Poster | None:
    """The oldest poster of a village and channel (the demo makes one only once)."""
    stmt = _with_village().where(Poster.village_code == village_code, Poster.channel == channel)
    return session.scalars(stmt.order_by(Poster.id).limit(1)).first()


def create_poster(
    session: Session, *, data: PosterCreate, actor: Staff, settings: Settings
) -> PosterRead:
    village = regions_service.get_region(session, data.village_code)  # raises NotFound
    if village.level != RegionLevel.village:
        raise NotAVillage(f"{village.name}不是村（社区），海报要为某个村（社区）制作。")
    staff_service.check_region(actor, village.code)  # raises Forbidden
    existing = find_poster(session, village_code=village.code, channel=data.channel)
    if existing is not None:
        raise PosterExists(
            f"{village_name(village)}的“{data.channel}”已有海报，海报码 {existing.code}。"
            "请重印那张海报；贴在别处请换一个渠道名。",
            poster_code=existing.code,
        )
    code = new_code()
    while session.scalar(select(Poster.id).where(Poster.code == code)) is not None:
        code = new_code()  # 31^8 codes: a clash is all but impossible, but cheap to rule out
    item = Poster(code=code, village=village, channel=data.channel, created_by_id=actor.id)
    session.add(item)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="poster.create",
        entity_type=ENTITY,
        entity_id=item.id,
        after={"code": item.code, "village_code": item.village_code, "channel": item.channel},
    )
    return _read(item, total_scans=0, settings=settings)


def read_poster(session: Session, code: str, *, staff: Staff, settings: Settings) -> PosterRead:
    item = get_poster(session, code, staff=staff)
    return _read(
        item, total_scans=_total_scans(session, [item.id]).get(item.id, 0), settings=settings
    )


def list_posters(
    session: Session,
    *,
    staff: Staff,
    township_code: str | None,
    village_code: str | None,
    page: PageParams,
    settings: Settings,
) -> tuple[list[PosterRead], int]:
    """Newest first, inside the staff member's region, each with its total scans."""
    stmt = _with_village().where(
        Poster.village_code.startswith(regions_service.scope_prefix(staff.region_code))
    )
    if township_code is not None:
        stmt = stmt.where(
            Poster.village_code.startswith(regions_service.scope_prefix(township_code))
        )
    if village_code is not None:
        stmt = stmt.where(Poster.village_code == village_code)
    rows, total = paginate(session, stmt.order_by(Poster.id.desc()), page)
    totals = _total_scans(session, [row.id for row in rows])
    return [_read(row, total_scans=totals.get(row.id, 0), settings=settings) for row in rows], total


def township_scans(session: Session, *, staff: Staff) -> list[TownshipScans]:
    """Every township inside the staff member's region, with its posters and their scans; a
    township with no poster yet shows 0, so the gaps are visible."""
    township, village = aliased(Region), aliased(Region)
    rows = session.execute(
        select(
            township.code,
            township.name,
            func.count(func.distinct(Poster.id)),
            func.coalesce(func.sum(PosterScan.scans), 0),
        )
        .select_from(township)
        .outerjoin(village, village.parent_code == township.code)
        .outerjoin(Poster, Poster.village_code == village.code)
        .outerjoin(PosterScan, PosterScan.poster_id == Poster.id)
        .where(
            township.level == RegionLevel.township,
            township.code.startswith(regions_service.scope_prefix(staff.region_code)),
        )
        .group_by(township.code, township.name)
        .order_by(township.code)
    )
    return [
        TownshipScans(township_code=code, township_name=name, posters=posters, scans=int(scans))
        for code, name, posters, scans in rows
    ]


def poster_stats(session: Session, code: str, *, staff: Staff, settings: Settings) -> PosterStats:
    """Scans by day and platform, and the totals by platform."""
    item = get_poster(session, code, staff=staff)
    by_platform: dict[str, int] = {
        platform: int(scans)
        for platform, scans in session.execute(
            select(PosterScan.platform, func.sum(PosterScan.scans))
            .where(PosterScan.poster_id == item.id)
            .group_by(PosterScan.platform)
        )
    }
    totals = PlatformScans(**by_platform, total=sum(by_platform.values()))
    days: dict[date, DayScans] = {}
    for day, platform, scans in session.execute(
        select(PosterScan.scanned_on, PosterScan.platform, func.sum(PosterScan.scans))
        .where(PosterScan.poster_id == item.id)
        .group_by(PosterScan.scanned_on, PosterScan.platform)
        .order_by(PosterScan.scanned_on)
    ):
        row = days.setdefault(day, DayScans(day=day))
        setattr(row, platform, int(scans))
        row.total += int(scans)
    return PosterStats(
        poster=_read(item, total_scans=totals.total, settings=settings),
        totals=totals,
        days=list(days.values()),
    )


def qr_png(session: Session, code: str, *, staff: Staff, settings: Settings) -> bytes:
    return qr.png(poster_url(get_poster(session, code, staff=staff).code, settings))


def qr_svg(session: Session, code: str, *, staff: Staff, settings: Settings) -> bytes:
    return qr.svg(poster_url(get_poster(session, code, staff=staff).code, settings))


def poster_png(session: Session, code: str, *, staff: Staff, settings: Settings) -> bytes:
    """The printable A4 poster; `PosterFontMissing` (503) when no CJK font can draw it."""
    item = get_poster(session, code, staff=staff)
    face = fonts.find_cjk_font(settings.poster_font)
    return poster.draw(
        face,
        app_name=settings.app_name,
        village_name=village_name(item.village),
        channel=item.channel,
        footer=f"{regions_service.county(session).name}纪委监委",
        url=poster_url(item.code, settings),
    )


# --- villagers --------------------------------------------------------------------------------


def normalise_code(code: str) -> str:
    """Codes are lowercase; one typed in capitals or with stray spaces still finds its poster."""
    return code.strip().lower()


def record_scan(session: Session, code: str, *, platform: Platform, count: bool) -> Poster | None:
    """The poster behind a scanned code, or None; when `count`, one more scan for today and
    this platform. A count that cannot be written is dropped (logged without anything of the
    visitor) and its SAVEPOINT rolled back, so the request's transaction stays usable."""
    code = normalise_code(code)
    if not CODE_PATTERN.fullmatch(code):
        return None
    item = session.scalars(_with_village().where(Poster.code == code)).one_or_none()
    if item is None or not count:
        return item
    try:
        with transaction(session, nested=True):
            count_scan(session, item.id, platform=platform)
    except DBAPIError as exc:
        logger.warning("scan not counted (%s)", type(exc.orig).__name__, extra={"poster": code})
    return item


def count_scan(session: Session, poster_id: int, *, platform: Platform) -> None:
    """An upsert, so concurrent scans never lose a count."""
    insert = dialect_insert(session, PosterScan).values(
        poster_id=poster_id,
        scanned_on=datetime.now(COUNTY_TZ).date(),
        platform=platform.value,
        scans=1,
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["poster_id", "scanned_on", "platform"],
            set_={"scans": PosterScan.scans + 1},
        )
    )
