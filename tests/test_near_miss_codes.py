"""Codes the app hands out find exactly their own object: a code one slip away from the real
one (a character changed, dropped, added or swapped) finds nothing, while the forms the app
promises to read (spaces, capitals where documented) still find it."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import ratelimit
from app.config import settings_dependency
from app.onboarding.service import CODE_ALPHABET
from app.tips.models import TipMessage
from tests.factories import auth_headers, make_staff
from tests.onboarding.factories import ANDROID_CHROME, link_settings, make_poster
from tests.tips.test_router import TIPS, submit

DIGITS = "0123456789"


def near_misses(code: str, alphabet: str) -> Iterator[str]:
    """Every code one slip away from `code`: each position changed to each other character,
    each character dropped, a character added at each end and in the middle, each pair of
    neighbours swapped (when they differ)."""
    seen = {code}
    candidates = [
        *(code[:i] + other + code[i + 1 :] for i in range(len(code)) for other in alphabet),
        *(code[:i] + code[i + 1 :] for i in range(len(code))),
        *(code[:i] + alphabet[0] + code[i:] for i in (0, len(code) // 2, len(code))),
        *(code[:i] + code[i + 1] + code[i] + code[i + 2 :] for i in range(len(code) - 1)),
    ]
    for candidate in candidates:
        if candidate not in seen:
            seen.add(candidate)
            yield candidate


def _receipt(client: TestClient, code: str) -> int:
    ratelimit.reset()  # guessing is rate-limited; here every guess must be answered
    return client.post(f"{TIPS}/receipt", json={"receipt_code": code}).status_code


def test_a_receipt_code_one_slip_away_finds_no_tip(client: TestClient, session: Session) -> None:
    code = submit(client)["receipt_code"].replace(" ", "")
    submit(client)  # another tip: a near miss finds neither
    # Each guess costs an argon2 hash: one other digit per position (enough to catch a hash
    # of part of the code), and every slip that keeps the code's own digits.
    changed = [code[:i] + str((int(code[i]) + 1) % 10) + code[i + 1 :] for i in range(16)]
    reordered = [c for c in near_misses(code, DIGITS) if sorted(c) == sorted(code)]
    shortened_or_lengthened = [c for c in near_misses(code, DIGITS) if len(c) != len(code)]
    full_width = code.translate(str.maketrans(DIGITS, "０１２３４５６７８９"))
    for slip in [*changed, *reordered, *shortened_or_lengthened, full_width]:
        assert _receipt(client, slip) in (404, 422), slip
    for form in (code, f" {code} ", f"{code[:4]} {code[4:8]} {code[8:12]} {code[12:]}"):
        assert _receipt(client, form) == 200, form
    ratelimit.reset()
    message = client.post(
        f"{TIPS}/receipt/messages", json={"receipt_code": changed[-1], "body": "补充"}
    )
    assert message.status_code == 404
    assert session.scalar(select(func.count()).select_from(TipMessage)) == 0


def test_a_poster_code_one_slip_away_finds_no_poster(
    app: FastAPI, client: TestClient, session: Session
) -> None:
    settings = link_settings()
    app.dependency_overrides[settings_dependency] = lambda: settings
    admin = make_staff(session)
    poster = make_poster(session, admin, settings=settings)
    other = make_poster(session, admin, channel="村委会门口", settings=settings)
    headers = {"User-Agent": ANDROID_CHROME}
    for slip in near_misses(poster.code, CODE_ALPHABET):
        if slip == other.code:
            continue
        scan = client.get(f"/i/{slip}", headers=headers)
        assert scan.status_code == 404 and "找不到这张海报" in scan.text, slip
    for slip in list(near_misses(poster.code, CODE_ALPHABET))[:: len(CODE_ALPHABET)]:
        if len(slip) == len(poster.code) and slip != other.code:
            read = client.get(f"/api/v1/admin/posters/{slip}", headers=auth_headers(admin))
            assert read.status_code == 404, slip
    for form in (poster.code, poster.code.upper(), f"%20{poster.code}%20"):
        assert client.get(f"/i/{form}", headers=headers).status_code == 200
    stats = client.get(
        f"/api/v1/admin/posters/{poster.code}/stats", headers=auth_headers(admin)
    ).json()
    assert stats["totals"]["total"] == 3  # only the three true scans counted


@pytest.mark.parametrize("alphabet", [DIGITS, CODE_ALPHABET])
def test_near_misses_are_one_slip_away_and_never_the_code(alphabet: str) -> None:
    code = alphabet[1:9]
    misses = list(near_misses(code, alphabet))
    assert code not in misses and len(misses) == len(set(misses))
    assert code[1:] in misses and alphabet[0] + code in misses
    assert code[1] + code[0] + code[2:] in misses
