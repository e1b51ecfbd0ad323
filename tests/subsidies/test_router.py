import asyncio
import logging
from collections import Counter, defaultdict
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db.engines import get_engine, session_scope
from app.main import create_app
from app.mockfeed import FeedGenerator, MockFeedConfig
from app.regions import service as regions_service
from app.regions.models import RegionLevel
from app.subsidies import identity, service
from app.subsidies.schemas import PayoutIn
from app.sync.records import RecordChecker
from tests.asserts import assert_problem
from tests.subsidies.factories import ID_A, ID_B, ID_C, make_payout

URL = "/api/v1/subsidies/lookup"


@pytest.fixture
def paid(session: Session) -> None:
    pension = make_payout(record_id="P-1", period="2026-09", amount_fen=14300)
    service.store_payouts(
        session,
        [
            pension,
            make_payout(record_id="P-2", period="2026-10", amount_fen=14300),
            make_payout(
                record_id="P-3",
                period="2025-05",
                category_code="02",
                item_name="耕地地力保护补贴",
                amount_fen=50500,
                department="县农业农村局",
            ),
            make_payout(
                record_id="P-4",
                period="2026-10",
                category_code="05",
                item_name="高龄津贴",
                amount_fen=5000,
                department="县民政局",
            ),
            make_payout(record_id="Q-1", id_number=ID_B, name="李强"),
        ],
    )
    service.store_payouts(session, [pension._replace(version=2, status="reversed")])


