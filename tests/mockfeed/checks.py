"""Independent checks of FEED.md records, written from the spec rather than from the mock."""

import re
from datetime import date, timedelta
from decimal import Decimal

from app.mockfeed.catalog import CATEGORIES, ITEM_BY_NAME, Frequency
from app.regions import service as regions_service
from app.regions.models import RegionLevel

FIELDS = {
    "record_id", "version", "id_number", "name", "village_code", "category_code", "item_name",
    "amount", "period", "paid_at", "status", "department",
}  # fmt: skip
VILLAGES = {r.code for r in regions_service.read_csv() if r.level is RegionLevel.village}


def id_number_is_valid(number: str) -> bool:
    """GB 11643: ISO 7064 MOD 11-2, weights 2**(17-i) mod 11, check (12 - sum) mod 11."""
    if not re.fullmatch(r"[0-9]{17}[0-9Xx]", number):
        return False
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(number[:17]))
    check = (12 - total % 11) % 11
    return number[17].upper() == ("X" if check == 10 else str(check))


def birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def period_start(period: str) -> date:
    return date(int(period[:4]), int(period[5:7]), 1)


def problem(record: dict[str, object]) -> str | None:
    """Why a record breaks FEED.md, or None for a good one."""
    if set(record) != FIELDS:
        return "missing_field"
    number, amount = str(record["id_number"]), str(record["amount"])
    if not id_number_is_valid(number):
        return "id_checksum"
    if record["category_code"] not in CATEGORIES:
        return "unknown_category"
    if record["village_code"] not in VILLAGES:
        return "unknown_village"
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", amount):
        return "amount_non_numeric"
    value = Decimal(amount)
    if value < 0:
        return "amount_negative"
    if value == 0:
        return "amount_zero"
    if not re.fullmatch(r"[0-9]+\.[0-9]{2}", amount):
        return "amount_format"
    period = str(record["period"])
    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", period):
        return "bad_period"
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", str(record["paid_at"])):
            raise ValueError
        date.fromisoformat(str(record["paid_at"]))
    except ValueError:
        return "bad_paid_at"
    if not isinstance(record["version"], int) or record["version"] < 1:
        return "bad_version"
    if record["status"] not in {"paid", "reversed"}:
        return "bad_status"
    item = ITEM_BY_NAME.get(str(record["item_name"]))
    if item is None or item.category_code != record["category_code"]:
        return "unknown_item"
    return None


def check_good_record(record: dict[str, object]) -> None:
    """Everything a clean record of the mock promises beyond FEED.md's shape."""
    assert problem(record) is None, (problem(record), record)
    item = ITEM_BY_NAME[str(record["item_name"])]
    period, paid_at = str(record["period"]), date.fromisoformat(str(record["paid_at"]))
    first = period_start(period)
    assert re.fullmatch(rf"PC{period[:4]}{period[5:]}-[0-9]{{8}}", str(record["record_id"]))
    assert record["department"] == item.department
    assert first <= paid_at <= first + timedelta(days=31 + 15)
    cents = int(Decimal(str(record["amount"])) * 100)
    assert item.min_cents <= cents <= item.max_cents, record
    if item.fixed_cents:
        assert cents in item.fixed_cents, record
    if item.unit_cents:
        assert cents % item.unit_cents == 0, record
    if item.per_mu_schedule:  # one installment of a whole number of 亩
        rates = [rate for _, rate in item.per_mu_schedule]
        most = item.max_cents // max(rates)
        assert any(cents % rate == 0 and 1 <= cents // rate <= most for rate in rates), record
    if item.parts_percent:  # one part of a whole of 1000元 steps within the item's range
        wholes = [cents * 100 // share for share in item.parts_percent if cents * 100 % share == 0]
        assert any(whole % 100_000 == 0 for whole in wholes), record
    if item.frequency is Frequency.quarterly:
        assert first.month in (3, 6, 9, 12), record
    if item.frequency is Frequency.per_term:
        spring, autumn = item.period_months  # two terms, half a year apart
        assert autumn - spring == 6 and first.month in item.period_months, record
    if item.period_months:
        assert first.month in item.period_months, record
    else:
        assert item.frequency in (Frequency.monthly, Frequency.one_off, Frequency.installments)
    born = birth_date(str(record["id_number"]))
    if item.min_age is not None:
        assert age_on(born, first) >= item.min_age, record
    if item.max_age is not None:
        assert age_on(born, paid_at) <= item.max_age, record
        assert age_on(born, first) <= item.max_age, record
