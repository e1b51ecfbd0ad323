"""Records the platform should never send, but might: each is quarantined on its own, and what
quarantine keeps holds no ID number or name in clear."""

import hmac
import json
from typing import Any

import pytest

from app.subsidies import identity
from app.sync.records import RecordChecker, Rejection, payload_to_payout
from tests.factories import SANGUANZHAI
from tests.subsidies.factories import ID_A, ID_C
from tests.sync.test_service import BAD_CHECKSUM, record

CHECKER = RecordChecker(pepper=b"test-pepper", villages={SANGUANZHAI})


def rejected(raw: Any) -> Rejection:
    result = CHECKER.check(raw)
    assert isinstance(result, Rejection), result
    json.dumps(result.payload)  # storable as JSON
    return result


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"name": "张\ud800"}, "text_invalid"),
        ({"item_name": "低保\udc80"}, "text_invalid"),
        ({"department": "民政局\x00"}, "text_invalid"),
        ({"version": 3_000_000_000}, "version_invalid"),
        ({"version": 2**63}, "version_invalid"),
        ({"period": "٢٠٢٦-01"}, "period_invalid"),  # Arabic-Indic digits
        ({"amount": "１４３.００"}, "amount_invalid"),  # full-width digits
        ({"village_code": "５１１９２３１２０２０１"}, "village_invalid"),
        ({"paid_at": "2026-W01-1"}, "date_invalid"),  # an ISO week date, 10 characters too
        ({"record_id": ["PC", 1]}, "field_type"),
    ],
)
def test_a_record_no_database_could_store_is_quarantined(
    overrides: dict[str, Any], reason: str
) -> None:
    assert rejected(record(1, **overrides)).reason == reason


def test_a_record_that_breaks_a_check_unforeseen_is_quarantined_not_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(_pepper: bytes, _raw: str) -> identity.Identity:
        raise RuntimeError("a case no one foresaw")

    monkeypatch.setattr(identity, "checked_identity", broken)
    checker = RecordChecker(pepper=b"test-pepper", villages={SANGUANZHAI})
    result = checker.check(record(1))
    assert isinstance(result, Rejection)
    assert result.reason == "record_invalid"
    assert ID_A not in json.dumps(result.payload, ensure_ascii=False)


def test_quarantine_keeps_no_id_number_wherever_the_platform_put_it() -> None:
    shifted = record(
        1,
        amount=ID_A,  # columns shifted by one
        recipient={"id_number": ID_A, "name": "张三明"},  # an extra nested object
        sfzh=ID_A,
        item_name="x" * 10_000,
    )
    result = rejected(shifted)
    kept = json.dumps({"payload": result.payload, "message": result.message}, ensure_ascii=False)
    assert ID_A not in kept and "张三明" not in kept and "张秀英" not in kept
    assert "recipient" not in result.payload and "sfzh" not in result.payload
    assert result.payload["amount"] == ID_A[:6] + "********" + ID_A[-4:]
    assert len(result.payload["item_name"]) <= 64


def test_a_replayable_rejection_kept_with_full_length_hashes_replays_into_the_same_person() -> None:
    """Quarantine payloads written before hashes were cut to 16 bytes hold 64 hex digits."""
    checker = RecordChecker(pepper=b"test-pepper", villages=set())  # the village is unknown
    rejection = checker.check(record(1))
    assert isinstance(rejection, Rejection) and rejection.replayable
    old_payload = {
        **rejection.payload,
        "id_hash": hmac.digest(b"test-pepper", ID_A.encode(), "sha256").hex(),
        "name_hash": hmac.digest(b"test-pepper", "name:张秀英".encode(), "sha256").hex(),
    }
    for payload in (rejection.payload, old_payload):
        payout = payload_to_payout(payload)
        assert payout.id_hash == identity.keyed_hash(b"test-pepper", ID_A)
        assert payout.name_hash == identity.name_hash(b"test-pepper", "张秀英")
        assert payout.paid_on.isoformat() == "2026-10-10"


def test_a_person_met_again_is_checked_as_if_met_first(monkeypatch: pytest.MonkeyPatch) -> None:
    # The checker remembers the persons of a run. Whatever it remembers, and however a number
    # or name is written, each record must come out as a checker meeting it first makes it: a
    # renamed person gets their new name, a bad number stays bad.
    monkeypatch.setattr(identity, "PERSONS_PER_RUN", 5)  # and it is full, mid-run
    persons = [
        (ID_A, "张秀英"),
        (ID_A, "张秀兰"),  # renamed
        (ID_A.lower(), "张秀英"),
        (f" {ID_A[:6]} {ID_A[6:]} ", "张 秀英"),
        (ID_C, "李四"),
        (ID_C + "李", "四"),  # the same characters, split otherwise
        (ID_C, "李四\x00"),
        (BAD_CHECKSUM, "李四"),
        (ID_C[:-1] + "X", "李四"),
    ]
    checker = RecordChecker(pepper=b"test-pepper", villages={SANGUANZHAI})
    for n, (id_number, name) in enumerate(persons * 3):
        raw = record(n, id_number=id_number, name=name)
        first = RecordChecker(pepper=b"test-pepper", villages={SANGUANZHAI}).check(dict(raw))
        assert checker.check(raw) == first


def test_quarantine_keeps_the_person_as_hashes_and_masks_only() -> None:
    result = rejected(record(1, amount="-5.00"))  # 张秀英, ID_A
    assert result.reason == "amount_invalid"
    assert result.payload == {
        "record_id": "PC202610-0000001",
        "version": 1,
        "village_code": SANGUANZHAI,
        "category_code": "05",
        "item_name": "城乡居民基础养老金",
        "amount": "-5.00",
        "period": "2026-10",
        "paid_at": "2026-10-10",
        "status": "paid",
        "department": "县社会保险事业管理局",
        "id_masked": ID_A[:6] + "********" + ID_A[-4:],
        "id_hash": identity.keyed_hash(b"test-pepper", ID_A).hex(),
        "name_masked": "张*英",
        "name_hash": identity.name_hash(b"test-pepper", "张秀英").hex(),
    }


@pytest.mark.parametrize(
    ("id_number", "masked"),
    [
        ("12345", "*****"),
        ("5119231945", "**********"),  # 10 characters: the six and four kept would be all
        ("51192319450", "511923*9450"),
    ],
)
def test_a_number_too_short_to_mask_is_kept_as_stars(id_number: str, masked: str) -> None:
    payload = rejected(record(1, id_number=id_number)).payload
    assert payload["id_masked"] == masked
    assert payload["id_hash"] == identity.keyed_hash(b"test-pepper", id_number).hex()


def test_quarantine_keeps_the_type_of_a_value_it_cannot_keep() -> None:
    not_text = rejected(record(1, id_number=51192319450301028, record_id=["PC", 1]))
    assert not_text.reason == "field_type"
    assert not_text.payload["record_id"] == "<list>"
    assert "id_masked" not in not_text.payload and "id_hash" not in not_text.payload
    assert not_text.payload["name_masked"] == "张*英"
    unstorable = rejected(record(1, department="民政局\x00"))
    assert unstorable.payload["department"] == "（含无法保存的字符）"


def test_quarantine_keeps_a_version_up_to_the_largest_one_stored() -> None:
    largest = 2**31 - 1
    assert rejected(record(1, version=largest, amount="x")).payload["version"] == largest
    assert rejected(record(1, version=largest + 1)).payload["version"] == "<int>"