@pytest.mark.usefixtures("paid")
def test_lookup_lists_own_payouts_newest_first_with_totals(client: TestClient) -> None:
    response = client.post(URL, json={"id_number": ID_A.lower(), "name": "张秀英"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["person"]["name_masked"] == "张*英"
    assert body["person"]["id_number_masked"] == ID_A[:6] + "********" + ID_A[-4:]
    assert body["person"]["village"] == "平昌县佛楼镇三官寨村"
    assert [p["record_id"] for p in body["payouts"]] == ["P-4", "P-2", "P-1", "P-3"]
    reversed_line = next(p for p in body["payouts"] if p["record_id"] == "P-1")
    assert reversed_line["status"] == "reversed" and reversed_line["amount"] == "143.00"
    assert body["payouts"][0]["category_name"] == "养老保障"
    summary = body["summary"]
    assert summary["total"] == "698.00"  # 143 + 50 + 505; the reversed 143 left out
    assert {c["category_code"]: c["total"] for c in summary["by_category"]} == {
        "02": "505.00",
        "05": "193.00",
    }
    assert {y["year"]: y["total"] for y in summary["by_year"]} == {2026: "193.00", 2025: "505.00"}
    assert ID_A not in response.text
    # How often each line is paid, as the county pays it.
    assert {p["record_id"]: p["frequency"] for p in body["payouts"]} == {
        "P-4": "每季度",
        "P-2": "每月",
        "P-1": "每月",
        "P-3": "每年",
    }


def test_an_item_the_county_list_does_not_know_is_shown_without_a_frequency(
    client: TestClient, session: Session
) -> None:
    service.store_payouts(
        session, [make_payout(record_id="X-1", category_code="02", item_name="某县自设种粮奖励")]
    )
    response = client.post(URL, json={"id_number": ID_A, "name": "张秀英"})
    assert response.status_code == 200, response.text
    [line] = response.json()["payouts"]
    assert (line["item_name"], line["frequency"]) == ("某县自设种粮奖励", None)


def test_a_villager_of_the_mock_feed_sees_each_item_with_how_often_it_is_paid(
    client: TestClient, session: Session
) -> None:
    """A 低保 household's elder, enrolled in 退耕还林, after a sync of the demo's feed: the
    installment is 分期, the pension 每月, and no 医保参保资助 comes as money to the card."""
    generator = FeedGenerator(MockFeedConfig(token="t", persons=2000, months=12))
    checker = RecordChecker(
        pepper=service.pepper(get_settings()),
        villages={r.code for r in regions_service.read_csv() if r.level is RegionLevel.village},
    )
    items: dict[tuple[str, str], set[str]] = defaultdict(set)
    records = []
    for record in generator.iter_records():
        items[str(record["id_number"]), str(record["name"])].add(str(record["item_name"]))
        records.append(record)
    id_number, name = next(
        person
        for person, paid in items.items()
        if {"退耕还林补助", "城乡居民基础养老金", "城乡居民最低生活保障金"} <= paid
    )
    theirs = [checker.check(r) for r in records if r["id_number"] == id_number]
    assert all(isinstance(r, PayoutIn) for r in theirs)
    service.store_payouts(session, [r for r in theirs if isinstance(r, PayoutIn)])

    body = client.post(URL, json={"id_number": id_number, "name": name}).json()
    frequency = {line["item_name"]: line["frequency"] for line in body["payouts"]}
    assert frequency["退耕还林补助"] == "分期"
    assert frequency["城乡居民基础养老金"] == "每月"
    assert frequency["城乡居民最低生活保障金"] == "每月"
    assert not any("医保参保资助" in item for item in frequency)
    assert None not in frequency.values()


@pytest.mark.usefixtures("paid")
def test_lookup_filters_by_year_and_category(client: TestClient) -> None:
    body = client.post(URL, json={"id_number": ID_A, "name": "张秀英", "year": 2025}).json()
    assert [p["record_id"] for p in body["payouts"]] == ["P-3"]
    assert body["summary"]["total"] == "505.00"
    body = client.post(URL, json={"id_number": ID_A, "name": "张秀英", "category": "05"}).json()
    assert {p["category_code"] for p in body["payouts"]} == {"05"}
    both = {"id_number": ID_A, "name": "张秀英", "year": 2026, "category": "05"}
    body = client.post(URL, json=both).json()
    assert [(p["record_id"], p["paid_at"], p["status"]) for p in body["payouts"]] == [
        ("P-4", "2026-10-10", "paid"),
        ("P-2", "2026-10-10", "paid"),
        ("P-1", "2026-09-10", "reversed"),
    ]
    assert body["summary"]["by_year"] == [{"year": 2026, "total": "193.00", "count": 2}]
    none = {"id_number": ID_A, "name": "张秀英", "year": 2025, "category": "05"}
    body = client.post(URL, json=none).json()
    assert body["payouts"] == [] and body["summary"]["total"] == "0.00"


@pytest.mark.usefixtures("paid")
def test_wrong_name_and_unknown_id_get_the_same_404(client: TestClient) -> None:
    wrong_name = client.post(URL, json={"id_number": ID_A, "name": "张秀兰"})
    unknown = client.post(
        URL, json={"id_number": "110105194912310021"[:-1] + "X", "name": "张秀英"}
    )
    first = assert_problem(wrong_name, 404, "person_not_found")
    second = assert_problem(unknown, 404, "person_not_found")
    for key in ("title", "detail", "code", "status", "type"):
        assert first[key] == second[key]


@pytest.mark.parametrize(
    "bad", ["51192319450301028", "511923194503010281", "abc", "51192319451301028X"]
)
def test_malformed_id_is_422_id_number_invalid(client: TestClient, bad: str) -> None:
    assert_problem(
        client.post(URL, json={"id_number": bad, "name": "张三"}), 422, "id_number_invalid"
    )


def test_ten_lookups_a_minute_are_answered_and_the_eleventh_refused(client: TestClient) -> None:
    answers = [client.post(URL, json={"id_number": ID_A, "name": "张三"}) for _ in range(11)]
    assert [answer.status_code for answer in answers[:10]] == [404] * 10
    body = assert_problem(answers[10], 429, "rate_limited")
    assert 0 < int(answers[10].headers["retry-after"]) <= 60
    assert body["retry_after"] == int(answers[10].headers["retry-after"])


@pytest.mark.usefixtures("paid")
def test_each_line_links_to_the_policy_that_explains_it(
    client: TestClient, session: Session
) -> None:
    from app.policies import service as policies_service

    policies_service.import_policies(session, policies_service.CONTENT_DIR)
    body = client.post(URL, json={"id_number": ID_A, "name": "张秀英"}).json()
    line = next(p for p in body["payouts"] if p["item_name"] == "耕地地力保护补贴")
    policy = client.get(f"/api/v1/policies/{line['policy_id']}").json()
    assert "耕地地力保护补贴" in policy["items"]


def test_more_lookups_at_once_than_pooled_connections_are_all_answered(
    committed_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A lookup must never wait on the event loop for a connection that only the loop can give
    # back: on PostgreSQL connections are taken in the lane's own thread; on SQLite, whose lane
    # is the loop, the pool never makes a checkout wait.
    monkeypatch.setenv("LIANYUN_LOOKUP_LIMIT_PER_CLIENT", "1000/minute")
    get_settings.cache_clear()
    with session_scope().begin() as session:
        service.store_payouts(session, [make_payout(record_id="P-1")])
    app = create_app(configure_logs=False, schedule_jobs=False)
    body = {"id_number": ID_A, "name": "张秀英"}
    pool: Any = get_engine().pool
    pooled = pool.size() + max(pool._max_overflow, 0)  # SQLite: no limit on overflow

    async def at_once() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://lianyun") as client:
            requests = (client.post(URL, json=body) for _ in range(pooled + 25))
            return await asyncio.wait_for(asyncio.gather(*requests), timeout=60)

    responses = asyncio.run(at_once())
    assert [r.status_code for r in responses] == [200] * (pooled + 25)
    assert {r.json()["summary"]["total"] for r in responses} == {"143.00"}


@pytest.mark.usefixtures("paid")
def test_unknown_id_and_wrong_name_do_the_same_keyed_hashing(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Answering an unknown ID before hashing the name would make it answer sooner: a timing
    # tell of who is in the data. Both misses must hash the ID and the name given.
    hashed: list[tuple[str, str]] = []
    keyed_hash = identity.keyed_hash

    def spy(pepper: bytes, value: str) -> bytes:
        hashed.append(("id" if not value.startswith("name:") else "name", value))
        return keyed_hash(pepper, value)

    monkeypatch.setattr(identity, "keyed_hash", spy)
    work: dict[str, list[tuple[str, str]]] = {}
    for case, body in {
        "unknown id": {"id_number": ID_C, "name": "张秀英"},
        "wrong name": {"id_number": ID_A, "name": "张秀兰"},
        "both right": {"id_number": ID_A, "name": "张秀英"},
    }.items():
        hashed.clear()
        response = client.post(URL, json=body)
        assert response.status_code == (200 if case == "both right" else 404)
        work[case] = list(hashed)
        assert ("name", "name:" + body["name"]) in hashed, case  # the name given is hashed
        assert ("id", body["id_number"]) in hashed, case
    # (an unknown ID also hashes a stand-in for the name it would have been compared with)
    kinds = {case: Counter(kind for kind, _ in calls) for case, calls in work.items()}
    assert kinds["unknown id"] >= kinds["wrong name"] == kinds["both right"]


@pytest.mark.usefixtures("paid")
def test_lookups_log_no_id_number_and_no_name_at_any_level(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    requests = [
        {"id_number": ID_A, "name": "张秀英"},  # found
        {"id_number": ID_A, "name": "张秀兰"},  # wrong name
        {"id_number": ID_C, "name": "王德胜"},  # unknown ID
        {"id_number": ID_A[:-1] + "1", "name": "赵铁柱"},  # bad check digit
        {"id_number": "12345", "name": "钱多多"},  # malformed
    ]
    with caplog.at_level(logging.DEBUG):
        statuses = [client.post(URL, json=body).status_code for body in requests]
    assert statuses == [200, 404, 404, 422, 422]
    logged = "\n".join(
        f"{record.getMessage()} {record.args} {vars(record)}" for record in caplog.records
    )
    assert "subsidies/lookup" in logged  # the lookups did log (the access log at least)
    for body in requests:
        for secret in (body["id_number"], body["id_number"][:17], body["name"]):
            assert secret not in logged, secret
