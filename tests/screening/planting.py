"""Planting payout lines and screening lists for the rules' tests: lines go in through the
sync's own store (app.subsidies.service.store_payouts), list people as the same keyed hash."""

from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.screening.models import Deceased, ItemStandard, PublicEmployee, RosterEntry
from app.subsidies import service
from app.subsidies.models import Payout
from tests.factories import SANGUANZHAI
from tests.screening import lists_data
from tests.screening.lists_data import id_hash
from tests.subsidies.factories import make_payout


def id_number(born: str, sequence: int, *, area: str = "511923") -> str:
    """A valid ID number (GB 11643) of someone born on `born` ("19450301")."""
    return lists_data.id_number(sequence, born, area)


def plant(
    session: Session,
    record_id: str,
    number: str,
    *,
    period: str = "2026-10",
    item_name: str = "城乡居民基础养老金",
    category_code: str = "05",
    amount_fen: int = 14300,
    village_code: str = SANGUANZHAI,
    status: str = "paid",
    version: int = 1,
) -> None:
    service.store_payouts(
        session,
        [
            make_payout(
                record_id=record_id,
                version=version,
                id_number=number,
                period=period,
                item_name=item_name,
                category_code=category_code,
                amount_fen=amount_fen,
                village_code=village_code,
                status=status,
            )
        ],
    )


def plant_month_total(
    session: Session,
    village: str,
    period: str,
    total: int,
    n: int = 2,
    *,
    version: int = 1,
    status: str = "paid",
) -> list[str]:
    """A village's 高龄津贴 total of a month, as `n` equal lines (their record_ids): of the same
    `n` persons in every village and month."""
    record_ids = []
    for i in range(n):
        record_ids.append(f"J-{village}-{period}-{i}")
        plant(
            session,
            record_ids[-1],
            id_number("19500101", 100 + i),
            village_code=village,
            period=period,
            item_name="高龄津贴",
            amount_fen=total // n,
            version=version,
            status=status,
        )
    return record_ids


def set_synced_at(session: Session, record_ids: list[str], at: datetime) -> None:
    """When lines count as stored (on PostgreSQL every line of a test's transaction has the
    transaction's time)."""
    session.execute(update(Payout).where(Payout.record_id.in_(record_ids)).values(synced_at=at))


def add_deceased(session: Session, number: str, died_on: date) -> None:
    session.add(Deceased(id_hash=id_hash(number), died_on=died_on))
    session.flush()


def add_public_employee(session: Session, number: str) -> None:
    session.add(PublicEmployee(id_hash=id_hash(number)))
    session.flush()


def add_roster(
    session: Session,
    number: str,
    cadre_number: str,
    *,
    relation: str,
    post: str = "村党支部书记",
    village_code: str = SANGUANZHAI,
) -> None:
    session.add(
        RosterEntry(
            id_hash=id_hash(number),
            cadre_hash=id_hash(cadre_number),
            village_code=village_code,
            post=post,
            relation=relation,
        )
    )
    session.flush()


def set_standard(session: Session, item_name: str, max_fen: int) -> None:
    session.merge(ItemStandard(item_name=item_name, max_fen=max_fen, basis="测试标准"))
    session.flush()
