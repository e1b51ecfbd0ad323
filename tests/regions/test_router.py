from fastapi.testclient import TestClient

from tests.asserts import assert_problem


def test_regions_list_townships_with_their_villages(client: TestClient) -> None:
    response = client.get("/api/v1/regions")
    assert response.status_code == 200
    body = response.json()
    assert body["county"] == {"code": "511923000000", "name": "平昌县"}
    townships = {t["name"]: t for t in body["townships"]}
    assert len(townships) >= 14
    assert "三官寨村" in {v["name"] for v in townships["佛楼镇"]["villages"]}
    assert sum(len(t["villages"]) for t in body["townships"]) >= 150
    # a picker lists them in code order, as the statistics bureau does
    codes = [t["code"] for t in body["townships"]]
    assert codes == sorted(codes)
    for township in body["townships"]:
        villages = [v["code"] for v in township["villages"]]
        assert villages == sorted(villages) and all(v[:9] == township["code"][:9] for v in villages)


def test_region_detail_has_full_name_and_parent(client: TestClient) -> None:
    response = client.get("/api/v1/regions/511923103204")
    assert response.status_code == 200
    body = response.json()
    assert body["full_name"] == "平昌县佛楼镇三官寨村"
    assert body["level"] == "village"
    assert body["parent"] == {"code": "511923103000", "name": "佛楼镇"}

    township = client.get("/api/v1/regions/511923103000").json()
    assert "三官寨村" in {c["name"] for c in township["children"]}


def test_unknown_and_malformed_codes(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/regions/511923999999"), 404, "not_found")
    body = assert_problem(client.get("/api/v1/regions/51192"), 422, "validation_failed")
    assert body["errors"][0]["field"] == "code"


def test_regions_can_be_revalidated_with_their_etag(client: TestClient) -> None:
    first = client.get("/api/v1/regions")
    assert first.headers["cache-control"] == "public, max-age=3600"
    again = client.get("/api/v1/regions", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
