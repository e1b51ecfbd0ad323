from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import get_settings
from app.screening import lists
from app.screening.disclosure import percent
from app.screening.models import ListKind
from app.staff.models import Role
from app.subsidies import service as subsidies_service
from tests.asserts import assert_problem
from tests.factories import HUANGLIU, SANGUANZHAI, XIXING, make_staff
from tests.screening.lists_data import id_number, roster_csv
from tests.subsidies.factories import ID_A, make_payout

URL = f"/api/v1/villages/{SANGUANZHAI}/cadre-benefits"
SECRETARY, SPOUSE = id_number(201, "19600202"), id_number(202, "19880615")
SON, DIRECTOR = id_number(203, "20100301"), id_number(204, "19700707")
PENSION, DIBAO, POST_JOB = "城乡居民基础养老金", "城乡居民最低生活保障金", "公益性岗位补贴"


def _roster(session: Session) -> None:
    rows = [
        (SECRETARY, SECRETARY, SANGUANZHAI, "村党支部书记", "本人"),
        (SPOUSE, SECRETARY, "", "", "配偶"),
        (SON, SECRETARY, "", "", "子女"),  # paid nothing: not shown
        (DIRECTOR, DIRECTOR, SANGUANZHAI, "村委会主任", "本人"),  # paid nothing
        (SPOUSE, DIRECTOR, "", "", "兄弟姐妹"),  # on two cadres' rosters: counted once
    ]
    admin = make_staff(session, role=Role.commission)
    lists.upload_list(
        session,
        ListKind.cadre_relatives,
        data=roster_csv(rows),
        actor=admin,
        settings=get_settings(),
    )


def _payouts(session: Session) -> None:
    def pay(record_id: str, id_number: str, name: str, **line: object) -> object:
        return make_payout(record_id=record_id, id_number=id_number, name=name, **line)  # type: ignore[arg-type]

    secretary, spouse = (SECRETARY, "王建国"), (SPOUSE, "李秀兰")
    subsidies_service.store_payouts(
        session,
        [
            pay("S-09", *secretary, period="2026-09", item_name=PENSION, amount_fen=14300),
            pay("S-10", *secretary, period="2026-10", item_name=PENSION, amount_fen=14300),
            pay("S-old", *secretary, period="2025-12", item_name=PENSION, amount_fen=14300),
            pay("P-10", *spouse, category_code="01", item_name=DIBAO, amount_fen=35600),
            pay(
                "P-rev",
                *spouse,
                category_code="01",
                item_name=DIBAO,
                amount_fen=35600,
                status="reversed",
            ),
            # paid in another village: not this village's money
            pay(
                "P-elsewhere",
                *spouse,
                category_code="09",
                item_name=POST_JOB,
                amount_fen=80000,
                village_code=HUANGLIU,
            ),
            pay("V-10", ID_A, "张秀英", amount_fen=50000),  # a villager not on the roster
        ],
    )


def test_the_cadres_and_relatives_paid_with_their_items_totals_and_shares(
    client: TestClient, session: Session
) -> None:
    _roster(session)
    _payouts(session)
    response = client.get(f"{URL}/2026")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["village"] == "平昌县佛楼镇三官寨村" and body["year"] == 2026
    shown = [
        (p["name_masked"], p["relation"], p["cadre_post"], p["total"], p["items"])
        for p in body["persons"]
    ]
    spouse_items = [
        {
            "category_code": "01",
            "category_name": "社会救助",
            "item_name": DIBAO,
            "lines": 1,
            "total": "356.00",
        }
    ]
    assert shown == [
        (
            "王*国",
            "本人",
            "村党支部书记",
            "286.00",
            [
                {
                    "category_code": "05",
                    "category_name": "养老保障",
                    "item_name": PENSION,
                    "lines": 2,
                    "total": "286.00",
                }
            ],
        ),
        ("李*兰", "配偶", "村党支部书记", "356.00", spouse_items),
        ("李*兰", "兄弟姐妹", "村委会主任", "356.00", spouse_items),
    ]
    # 2 of the 3 persons paid in the village; 642 of its 1142 yuan (the reversed line, the
    # other village's line and the other year's left out)
    assert (body["group_persons"], body["group_total"]) == (2, "642.00")
    assert (body["village_persons"], body["village_total"]) == (3, "1142.00")
    assert (body["persons_share"], body["money_share"]) == ("66.67", "56.22")
    assert ID_A not in response.text and SPOUSE[:6] + "*" not in response.text


def test_a_year_or_village_without_any_is_an_empty_list(
    client: TestClient, session: Session
) -> None:
    _roster(session)
    _payouts(session)
    other_year = client.get(f"{URL}/2024").json()
    assert other_year["persons"] == [] and other_year["money_share"] == "0.00"
    assert other_year["village_total"] == "0.00"
    huangliu = client.get(f"/api/v1/villages/{HUANGLIU}/cadre-benefits/2026").json()
    assert huangliu["persons"] == [] and huangliu["group_total"] == "0.00"
    assert huangliu["village_total"] == "800.00" and huangliu["persons_share"] == "0.00"


def test_an_unknown_village_is_a_chinese_404(client: TestClient) -> None:
    for code in ("511923103999", XIXING):
        response = client.get(f"/api/v1/villages/{code}/cadre-benefits/2026")
        assert_problem(response, 404, "screening_village_not_found")
    assert_problem(client.get(f"{URL}/1999"), 422, "validation_failed")
    assert_problem(client.get("/api/v1/villages/abc/cadre-benefits/2026"), 422, "validation_failed")


def test_the_disclosure_is_cacheable_and_answers_304_when_unchanged(
    client: TestClient, session: Session
) -> None:
    _roster(session)
    _payouts(session)
    first = client.get(f"{URL}/2026")
    assert first.headers["cache-control"] == "public, max-age=300"
    again = client.get(f"{URL}/2026", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    subsidies_service.store_payouts(
        session, [make_payout(record_id="V-11", period="2026-11", amount_fen=50000)]
    )
    changed = client.get(f"{URL}/2026", headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200 and changed.json()["village_total"] == "1642.00"


def test_shares_are_rounded_half_up_to_two_places() -> None:
    assert percent(1, 3) == "33.33"
    assert percent(2, 3) == "66.67"
    assert percent(1, 8) == "12.50"
    assert percent(1, 800) == "0.13"  # 0.125
    assert percent(5, 5) == "100.00"
    assert percent(0, 0) == "0.00"
