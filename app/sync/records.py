"""Checking the feed's records one by one (FEED.md "A record").

A good record becomes a `PayoutIn` (the person reduced to hashes and masks); a bad one a
`Rejection` whose payload keeps no ID number or full name in clear. A record that is sound but
names a village or category we do not know is *replayable*: once reference data is fixed, it
can be stored from its payload alone.
"""

import re
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Any

from app.subsidies import identity
from app.subsidies.categories import CATEGORIES
from app.subsidies.schemas import PayoutIn

REQUIRED = (
    "record_id",
    "version",
    "id_number",
    "name",
    "village_code",
    "category_code",
    "item_name",
    "amount",
    "period",
    "paid_at",
    "status",
    "department",
)
_REQUIRED_VALUES = itemgetter(*REQUIRED)
_SHORT_TEXT = ("record_id", "name", "item_name", "department")  # at most _MAX_TEXT characters
_SHORT_VALUES = itemgetter(*_SHORT_TEXT)
STATUSES = {"paid", "reversed"}
_HASHES = ("id_hash", "name_hash")
_DATES = ("birth_on", "paid_on")
# ASCII digits only: Python's \d also matches Arabic-Indic and other digits.
_AMOUNT = re.compile(r"^[0-9]{1,10}\.[0-9]{2}$")
_PERIOD = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_VILLAGE = re.compile(r"^[0-9]{12}$")
# Anything shaped like an ID number, wherever the platform put it (columns can shift).
_ID_LIKE = re.compile(r"[0-9０-９]{17}[0-9０-９Xxｘ]|[0-9]{15}")
_MAX_TEXT = 64
_MAX_VERSION = 2**31 - 1
# Bounded so that a run's memory does not grow with the feed.
_CACHE_SIZE = 4096  # distinct villages, items, dates... of a page


@dataclass(frozen=True)
class Rejection:
    record_id: str | None
    version: int | None
    reason: str
    message: str
    payload: dict[str, Any]
    replayable: bool = False


def payload_to_payout(payload: dict[str, Any]) -> PayoutIn:
    """The inverse of a replayable rejection's payload. A hash kept before hashes were cut to
    16 bytes (64 hex digits) begins with the 16 bytes it has now."""
    values = dict(payload)
    for field in _HASHES:
        values[field] = bytes.fromhex(values[field])[: identity.HASH_BYTES]
    for field in _DATES:
        values[field] = date.fromisoformat(values[field])
    return PayoutIn(**values)


def version_conflict(record: PayoutIn) -> Rejection:
    """A record whose record_id and version were received before with other content."""
    return Rejection(
        record.record_id,
        record.version,
        "version_conflict",
        f"同一记录的第 {record.version} 版再次送来，内容却与先前收到的不同；"
        "已保留先前的内容，请向一卡通平台核实哪一份是真的。",
        _payout_payload(record),
    )


def _payout_payload(record: PayoutIn) -> dict[str, Any]:
    values = record._asdict()
    for field in _HASHES:
        values[field] = values[field].hex()
    for field in _DATES:
        values[field] = values[field].isoformat()
    return values


