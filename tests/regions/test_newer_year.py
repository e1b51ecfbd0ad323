"""A newer year's region file (here: the 2023 list as a 2024 one might change it) renames and
adds regions, and keeps every code it no longer lists, marked not current: payouts, tips,
posters, surveys and staff scopes that refer to old codes go on working."""

from dataclasses import replace

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.regions import service
from app.regions.models import RegionLevel
from app.regions.service import RegionRow
from app.staff.models import Role
from app.subsidies import service as subsidies
from tests.factories import FOLOU, SANGUANZHAI, auth_headers, make_staff
from tests.onboarding.factories import make_poster
from tests.subsidies.factories import ID_B, make_payout

TIANMA = "511923103206"  # 佛楼镇天马村: gone from the newer file (say, merged)
NEW_VILLAGE = "511923103212"  # 佛楼镇新设村: new in it


def next_year(rows: list[RegionRow]) -> list[RegionRow]:
    changed = [
        replace(r, name="三官寨社区", urban_rural_code="122") if r.code == SANGUANZHAI else r
        for r in rows
        if r.code != TIANMA
    ]
    return [*changed, RegionRow(NEW_VILLAGE, "新设村", RegionLevel.village, FOLOU, "220")]


def test_a_newer_file_renames_adds_and_keeps_the_codes_it_no_longer_lists(
    client: TestClient, session: Session
) -> None:
    admin = make_staff(session)
    clerk = make_staff(session, role=Role.village_clerk, region_code=TIANMA)
    poster = make_poster(session, admin, village_code=SANGUANZHAI)
    subsidies.store_payouts(
        session,
        [
            make_payout(record_id="T-10", village_code=TIANMA),
            make_payout(record_id="S-10", id_number=ID_B, name="欧阳明华"),
        ],
    )

    summary = service.import_regions(session, next_year(service.read_csv()))
    assert (summary.created, summary.updated, summary.retired) == (1, 1, 1)

    tree = client.get("/api/v1/regions").json()
    folou = next(t for t in tree["townships"] if t["code"] == FOLOU)
    villages = {v["code"]: v for v in folou["villages"]}
    assert villages[SANGUANZHAI] == {
        "code": SANGUANZHAI,
        "name": "三官寨社区",
        "urban_rural_code": "122",
    }
    assert villages[NEW_VILLAGE]["name"] == "新设村"
    assert TIANMA not in villages  # a villager no longer picks it

    old = client.get(f"/api/v1/regions/{TIANMA}").json()
    assert old["full_name"] == "平昌县佛楼镇天马村" and old["current"] is False
    assert client.get(f"/api/v1/regions/{SANGUANZHAI}").json()["current"] is True

    # what refers to the old code still works: its payouts are still published …
    months = client.get(f"/api/v1/villages/{TIANMA}/disclosures").json()
    assert months["periods"] == ["2026-10"] and months["village"] == "平昌县佛楼镇天马村"
    # … its clerk still signs in to its scope …
    me = client.get("/api/v1/auth/me", headers=auth_headers(clerk)).json()
    assert me["region_code"] == TIANMA
    # … and the renamed village's poster and payouts carry the new name
    landing = client.get(
        f"/i/{poster.code}", headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14)"}
    )
    assert "佛楼镇三官寨社区" in landing.text
    listed = client.get(f"/api/v1/villages/{SANGUANZHAI}/disclosures/2026-10").json()
    assert listed["village"] == "平昌县佛楼镇三官寨社区"

    again = service.import_regions(session, next_year(service.read_csv()))
    assert (again.created, again.updated, again.retired) == (0, 0, 0)

    back = service.import_regions(session, service.read_csv())  # the code is listed again
    assert back.updated == 2 and back.retired == 1  # 天马村 and 三官寨村; 新设村 retired
    assert client.get(f"/api/v1/regions/{TIANMA}").json()["current"] is True
