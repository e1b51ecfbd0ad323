from functools import partial

import anyio
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.errors import RateLimited
from app.subsidies import service
from app.subsidies.models import Payout, PayoutVersion, Person
from app.subsidies.schemas import LookupRequest, LookupResponse, PayoutIn
from tests.factories import HUANGLIU
from tests.subsidies.factories import ID_A, ID_B, ID_C, make_payout


def test_new_records_are_created_and_replays_change_nothing(session: Session) -> None:
    first = make_payout()
    counts = service.store_payouts(session, [first, first])  # a replay inside the page
    assert (counts.created, counts.updated, counts.unchanged) == (1, 0, 1)
    again = service.store_payouts(session, [first])  # a replay on a later page
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert session.scalars(select(Payout)).one().version == 1
    assert session.scalars(select(PayoutVersion)).all() == []


def test_a_correction_replaces_the_line_and_keeps_the_old_version(session: Session) -> None:
    original = make_payout(amount_fen=14300)
    service.store_payouts(session, [original])
    corrected = original._replace(version=2, amount_fen=15300)
    counts = service.store_payouts(session, [corrected])
    assert (counts.created, counts.updated, counts.unchanged) == (0, 1, 0)
    session.expire_all()
    line = session.get(Payout, original.record_id)
    assert line is not None and (line.version, line.amount_fen) == (2, 15300)
    history = session.scalars(select(PayoutVersion)).one()
    assert (history.version, history.amount_fen) == (1, 14300)


def test_an_older_version_after_a_newer_one_is_kept_as_history_only(session: Session) -> None:
    original = make_payout(amount_fen=14300)
    newer = original._replace(version=3, status="reversed")
    service.store_payouts(session, [newer])
    counts = service.store_payouts(session, [original])
    assert counts.unchanged == 1
    session.expire_all()
    line = session.get(Payout, original.record_id)
    assert line is not None and (line.version, line.status) == (3, "reversed")
    assert [v.version for v in session.scalars(select(PayoutVersion))] == [1]


def test_versions_within_one_page_end_at_the_highest(session: Session) -> None:
    v1 = make_payout(amount_fen=100)
    v2 = v1._replace(version=2, amount_fen=200)
    counts = service.store_payouts(session, [v2, v1, v1._replace(version=3, amount_fen=300)])
    assert (counts.created, counts.updated, counts.unchanged) == (1, 1, 1)
    session.expire_all()
    line = session.get(Payout, v1.record_id)
    assert line is not None and line.amount_fen == 300
    assert sorted(v.version for v in session.scalars(select(PayoutVersion))) == [1, 2]


def test_person_is_stored_as_hashes_and_masks_and_follows_a_move(session: Session) -> None:
    service.store_payouts(session, [make_payout()])
    service.store_payouts(
        session, [make_payout(record_id="PC202611-1", period="2026-11", village_code=HUANGLIU)]
    )
    session.expire_all()
    person = session.scalars(select(Person)).one()
    assert person.name_masked == "张*英"
    assert person.id_masked == ID_A[:6] + "********" + ID_A[-4:]
    assert person.village_code == HUANGLIU
    stored = " ".join(str(v) for v in vars(person).values())
    assert ID_A not in stored and "张秀英" not in stored
    assert ID_B not in stored


@pytest.mark.parametrize("limit", [300_000, 1])  # 1: the cache is full from the first person
def test_a_run_cache_of_persons_still_lets_moves_through(session: Session, limit: int) -> None:
    known = service.KnownPersons(limit=limit)
    home = make_payout().village_code
    for month, village in (("2026-10", home), ("2026-11", HUANGLIU), ("2026-12", home)):
        line = make_payout(record_id=f"PC{month}-1", period=month, village_code=village)
        service.store_payouts(session, [line], known_persons=known)
        session.expire_all()
        person = session.scalars(select(Person)).one()
        assert person.village_code == village, month
    assert {p.person_id for p in session.scalars(select(Payout))} == {person.id}


def test_persons_are_numbered_as_first_met_and_keep_their_number(session: Session) -> None:
    """Across pages, runs and a run cache that is full (here, at two persons), each person
    keeps the one id they were given, in the order the feed first brought them."""
    people = [(ID_B, "欧阳明华"), (ID_A, "张秀英"), (ID_C, "李建国")]

    def page(month: str) -> list[PayoutIn]:
        return [
            make_payout(record_id=f"PC{month}-{n}", period=month, id_number=number, name=name)
            for n, (number, name) in enumerate(people)
        ]

    first_run = service.KnownPersons(limit=2)
    service.store_payouts(session, page("2026-09"), known_persons=first_run)
    service.store_payouts(session, page("2026-10"), known_persons=first_run)
    service.store_payouts(session, page("2026-11"), known_persons=service.KnownPersons())
    session.expire_all()
    ids = {p.id_hash: p.id for p in session.scalars(select(Person))}
    assert len(ids) == 3
    first_met = [make_payout(id_number=number, name=name).id_hash for number, name in people]
    assert sorted(ids.values()) == [ids[h] for h in first_met]
    lines = session.scalars(select(Payout)).all()
    assert len(lines) == 9
    assert all(p.person_id == ids[first_met[int(p.record_id[-1])]] for p in lines)


def test_lookups_are_counted_per_client_and_refusals_say_why(session: Session) -> None:
    settings = get_settings()
    service.store_payouts(session, [make_payout()])
    connection = session.connection()

    def look(client: str, id_number: str = ID_A, name: str = "张秀英") -> LookupResponse:
        body = LookupRequest(id_number=id_number, name=name)
        anyio.run(partial(service.count_lookup, client, settings=settings))  # as the route does
        return service.lookup(connection, request=body, settings=settings)

    with pytest.raises(service.IdNumberInvalid) as invalid:
        look("10.0.0.9", id_number=ID_A[:-1] + "1")
    assert str(invalid.value) == "身份证号校验位不对，请检查是否输错"
    with pytest.raises(service.PersonNotFound) as not_found:
        look("10.0.0.9", name="张秀兰")
    assert str(not_found.value) == "没有查到与该身份证号和姓名相符的补贴记录，请核对后再试。"
    for _ in range(8):  # 10 a minute, two spent above
        look("10.0.0.9")
    with pytest.raises(RateLimited):
        look("10.0.0.9")
    assert look("10.0.0.8").person.name_masked == "张*英"