class RecordChecker:
    """Checks records against the structure of FEED.md and our reference data. Keeps a bounded
    in-memory cache of people already seen in this run (never written anywhere)."""

    def __init__(self, *, pepper: bytes, villages: set[str]) -> None:
        self.pepper = pepper
        self.villages = villages
        self._persons: dict[bytes, bytes] = {}
        self._shared: dict[object, object] = {}

    def __reduce__(self) -> tuple[Any, ...]:
        """A copy with an empty cache, for the sync's child process."""
        return (_new_checker, (self.pepper, self.villages))

    def _person(self, id_number: str, name: str) -> tuple[identity.Identity, bytes, str]:
        """The person of a record, checked and hashed once a run: every month of the feed
        brings most of the county's persons again, in the same order, so only a cache of them
        all helps. It keeps their two hashes (32 bytes) under the number and the name, about
        200 bytes a person, for the first `identity.PERSONS_PER_RUN` persons met."""
        # Under the number as checked, so a key is never long, however the feed wrote it. No
        # checked field holds a NUL (_shape_problem), so the key is unambiguous.
        number = identity.normalize_id(id_number)
        key = f"{number}\x00{name}".encode()
        hashes = self._persons.get(key)
        if hashes is None:
            person = identity.checked_identity(self.pepper, number)
            name_hash = identity.name_hash(self.pepper, name)
            if len(self._persons) < identity.PERSONS_PER_RUN:
                self._persons[key] = person.id_hash + name_hash
        else:
            id_hash, name_hash = hashes[: identity.HASH_BYTES], hashes[identity.HASH_BYTES :]
            person = identity.known_identity(number, id_hash)
        return person, name_hash, identity.mask_name(name)

    def _one(self, value: Any) -> Any:
        """One object for equal values of a page's few distinct ones (villages, items, dates):
        a page then pickles each of them once, and the parent keeps one copy."""
        shared = self._shared
        if len(shared) > _CACHE_SIZE:
            shared.clear()
        return shared.setdefault(value, value)

    def _sanitized(self, raw: dict[str, Any]) -> dict[str, Any]:
        """What a quarantined record keeps: the FEED.md fields but the person's, short and with
        anything shaped like an ID number masked; the person as hashes and masks only."""
        payload: dict[str, Any] = {}
        for field in REQUIRED:
            if field in ("id_number", "name") or field not in raw:
                continue
            payload[field] = _harmless(raw[field])
        id_number, name = raw.get("id_number"), raw.get("name")
        if isinstance(id_number, str) and storable_text(id_number):
            number = identity.normalize_id(id_number)[:_MAX_TEXT]
            # mask_id keeps the first six and last four: of ten characters or fewer, all of them
            payload["id_masked"] = (
                identity.mask_id(number) if len(number) > 10 else "*" * len(number)
            )
            payload["id_hash"] = identity.keyed_hash(self.pepper, number).hex()
        if isinstance(name, str) and storable_text(name):
            payload["name_masked"] = identity.mask_name(name[:_MAX_TEXT])
            payload["name_hash"] = identity.name_hash(self.pepper, name).hex()
        return payload

    def check(self, raw: Any) -> PayoutIn | Rejection:
        """Never raises: a record that breaks a check in a way not foreseen is quarantined too."""
        try:
            return self._check(raw)
        except Exception:
            try:
                payload = self._sanitized(raw) if isinstance(raw, dict) else {}
            except Exception:
                payload = {}
            return Rejection(None, None, "record_invalid", "记录无法检查", payload)

    def _reject(self, raw: dict[str, Any], reason: str, message: str) -> Rejection:
        record_id = raw.get("record_id")
        version = raw.get("version")
        return Rejection(
            _harmless(record_id) if isinstance(record_id, str) else None,
            version if type(version) is int and 1 <= version <= _MAX_VERSION else None,
            reason,
            message,
            self._sanitized(raw),
        )

    def _check(self, raw: Any) -> PayoutIn | Rejection:
        if not isinstance(raw, dict):
            return Rejection(
                None, None, "not_an_object", "记录不是 JSON 对象", {"type": type(raw).__name__}
            )
        problem = _shape_problem(raw)
        if problem is not None:
            return self._reject(raw, *problem)
        (
            record_id,
            version,
            id_number,
            name,
            village_code,
            category_code,
            item_name,
            amount,
            period,
            paid_at,
            status,
            department,
        ) = _REQUIRED_VALUES(raw)
        try:
            person, name_hash, name_masked = self._person(id_number.strip(), name.strip())
        except identity.InvalidIdNumber as exc:
            return self._reject(raw, "id_number_invalid", str(exc))
        if not _AMOUNT.match(amount):
            return self._reject(raw, "amount_invalid", "金额格式不对：应为元，两位小数，如 143.00")
        amount_fen = int(amount.replace(".", ""))
        if amount_fen <= 0:
            return self._reject(raw, "amount_invalid", "金额应大于 0")
        if not _PERIOD.match(period):
            return self._reject(raw, "period_invalid", "period 应为 YYYY-MM")
        if not _DATE.match(paid_at):
            return self._reject(raw, "date_invalid", "paid_at 应为 YYYY-MM-DD")
        try:
            paid_on = self._one(date.fromisoformat(paid_at))
        except ValueError:
            return self._reject(raw, "date_invalid", "paid_at 应为 YYYY-MM-DD")
        one = self._one
        if status not in STATUSES:
            return self._reject(raw, "status_invalid", "status 应为 paid 或 reversed")
        if not _VILLAGE.match(village_code):
            return self._reject(raw, "village_invalid", "village_code 应为 12 位数字")
        record = PayoutIn(
            record_id,
            version,
            person.id_hash,
            person.id_masked,
            name_hash,
            name_masked,
            person.birth_on,
            person.sex,
            one(village_code),
            one(category_code),
            one(item_name),
            amount_fen,
            one(period),
            paid_on,
            one(status),
            one(department),
        )
        return self.check_references(record)

    def check_references(self, record: PayoutIn) -> PayoutIn | Rejection:
        if record.category_code not in CATEGORIES:
            reason, message = "unknown_category", f"未知的补贴类别 {record.category_code[:8]}"
        elif record.village_code not in self.villages:
            reason, message = "unknown_village", f"未知的村（社区）编码 {record.village_code}"
        else:
            return record
        return Rejection(
            record.record_id,
            record.version,
            reason,
            message,
            _payout_payload(record),
            replayable=True,
        )


