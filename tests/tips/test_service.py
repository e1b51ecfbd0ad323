import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings, get_settings
from app.db.engines import session_scope
from app.errors import RateLimited
from app.staff.models import Role
from app.subsidies import service as subsidies_service
from app.tips import service
from app.tips.attachments import Upload
from app.tips.errors import PayoutUnknown, ReceiptNotFound, TipKeyUnavailable, VillageUnknown
from app.tips.models import Tip, TipAttachment, TipMessage, TipMessageKind, TipState
from app.tips.schemas import ReceiptMessageCreate, TipCreate, TipTransition
from tests.factories import FOLOU, SANGUANZHAI, make_staff
from tests.subsidies.factories import make_payout
from tests.tips import files

CONTENT = "会计把公益林补偿款发给了自己的亲戚。"
NEW_KEY = "a-brand-new-tip-key-that-is-long-enough-987654"


def submit(session: Session, client: str = "10.0.0.1") -> str:
    receipt = service.submit_tip(
        session,
        data=TipCreate(category="funds", village_code=SANGUANZHAI, content=CONTENT),
        uploads=[Upload("a.png", "image/png", files.png())],
        client=client,
        settings=get_settings(),
    )
    return receipt.receipt_code.replace(" ", "")


def attachment_count(session: Session) -> int:
    return len(session.scalars(select(TipAttachment)).all())


def test_purge_keeps_counts_and_removes_content_messages_and_files(session: Session) -> None:
    settings = get_settings()
    code = submit(session)
    open_code = submit(session, client="10.0.0.2")
    tip, still_open = session.scalars(select(Tip).order_by(Tip.id)).all()
    staff = make_staff(session, role=Role.commission)
    service.add_staff_message(
        session, tip.id, kind=TipMessageKind.note, body="备注", actor=staff, settings=settings
    )
    service.change_state(
        session,
        tip.id,
        data=TipTransition(state="rejected", reason="不受理"),
        actor=staff,
        settings=settings,
    )
    closed_on = tip.closed_on
    assert closed_on is not None and attachment_count(session) == 2

    day_before = closed_on + timedelta(days=settings.tip_retention_days)
    assert service.purge_expired(session, day_before, settings=settings).purged == 0
    summary = service.purge_expired(session, day_before + timedelta(days=1), settings=settings)
    assert (summary.purged, summary.files_deleted) == (1, 1)

    session.refresh(tip)
    assert tip.purged_on == day_before + timedelta(days=1)
    assert tip.content_enc is None and tip.wrapped_key is None and tip.receipt_hash is None
    assert tip.rejection_reason_enc is None
    assert session.scalars(select(TipMessage).where(TipMessage.tip_id == tip.id)).all() == []
    assert session.scalars(select(TipAttachment).where(TipAttachment.tip_id == tip.id)).all() == []
    assert attachment_count(session) == 1  # the open tip's file stays
    counts = service.tip_counts(session)
    assert counts.total == 2
    assert {r.key: r.count for r in counts.by_state}["rejected"] == 1
    with pytest.raises(ReceiptNotFound):
        service.receipt_status(session, code, client="x", settings=settings)
    assert service.receipt_status(session, open_code, client="x", settings=settings).state == (
        TipState.submitted
    )
    assert service.read_tip(session, tip.id, actor=staff, settings=settings).content is None
    assert still_open.content_enc is not None


@pytest.fixture
def use_tip_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Settings]]:
    """Switches LIANYUN_TIP_KEY for this test only: the settings cached with the new key are
    dropped afterwards, so later tests of the worker see the test key again."""

    def switch(key: str) -> Settings:
        monkeypatch.setenv("LIANYUN_TIP_KEY", key)
        get_settings.cache_clear()
        return get_settings()

    yield switch
    get_settings.cache_clear()  # rebuilt, when next asked, after monkeypatch restores the key


def test_a_different_master_key_cannot_open_tips(
    session: Session, use_tip_key: Callable[[str], Settings]
) -> None:
    code = submit(session)
    settings = use_tip_key(NEW_KEY)
    with pytest.raises(TipKeyUnavailable):
        service.receipt_status(session, code, client="x", settings=settings)


