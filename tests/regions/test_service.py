from sqlalchemy.orm import Session, sessionmaker

from app.db import engine_for, upgrade_head
from app.regions import service
from app.regions.models import RegionLevel


def test_the_demo_county_file_is_complete() -> None:
    rows = service.read_csv()
    by_level = {level: [r for r in rows if r.level is level] for level in RegionLevel}
    assert [r.code for r in by_level[RegionLevel.county]] == ["511923000000"]
    assert len(by_level[RegionLevel.township]) >= 14
    assert len(by_level[RegionLevel.village]) >= 150
    names = {r.code: r.name for r in rows}
    full = {names[r.parent_code] + r.name for r in by_level[RegionLevel.village] if r.parent_code}
    assert {"佛楼镇三官寨村", "西兴镇黄柳村", "白衣镇大梁村", "大寨镇龙堂村"} <= full
    assert {"佛楼镇", "大寨镇", "白衣镇", "西兴镇"} <= {
        r.name for r in by_level[RegionLevel.township]
    }
    for r in rows:
        assert len(r.code) == 12 and r.code.startswith("511923")


def test_import_is_idempotent(fresh_database_url: str) -> None:
    upgrade_head(fresh_database_url)
    factory = sessionmaker(engine_for(fresh_database_url))
    rows = service.read_csv()
    with factory.begin() as session:
        first = service.import_regions(session, rows)
    with factory.begin() as session:
        second = service.import_regions(session, rows)
    assert first.created == len(rows) and first.updated == 0
    assert second.created == 0 and second.updated == 0 and second.unchanged == len(rows)


def test_import_updates_a_renamed_region(session: Session) -> None:
    rows = service.read_csv()
    renamed = [
        r if r.code != "511923120201" else type(r)(r.code, "三官寨新村", r.level, r.parent_code)
        for r in rows
    ]
    summary = service.import_regions(session, renamed)
    assert summary.updated == 1
    assert service.get_region(session, "511923120201").name == "三官寨新村"


def test_scope_contains() -> None:
    assert service.contains("511923000000", "511923120201")
    assert service.contains("511923120000", "511923120201")
    assert not service.contains("511923120000", "511923121201")
    assert service.contains("511923120201", "511923120201")
    assert not service.contains("511923120201", "511923120202")
