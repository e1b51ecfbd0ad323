from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.errors import Forbidden, NotFound
from app.onboarding import service
from app.onboarding.errors import NotAVillage, PosterNotFound
from app.onboarding.models import Platform, PosterScan
from app.pagination import PageParams
from app.staff.models import Role
from tests.factories import FOLOU, HUANGLIU, SANGUANZHAI, XIXING, make_staff
from tests.onboarding.factories import BASE_URL, link_settings, make_poster

PAGE = PageParams(page=1, size=20)


def test_a_poster_gets_a_short_random_code_its_url_and_an_audit_entry(session: Session) -> None:
    admin = make_staff(session)
    poster = make_poster(session, admin, channel="  便民服务中心 ")
    assert len(poster.code) == 8 and set(poster.code) <= set(service.CODE_ALPHABET)
    assert poster.url == f"{BASE_URL}/i/{poster.code}"
    assert poster.village_name == "佛楼镇三官寨村" and poster.channel == "便民服务中心"
    assert poster.total_scans == 0
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "poster.create")).one()
    assert entry.actor_id == admin.id
    assert entry.after == {
        "code": poster.code,
        "village_code": SANGUANZHAI,
        "channel": "便民服务中心",
    }
    codes = {make_poster(session, admin, channel=f"渠道{n}").code for n in range(20)}
    assert len(codes) == 20


def test_a_poster_is_for_a_village_that_exists(session: Session) -> None:
    admin = make_staff(session)
    with pytest.raises(NotAVillage):
        make_poster(session, admin, village_code=FOLOU)
    with pytest.raises(NotFound):
        make_poster(session, admin, village_code="511923999999")


def test_a_township_officer_works_only_inside_their_township(session: Session) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    own = make_poster(session, officer)
    with pytest.raises(Forbidden):
        make_poster(session, officer, village_code=HUANGLIU)
    other = make_poster(session, make_staff(session), village_code=HUANGLIU)
    with pytest.raises(PosterNotFound):
        service.get_poster(session, other.code, staff=officer)
    rows, total = service.list_posters(
        session,
        staff=officer,
        township_code=None,
        village_code=None,
        page=PAGE,
        settings=link_settings(),
    )
    assert [r.code for r in rows] == [own.code] and total == 1


def _scan(session: Session, code: str, platform: Platform, times: int = 1) -> None:
    for _ in range(times):
        assert service.record_scan(session, code, platform=platform, count=True) is not None


def test_scans_are_counted_per_day_and_platform_in_one_row_each(session: Session) -> None:
    poster = make_poster(session, make_staff(session))
    _scan(session, poster.code, Platform.android, 3)
    _scan(session, poster.code, Platform.wechat)
    assert service.record_scan(session, poster.code, platform=Platform.ios, count=False)
    rows = session.execute(
        select(PosterScan.platform, PosterScan.scans).order_by(PosterScan.platform)
    ).all()
    assert [tuple(r) for r in rows] == [("android", 3), ("wechat", 1)]


def test_a_scan_stores_no_more_than_the_day_and_the_platform() -> None:
    assert set(PosterScan.__table__.columns.keys()) == {
        "poster_id",
        "scanned_on",
        "platform",
        "scans",
    }


def test_unknown_or_malformed_codes_find_nothing_and_count_nothing(session: Session) -> None:
    make_poster(session, make_staff(session))
    for code in ("zzzzzzzz", "ABCDEFGH", "x" * 200, "", "../../etc"):
        assert service.record_scan(session, code, platform=Platform.android, count=True) is None
    assert session.scalars(select(PosterScan)).all() == []


def test_stats_by_day_and_platform_with_totals(session: Session) -> None:
    admin = make_staff(session)
    poster = make_poster(session, admin)
    poster_id = service.get_poster(session, poster.code, staff=admin).id
    yesterday = date.today() - timedelta(days=1)
    session.add_all(
        [
            PosterScan(poster_id=poster_id, scanned_on=yesterday, platform="ios", scans=4),
            PosterScan(poster_id=poster_id, scanned_on=yesterday, platform="other", scans=1),
        ]
    )
    session.flush()
    _scan(session, poster.code, Platform.android, 2)
    _scan(session, poster.code, Platform.ios)
    stats = service.poster_stats(session, poster.code, staff=admin, settings=link_settings())
    assert stats.totals.model_dump() == {
        "android": 2,
        "ios": 5,
        "wechat": 0,
        "other": 1,
        "total": 8,
    }
    assert stats.poster.total_scans == 8
    first, last = stats.days
    assert first.day == yesterday and (first.ios, first.other, first.total) == (4, 1, 5)
    assert (last.android, last.ios, last.total) == (2, 1, 3)


def test_township_totals_include_townships_without_posters(session: Session) -> None:
    admin = make_staff(session)
    first = make_poster(session, admin)
    make_poster(session, admin, channel="便民服务中心")
    make_poster(session, admin, village_code=HUANGLIU)
    _scan(session, first.code, Platform.android, 2)
    totals = {t.township_code: t for t in service.township_scans(session, staff=admin)}
    assert (totals[FOLOU].township_name, totals[FOLOU].posters, totals[FOLOU].scans) == (
        "佛楼镇",
        2,
        2,
    )
    assert (totals[XIXING].posters, totals[XIXING].scans) == (1, 0)
    assert len(totals) > 2 and all(
        t.posters == 0 for code, t in totals.items() if code not in {FOLOU, XIXING}
    )
    officer = make_staff(session, role=Role.township_officer, region_code=XIXING)
    assert [t.township_code for t in service.township_scans(session, staff=officer)] == [XIXING]
