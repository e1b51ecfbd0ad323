from datetime import date

from app.config import get_settings
from app.subsidies import identity
from app.subsidies.schemas import PayoutIn
from tests.factories import SANGUANZHAI

ID_A = "51192319450301028X"
ID_B = "511923198806150034"
ID_C = "511923196001010019"


def make_payout(
    *,
    record_id: str = "PC202610-0000001",
    version: int = 1,
    id_number: str = ID_A,
    name: str = "张秀英",
    village_code: str = SANGUANZHAI,
    category_code: str = "05",
    item_name: str = "城乡居民基础养老金",
    amount_fen: int = 14300,
    period: str = "2026-10",
    status: str = "paid",
    department: str = "县社会保险事业管理局",
) -> PayoutIn:
    pepper = get_settings().secret("id_pepper").encode()
    person = identity.checked_identity(pepper, id_number)
    return PayoutIn(
        record_id=record_id,
        version=version,
        id_hash=person.id_hash,
        id_masked=person.id_masked,
        name_hash=identity.name_hash(pepper, name),
        name_masked=identity.mask_name(name),
        birth_on=person.birth_on,
        sex=person.sex,
        village_code=village_code,
        category_code=category_code,
        item_name=item_name,
        amount_fen=amount_fen,
        period=period,
        paid_on=date(int(period[:4]), int(period[5:]), 10),
        status=status,
        department=department,
    )