def _shape_problem(raw: dict[str, Any]) -> tuple[str, str] | None:
    """Why the record's fields are not all there, text, storable and short enough, or None. The
    common case, a sound record, is settled by a few operations on all fields at once."""
    try:
        values = _REQUIRED_VALUES(raw)
        texts = values[:1] + values[2:]
        joined = "".join(texts)  # a TypeError when one is not text
        version = values[1]
        if (
            "" not in texts
            and type(version) is int
            and 1 <= version <= _MAX_VERSION
            and "\x00" not in joined
            and joined.encode("utf-8")  # a UnicodeEncodeError on a lone surrogate
            and max(map(len, _SHORT_VALUES(raw))) <= _MAX_TEXT
        ):
            return None
    except (KeyError, TypeError, UnicodeEncodeError):
        pass
    return _field_problem(raw)


def _field_problem(raw: dict[str, Any]) -> tuple[str, str]:
    """Which field is wrong, and how, checked one by one in FEED.md's order."""
    for field in REQUIRED:
        value = raw.get(field)
        if value is None or value == "":
            return "missing_field", f"缺少字段 {field}"
        if type(value) is not str and field != "version":
            return "field_type", f"字段 {field} 应为字符串"
        if field != "version" and not storable_text(value):
            return "text_invalid", f"字段 {field} 含有无法保存的字符"
    version = raw["version"]
    if type(version) is not int or not 1 <= version <= _MAX_VERSION:
        return "version_invalid", "version 应为 1 到 2147483647 之间的整数"
    if any(len(raw[field]) > _MAX_TEXT for field in _SHORT_TEXT):
        return "field_too_long", "字段过长"
    return "record_invalid", "记录无法检查"


def storable_text(text: str) -> bool:
    """No NUL and no lone surrogate: text that both databases can store. Deliberately looser
    than the request rule (`app.schemas.single_line`/`multiline`, which refuse every control
    character) and the poster's (`app.onboarding.schemas`, printable only): the feed's text is
    kept as the platform sent it, and only what cannot be stored is refused."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _harmless(value: Any) -> Any:
    """A value fit to keep in quarantine: short text with ID-shaped digits masked, a bounded
    integer, or else only the name of its type."""
    if isinstance(value, str):
        text = value[:_MAX_TEXT] if storable_text(value) else "（含无法保存的字符）"
        return _ID_LIKE.sub(lambda m: identity.mask_id(m.group()), text)
    if type(value) is int and abs(value) <= _MAX_VERSION:
        return value
    return f"<{type(value).__name__}>"


def _new_checker(pepper: bytes, villages: set[str]) -> RecordChecker:
    return RecordChecker(pepper=pepper, villages=villages)
