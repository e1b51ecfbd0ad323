"""ID numbers (公民身份号码, GB 11643) and names: checking, keyed hashing and masking.

An ID number or a full name is never stored: only its HMAC under LIANYUN_ID_PEPPER and its
masked form. Hashes are HMAC-SHA256 cut to its first 16 bytes (128 bits: a collision among a
county's persons is beyond reach), binary, so that equal inputs meet in a small index.
"""

import hmac
import unicodedata
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from stdnum.cn import ric

HASH_BYTES = 16
# A county's persons: how many a sync run remembers, both where it checks records
# (app.sync.records) and where it stores them (app.subsidies.service.KnownPersons). Each month of
# the feed brings them in the same order, so the first this many met serve every month.
PERSONS_PER_RUN = 300_000


class InvalidIdNumber(ValueError):
    pass


class Identity(NamedTuple):  # made once per feed record: a tuple is made fastest
    id_hash: bytes
    id_masked: str
    birth_on: date
    sex: str  # "M" or "F"


def normalize_id(raw: str) -> str:
    """Spaces dropped, full-width digits and letters made plain (NFKC), x made X."""
    return "".join(unicodedata.normalize("NFKC", raw).split()).upper()


def check_id(raw: str) -> str:
    """The normalised ID number: 18 characters, a valid birth date and check character."""
    number = normalize_id(raw)
    if len(number) != 18 or not (number.isascii() and number[:17].isdigit()):
        raise InvalidIdNumber("身份证号应为 18 位，前 17 位是数字，最后一位是数字或 X")
    if ric.calc_check_digit(number) != number[17]:
        raise InvalidIdNumber("身份证号校验位不对，请检查是否输错")
    birth_on(number)  # a valid date
    return number


def checked_identity(pepper: bytes, raw: str) -> Identity:
    """What is kept of an ID number, once it is checked (InvalidIdNumber if not)."""
    number = check_id(raw)
    return known_identity(number, keyed_hash(pepper, number))


def known_identity(number: str, id_hash: bytes) -> Identity:
    """The same for a normalised number checked before, given its hash: no check, no hashing."""
    return Identity(
        id_hash=id_hash,
        id_masked=mask_id(number),
        birth_on=birth_on(number),
        sex="M" if int(number[16]) % 2 else "F",
    )


def birth_on(number: str) -> date:
    """The birth date in an ID number, without stdnum's slower get_birth_date (it runs on every
    feed record; docs/performance.md#birth-dates)."""
    return _date_of(number[6:14])


@lru_cache(maxsize=65_536)  # a century of birth days, each one date object
def _date_of(digits: str) -> date:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise InvalidIdNumber("身份证号中的出生日期不对") from None
    if born.year < 1880:
        raise InvalidIdNumber("身份证号中的出生日期不对")
    return born


def keyed_hash(pepper: bytes, value: str) -> bytes:
    mac = _keyed(pepper).copy()
    mac.update(value.encode())
    return mac.digest()[:HASH_BYTES]


@lru_cache(maxsize=4)
def _keyed(pepper: bytes) -> hmac.HMAC:
    """HMAC-SHA256 with the key already taken in: a copy of it spares setting the key up again
    for every value, as `hmac.digest` does (a million times a sync)."""
    return hmac.new(pepper, digestmod="sha256")


def normalize_name(name: str) -> str:
    return "".join(name.split())


def name_hash(pepper: bytes, name: str) -> bytes:
    return keyed_hash(pepper, "name:" + normalize_name(name))


def mask_name(name: str) -> str:
    """张* (2), 张*明 (3), 欧阳*华 / 欧**华 (4+: first and last kept); never fewer than one *."""
    name = normalize_name(name)
    if len(name) <= 1:
        return name + "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(id_number: str) -> str:
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]
