from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.subsidies import service
from tests.asserts import assert_problem
from tests.factories import HUANGLIU, SANGUANZHAI
from tests.subsidies.factories import ID_A, ID_B, make_payout

BASE = f"/api/v1/villages/{SANGUANZHAI}/disclosures"


def _seed(session: Session) -> None:
    service.store_payouts(
        session,
        [
            make_payout(record_id="A-9", period="2026-09"),
            make_payout(record_id="A-10", period="2026-10"),
            make_payout(
                record_id="B-10",
                period="2026-10",
                id_number=ID_B,
                name="欧阳明华",
                category_code="01",
                item_name="城乡居民最低生活保障金",
                amount_fen=35600,
            ),
            make_payout(
                record_id="R-10",
                period="2026-10",
                id_number=ID_B,
                name="欧阳明华",
                category_code="01",
                item_name="城乡居民最低生活保障金",
                amount_fen=35600,
                status="reversed",
            ),
            make_payout(record_id="H-10", period="2026-08", village_code=HUANGLIU),
        ],
    )


def test_months_with_payouts_are_listed_newest_first(client: TestClient, session: Session) -> None:
    _seed(session)
    body = client.get(BASE).json()
    assert body["periods"] == ["2026-10", "2026-09"]
    assert body["village"] == "平昌县佛楼镇三官寨村"


def test_month_list_masks_names_and_totals_by_category(
    client: TestClient, session: Session
) -> None:
    _seed(session)
    response = client.get(f"{BASE}/2026-10")
    assert response.status_code == 200
    body = response.json()
    names = {line["record_id"]: line["name_masked"] for line in body["items"]}
    assert names == {"A-10": "张*英", "B-10": "欧**华", "R-10": "欧**华"}
    assert {c["category_code"]: c["total"] for c in body["by_category"]} == {
        "01": "356.00",
        "05": "143.00",
    }
    assert body["total"] == "499.00"
    assert "id_number" not in response.text and ID_A[-4:] not in response.text
    assert ID_B[:6] + "*" not in response.text

    only_01 = client.get(f"{BASE}/2026-10", params={"category": "01"}).json()
    assert {line["record_id"] for line in only_01["items"]} == {"B-10", "R-10"}


def test_unknown_village_month_or_bad_period(client: TestClient, session: Session) -> None:
    _seed(session)
    assert_problem(client.get(f"{BASE}/2026-07"), 404, "not_found")
    assert_problem(client.get("/api/v1/villages/511923999999/disclosures"), 404, "not_found")
    assert_problem(client.get(f"{BASE}/2026-13"), 422, "validation_failed")
    assert_problem(client.get("/api/v1/villages/511923103000/disclosures"), 404, "not_found")


def test_a_category_with_no_lines_that_month_is_an_empty_list(
    client: TestClient, session: Session
) -> None:
    _seed(session)
    response = client.get(f"{BASE}/2026-10", params={"category": "07"})
    assert response.status_code == 200
    assert response.json()["items"] == [] and response.json()["total"] == "0.00"


def test_a_villager_looking_again_gets_304_until_a_sync_changes_the_month(
    client: TestClient, session: Session
) -> None:
    _seed(session)
    first = client.get(f"{BASE}/2026-10")
    assert first.headers["cache-control"] == "public, max-age=300"
    again = client.get(f"{BASE}/2026-10", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    service.store_payouts(session, [make_payout(record_id="C-10", period="2026-10", name="李四")])
    changed = client.get(f"{BASE}/2026-10", headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200
    assert "C-10" in {line["record_id"] for line in changed.json()["items"]}


def test_a_month_list_reads_by_category_then_item_then_record(
    client: TestClient, session: Session
) -> None:
    lines = [  # stored in no useful order
        ("A-1", "05", "高龄津贴"),  # first by record, last by item
        ("C-2", "05", "城乡居民基础养老金"),
        ("C-1", "05", "城乡居民基础养老金"),
        ("B-1", "01", "城乡居民最低生活保障金"),
    ]
    service.store_payouts(
        session,
        [
            make_payout(record_id=record_id, category_code=code, item_name=item)
            for record_id, code, item in lines
        ],
    )
    body = client.get(f"{BASE}/2026-10").json()
    assert [line["record_id"] for line in body["items"]] == ["B-1", "C-1", "C-2", "A-1"]
    assert [c["category_code"] for c in body["by_category"]] == ["01", "05"]


def test_a_month_paid_in_another_village_only_is_not_found_here(
    client: TestClient, session: Session
) -> None:
    _seed(session)  # 黄柳村 has 2026-08, 三官寨村 has not
    body = assert_problem(client.get(f"{BASE}/2026-08"), 404, "not_found")
    assert body["detail"] == "2026-08 没有公示的发放记录"
    township = assert_problem(
        client.get("/api/v1/villages/511923103000/disclosures/2026-10"), 404, "not_found"
    )
    assert township["detail"] == "511923103000 不是村（社区）"