def test_rotation_rewraps_keys_and_receipts_keep_working(
    session: Session, use_tip_key: Callable[[str], Settings]
) -> None:
    code = submit(session)
    tip = session.scalars(select(Tip)).one()
    content_before = tip.content_enc
    old = get_settings().secret("tip_key")
    assert service.rotate_master_key(session, old_tip_key=old, new_tip_key=NEW_KEY) == 1
    assert tip.content_enc == content_before  # only the wrapping changed
    settings = use_tip_key(NEW_KEY)
    status = service.receipt_status(session, code, client="x", settings=settings)
    assert status.state == TipState.submitted
    staff = make_staff(session, role=Role.commission)
    assert service.read_tip(session, tip.id, actor=staff, settings=settings).content == CONTENT


def test_the_rotate_command(
    committed_db: str, tmp_path: Path, use_tip_key: Callable[[str], Settings]
) -> None:
    with session_scope().begin() as session:
        code = submit(session)
    env = {**os.environ, "LIANYUN_DATABASE_URL": committed_db, "LIANYUN_NEW_TIP_KEY": NEW_KEY}
    done = subprocess.run(
        [sys.executable, "-m", "app", "rotate-tip-key"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "1 条" in done.stdout
    env = {**env, "LIANYUN_TIP_KEY": NEW_KEY}
    del env["LIANYUN_NEW_TIP_KEY"]
    refused = subprocess.run(
        [sys.executable, "-m", "app", "rotate-tip-key"], env=env, capture_output=True, text=True
    )
    assert refused.returncode == 2
    settings = use_tip_key(NEW_KEY)
    with session_scope().begin() as session:
        status = service.receipt_status(session, code, client="x", settings=settings)
    assert status.state == TipState.submitted


def test_an_unchanged_date_only_schema() -> None:
    """No column of a tip table can hold a time of day."""
    from sqlalchemy import Date, DateTime

    for model in (Tip, TipMessage, TipAttachment):
        for column in model.__table__.columns:
            assert not isinstance(column.type, DateTime), column
            if column.name.endswith("_on"):
                assert isinstance(column.type, Date)


def test_rows_swapped_without_the_key_open_nothing(session: Session) -> None:
    """A database writer without the master key cannot read another tip through their own
    receipt code, nor show an internal note to the tipster as a reply."""
    settings = get_settings()
    victim_code = submit(session, client="10.0.0.3")
    attacker_code = submit(session, client="10.0.0.4")
    victim, attacker = session.scalars(select(Tip).order_by(Tip.id)).all()
    staff = make_staff(session, role=Role.commission)
    service.add_staff_message(
        session,
        victim.id,
        kind=TipMessageKind.note,
        body="内部：举报人是三组王某",
        actor=staff,
        settings=settings,
    )
    note = session.scalars(select(TipMessage).where(TipMessage.tip_id == victim.id)).one()

    note.kind = TipMessageKind.reply  # turn the note into a public reply
    session.flush()
    with pytest.raises(TipKeyUnavailable):
        service.receipt_status(session, victim_code, client="10.0.0.5", settings=settings)

    note.kind = TipMessageKind.note
    victim_hash, attacker_hash = victim.receipt_hash, attacker.receipt_hash
    attacker.receipt_hash = None
    session.flush()
    victim.receipt_hash = attacker_hash  # the attacker's own code now finds the victim's row
    session.flush()
    with pytest.raises(TipKeyUnavailable):  # the victim's key is bound to its own receipt hash
        service.receipt_status(session, attacker_code, client="10.0.0.6", settings=settings)
    assert victim_hash is not None


def test_lookups_and_follow_ups_share_one_guessing_budget_per_client(session: Session) -> None:
    settings = get_settings()
    code = submit(session)
    follow_up = ReceiptMessageCreate(receipt_code=code, body="补充：又扣了一个月。")
    for _ in range(5):  # RECEIPT_LIMIT is 10 a minute
        service.receipt_status(session, code, client="10.0.0.9", settings=settings)
        service.add_tipster_message(
            session, data=follow_up, uploads=[], client="10.0.0.9", settings=settings
        )
    with pytest.raises(RateLimited):
        service.receipt_status(session, code, client="10.0.0.9", settings=settings)
    with pytest.raises(RateLimited):
        service.add_tipster_message(
            session, data=follow_up, uploads=[], client="10.0.0.9", settings=settings
        )
    other = service.receipt_status(session, code, client="10.0.0.8", settings=settings)
    assert len(other.messages) == 5


def test_submissions_are_counted_per_client(session: Session) -> None:
    for _ in range(5):  # SUBMIT_LIMIT is 5 an hour
        submit(session, client="10.0.0.9")
    with pytest.raises(RateLimited):
        submit(session, client="10.0.0.9")
    assert submit(session, client="10.0.0.8")


def test_a_follow_up_shows_how_many_files_it_carries(session: Session) -> None:
    settings = get_settings()
    code = submit(session)  # one file with the tip itself, not with a message
    staff = make_staff(session, role=Role.commission)
    tip = session.scalars(select(Tip)).one()
    service.add_staff_message(
        session, tip.id, kind=TipMessageKind.reply, body="已受理。", actor=staff, settings=settings
    )
    status = service.add_tipster_message(
        session,
        data=ReceiptMessageCreate(receipt_code=code, body="两张照片。"),
        uploads=[
            Upload("b.png", "image/png", files.png()),
            Upload("c.png", "image/png", files.png()),
        ],
        client="10.0.0.1",
        settings=settings,
    )
    assert [(m.author, m.attachment_count) for m in status.messages] == [
        ("staff", 0),
        ("tipster", 2),
    ]
    again = service.receipt_status(session, code, client="10.0.0.1", settings=settings)
    assert [m.attachment_count for m in again.messages] == [0, 2]


def test_rotation_counts_every_tip_it_rewraps(session: Session) -> None:
    for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        submit(session, client=client)
    old = get_settings().secret("tip_key")
    assert service.rotate_master_key(session, old_tip_key=old, new_tip_key=NEW_KEY) == 3


def test_a_wrong_receipt_code_is_told_to_check_the_16_digits(session: Session) -> None:
    submit(session)
    with pytest.raises(ReceiptNotFound) as wrong:
        service.receipt_status(session, "1" * 16, client="10.0.0.1", settings=get_settings())
    assert str(wrong.value) == "没有与这个回执码相符的举报，请核对 16 位数字后再试。"


def test_a_changed_tip_key_sends_the_tipster_to_the_administrator(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = submit(session)
    monkeypatch.setenv("LIANYUN_TIP_KEY", NEW_KEY)
    get_settings.cache_clear()
    with pytest.raises(TipKeyUnavailable) as refused:
        service.receipt_status(session, code, client="x", settings=get_settings())
    assert str(refused.value) == "举报密钥与数据不符，请联系管理员。"


def test_a_tip_keeps_its_village_and_the_payout_line_it_points_at(session: Session) -> None:
    settings = get_settings()
    subsidies_service.store_payouts(session, [make_payout(record_id="PC202610-0000042")])
    data = TipCreate(
        category="funds",
        village_code=SANGUANZHAI,
        content=CONTENT,
        payout_record_id="PC202610-0000042",
    )
    service.submit_tip(session, data=data, uploads=[], client="10.0.0.1", settings=settings)
    anonymous = TipCreate(category="funds", content=CONTENT)
    service.submit_tip(session, data=anonymous, uploads=[], client="10.0.0.1", settings=settings)
    staff = make_staff(session, role=Role.commission)
    placed, nowhere = session.scalars(select(Tip).order_by(Tip.id)).all()
    read = service.read_tip(session, placed.id, actor=staff, settings=settings)
    assert (read.village_code, read.township_code) == (SANGUANZHAI, FOLOU)
    assert read.payout_record_id == "PC202610-0000042" and read.state == TipState.submitted
    unplaced = service.read_tip(session, nowhere.id, actor=staff, settings=settings)
    assert (unplaced.village_code, unplaced.township_code, unplaced.payout_record_id) == (
        None,
        None,
        None,
    )


def test_a_tip_pointing_at_an_unknown_village_or_payout_line_is_told_which(
    session: Session,
) -> None:
    settings = get_settings()

    def refused(**fields: str) -> str:
        data = TipCreate(category="funds", content=CONTENT, **fields)
        with pytest.raises((VillageUnknown, PayoutUnknown)) as error:
            service.submit_tip(session, data=data, uploads=[], client="10.0.0.1", settings=settings)
        return str(error.value)

    assert refused(village_code="511923103000") == "没有区划代码为 511923103000 的村（社区）。"
    assert refused(payout_record_id="PC-NONE") == "没有这条发放记录，请从村务公示中选择。"
