from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.db.engines import engine_for
from app.db.migrations import upgrade_head
from app.regions import service
from app.regions.models import RegionLevel


def test_the_demo_county_file_is_the_bureaus_2023_list() -> None:
    rows = service.read_csv()
    by_level = {level: [r for r in rows if r.level is level] for level in RegionLevel}
    names = {r.code: r.name for r in rows}
    assert [r.code for r in by_level[RegionLevel.county]] == ["511923000000"]
    townships = [r.name for r in by_level[RegionLevel.township]]
    assert len(townships) == 31
    assert sum(t.endswith("街道") for t in townships) == 3
    assert sum(t.endswith("镇") for t in townships) == 28
    villages = by_level[RegionLevel.village]
    assert len(villages) == 393
    assert sum(v.name.endswith("社区") for v in villages) == 147
    assert sum(v.name.endswith("村") for v in villages) == 246
    # the bureau's codes, not codes numbered in the file's own order (113 is 笔山镇, not 邱家镇)
    assert names["511923113000"] == "笔山镇" and names["511923112000"] == "邱家镇"
    assert names["511923103000"] == "佛楼镇" and names["511923126000"] == "大寨镇"
    # the seeds' villages where the 2023 list has them (大梁村 became 大梁社区)
    full = {names[v.parent_code] + v.name for v in villages if v.parent_code}
    assert {"佛楼镇三官寨村", "西兴镇黄柳村", "白衣镇大梁社区"} <= full
    assert names["511923103204"] == "三官寨村" and names["511923102205"] == "黄柳村"
    for r in rows:
        assert len(r.code) == 12 and r.code.startswith("511923")
    head = service.DEFAULT_CSV.read_text(encoding="utf-8").splitlines()[:3]
    assert "国家统计局" in head[0] and "2023" in head[0]


def test_bureau_names_are_shortened_and_classification_codes_read(tmp_path: Path) -> None:
    path = tmp_path / "regions.csv"
    path.write_text(
        "# 来源：示例\n"
        "code,name,level,parent_code,urban_rural_code\n"
        "511923000000,平昌县,county,,\n"
        "511923103000,佛楼镇,township,511923000000,\n"
        "511923103002,佛楼寺社区居民委员会,village,511923103000,121\n"
        "511923103204,三官寨村委会,village,511923103000,220\n"
        "511923103206,天马村村民委员会,village,511923103000,\n",
        encoding="utf-8",
    )
    rows = {r.code: r for r in service.read_csv(path)}
    assert rows["511923103002"].name == "佛楼寺社区"
    assert rows["511923103204"].name == "三官寨村"
    assert rows["511923103206"].name == "天马村"
    assert rows["511923103204"].urban_rural_code == "220"
    assert rows["511923103206"].urban_rural_code is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("511923103204,三官寨村,village,511923103000,999", "城乡分类代码 999"),
        ("511923103204,三官寨村,hamlet,511923103000,", "层级 hamlet"),
        ("511923104204,三官寨村,village,511923103000,", "编码范围"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "regions.csv"
    path.write_text(
        "code,name,level,parent_code,urban_rural_code\n"
        "511923000000,平昌县,county,,\n"
        f"511923103000,佛楼镇,township,511923000000,\n{line}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=message):
        service.read_csv(path)


def test_import_is_idempotent(fresh_database_url: str) -> None:
    upgrade_head(fresh_database_url)
    factory = sessionmaker(engine_for(fresh_database_url))
    rows = service.read_csv()
    with factory.begin() as session:
        first = service.import_regions(session, rows)
    with factory.begin() as session:
        second = service.import_regions(session, rows)
    assert first.created == len(rows) and first.updated == 0 and first.retired == 0
    assert second.created == 0 and second.updated == 0 and second.unchanged == len(rows)


def test_import_updates_a_renamed_region(session: Session) -> None:
    rows = service.read_csv()
    renamed = [
        r if r.code != "511923103204" else type(r)(r.code, "三官寨新村", r.level, r.parent_code)
        for r in rows
    ]
    summary = service.import_regions(session, renamed)
    assert summary.updated == 1
    assert service.get_region(session, "511923103204").name == "三官寨新村"


def test_scope_contains() -> None:
    assert service.contains("511923000000", "511923103204")
    assert service.contains("511923103000", "511923103204")
    assert not service.contains("511923103000", "511923102205")
    assert service.contains("511923103204", "511923103204")
    assert not service.contains("511923103204", "511923103206")
