"""Tips (信访举报): anonymous reports, followed with a receipt code, triaged by the commission.

Invariants:
- The shared rules of public writes (app.public_writes): nothing identifies the tipster, rows
  carry dates only, limits count in expiring counters; the receipt code is returned once and
  stored only as its slow hash under the installation salt (wrapped in crypto.py); a lookup
  costs the same for right and wrong codes.
- Content, accused, contact, the payout line, messages, reasons, results and files are
  encrypted under the tip's data key; the key is stored wrapped by the master key.
- Everything is checked (limits, types, references) before anything is written; files written
  to the store are removed again when the request fails.
- Staff reads of content and every staff write go into the audit log (ids only, no content).
- Purging keeps category, place, state and dates, nothing else.
"""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, selectinload

from app import public_writes
from app.audit import service as audit
from app.config import Settings
from app.db.base import dialect_insert
from app.pagination import Page, PageParams, paginate
from app.regions import service as regions_service
from app.staff.models import Role, Staff
from app.subsidies import store as payout_store
from app.tips import attachments, crypto
from app.tips.attachments import Upload
from app.tips.errors import (
    AssigneeInvalid,
    AttachmentInvalid,
    PayoutUnknown,
    ReceiptNotFound,
    TipKeyUnavailable,
    TipNotFound,
    TipStateInvalid,
    VillageUnknown,
)
from app.tips.models import (
    Tip,
    TipAttachment,
    TipKeyring,
    TipMessage,
    TipMessageKind,
    TipSource,
    TipState,
)
from app.tips.schemas import (
    CATEGORY_NAMES,
    SOURCE_NAMES,
    STATE_NAMES,
    CountRow,
    PurgeSummary,
    ReceiptMessageCreate,
    TipAttachmentRead,
    TipBrief,
    TipCounts,
    TipCreate,
    TipFilter,
    TipMessagePublic,
    TipMessageRead,
    TipRead,
    TipReceipt,
    TipStatus,
    TipTransition,
)

SUBMIT_LIMIT = "5/hour"
RECEIPT_LIMIT = "10/minute"
TRANSITIONS: dict[str, set[str]] = {
    TipState.submitted: {TipState.accepted, TipState.rejected},
    TipState.accepted: {TipState.investigating},
    TipState.investigating: {TipState.concluded},
}
CLOSED = (TipState.concluded, TipState.rejected)


# --- keys --------------------------------------------------------------------------------


def _master(settings: Settings) -> bytes:
    return crypto.master_key(settings.secret("tip_key"))


def _unwrap(master: bytes, wrapped: bytes, *, salt: bool = False, context: str = "") -> bytes:
    try:
        return crypto.unwrap(master, wrapped, salt=salt, context=context)
    except crypto.KeyMismatch as exc:
        raise TipKeyUnavailable("举报密钥与数据不符，请联系管理员。") from exc


def _salt(session: Session, master: bytes) -> bytes:
    """The installation's receipt salt, made on first use (concurrent first uses agree)."""
    row = session.get(TipKeyring, 1)
    if row is None:
        wrapped = crypto.wrap(master, crypto.new_salt(), salt=True)
        session.execute(
            dialect_insert(session, TipKeyring)
            .values(id=1, wrapped_salt=wrapped)
            .on_conflict_do_nothing()
        )
        row = session.get(TipKeyring, 1, populate_existing=True)
    assert row is not None  # noqa: S101 (inserted just above)
    return _unwrap(master, row.wrapped_salt, salt=True)


def _key_context(tip: Tip) -> str:
    return f":{tip.id}:{tip.receipt_hash}"


def _message_label(tip: Tip, kind: str) -> str:
    """A message opens only under its own tip and kind: a note cannot be turned into a reply."""
    return f"message:{tip.id}:{kind}"


def _data_key(tip: Tip, master: bytes) -> bytes | None:
    if tip.wrapped_key is None:
        return None
    return _unwrap(master, tip.wrapped_key, context=_key_context(tip))


def rotate_master_key(session: Session, *, old_tip_key: str, new_tip_key: str) -> int:
    """Re-wrap the receipt salt and every tip's data key under the new master key; the
    encrypted fields and files stay as they are. Returns the number of tips re-wrapped."""
    old, new = crypto.master_key(old_tip_key), crypto.master_key(new_tip_key)
    if session.get_bind().dialect.name == "postgresql":
        # no tip may be written under the old key while the keys are re-wrapped
        # (SQLite's single writer gives the same guarantee by itself)
        session.execute(text("LOCK TABLE tip, tip_keyring IN EXCLUSIVE MODE"))
    keyring = session.get(TipKeyring, 1)
    if keyring is not None:
        keyring.wrapped_salt = crypto.wrap(
            new, _unwrap(old, keyring.wrapped_salt, salt=True), salt=True
        )
    count = 0
    for tip in session.scalars(select(Tip).where(Tip.wrapped_key.is_not(None))):
        assert tip.wrapped_key is not None  # noqa: S101 (filtered above)
        context = _key_context(tip)
        tip.wrapped_key = crypto.wrap(
            new, _unwrap(old, tip.wrapped_key, context=context), context=context
        )
        count += 1
    session.flush()
    return count


# --- tipsters ----------------------------------------------------------------------------


def _check_files(uploads: list[Upload]) -> list[attachments.CleanFile]:
    if len(uploads) > attachments.MAX_FILES:
        raise AttachmentInvalid(
            f"最多 {attachments.MAX_FILES} 个附件，您选择了 {len(uploads)} 个。"
        )
    return [attachments.clean(upload, i) for i, upload in enumerate(uploads, start=1)]


def _attach(
    session: Session,
    tip: Tip,
    files: list[attachments.CleanFile],
    *,
    key: bytes,
    message: TipMessage | None,
) -> None:
    for file in files:
        session.add(
            TipAttachment(
                tip_id=tip.id,
                message_id=message.id if message else None,
                media_type=file.media_type,
                size=len(file.data),
                data_enc=attachments.seal(key, file.data),
                created_on=public_writes.today(),
            )
        )
    session.flush()


def _yuan(amount: str | None) -> str | None:
    """The amount with exactly two places ("356.5" → "356.50"); validated by the schema."""
    return None if amount is None else f"{Decimal(amount):.2f}"


def submit_tip(
    session: Session, *, data: TipCreate, uploads: list[Upload], client: str, settings: Settings
) -> TipReceipt:
    public_writes.limit(SUBMIT_LIMIT, "tip-submit", client)
    files = _check_files(uploads)
    township_code = None
    if data.village_code is not None:
        village = regions_service.find_village(session, data.village_code)
        if village is None:
            raise VillageUnknown(f"没有区划代码为 {data.village_code} 的村（社区）。")
        township_code = village.parent_code
    if data.payout_record_id is not None and not payout_store.payout_exists(
        session, data.payout_record_id
    ):
        raise PayoutUnknown("没有这条发放记录，请从村务公示中选择。")

    master = _master(settings)
    code = public_writes.new_code()
    tip, key = _new_tip(
        session,
        master,
        receipt_hash=public_writes.code_hash(code, _salt(session, master)),
        source=TipSource.public,
        category=data.category,
        village_code=data.village_code,
        township_code=township_code,
        content=data.content,
        payout_record_id=data.payout_record_id,
        accused=data.accused,
        contact=data.contact,
        # encrypted too: "356.00" may be the tipster's own 低保
        amount_involved=_yuan(data.amount_involved),
    )
    _attach(session, tip, files, key=key, message=None)
    return TipReceipt(receipt_code=public_writes.grouped(code), submitted_on=tip.submitted_on)


def _new_tip(
    session: Session,
    master: bytes,
    *,
    receipt_hash: str | None,
    source: TipSource,
    category: str,
    village_code: str | None,
    township_code: str | None,
    content: str,
    payout_record_id: str | None,
    accused: str | None = None,
    contact: str | None = None,
    amount_involved: str | None = None,
) -> tuple[Tip, bytes]:
    """A tip with its own data key (returned, for attachments), every text encrypted."""
    key = crypto.new_key()
    tip = Tip(
        receipt_hash=receipt_hash,
        source=source,
        category=category,
        village_code=village_code,
        township_code=township_code,
        is_real_name=contact is not None,
        state=TipState.submitted,
        submitted_on=public_writes.today(),
        content_enc=crypto.encrypt_text(key, content, label="content"),
        accused_enc=crypto.encrypt_text(key, accused, label="accused"),
        contact_enc=crypto.encrypt_text(key, contact, label="contact"),
        payout_record_enc=crypto.encrypt_text(key, payout_record_id, label="payout"),
        amount_involved_enc=crypto.encrypt_text(key, amount_involved, label="amount"),
    )
    session.add(tip)
    session.flush()  # the id, which the wrapped key is bound to
    tip.wrapped_key = crypto.wrap(master, key, context=_key_context(tip))
    return tip, key


def submit_objection(
    session: Session,
    *,
    category: str,
    village_code: str,
    payout_record_id: str,
    content: str,
    settings: Settings,
) -> tuple[Tip, TipReceipt]:
    """A villager's objection to a line of a village's list, as an anonymous tip with a
    receipt code (shown once), under the rules of every tip. The caller has checked the line
    and counted the attempt against its per-client limit."""
    master = _master(settings)
    code = public_writes.new_code()
    tip, _key = _new_tip(
        session,
        master,
        receipt_hash=public_writes.code_hash(code, _salt(session, master)),
        source=TipSource.objection,
        category=category,
        village_code=village_code,
        township_code=regions_service.township_of(village_code),
        content=content,
        payout_record_id=payout_record_id,
    )
    receipt = TipReceipt(receipt_code=public_writes.grouped(code), submitted_on=tip.submitted_on)
    return tip, receipt


def open_screening_tip(
    session: Session,
    *,
    category: str,
    village_code: str | None,
    content: str,
    payout_record_id: str | None,
    actor: Staff,
    settings: Settings,
    source: TipSource = TipSource.screening,
) -> Tip:
    """A tip the commission opens itself, from a confirmed screening flag or from a question
    to it (`source`): no receipt code (a question's asker follows it by the question's code,
    through `public_status`); encrypted as every tip; audited."""
    tip, _key = _new_tip(
        session,
        _master(settings),
        receipt_hash=None,
        source=source,
        category=category,
        village_code=village_code,
        township_code=regions_service.township_of(village_code) if village_code else None,
        content=content,
        payout_record_id=payout_record_id,
    )
    audit.record(
        session,
        actor=actor,
        action="tip.open",
        entity_type="tip",
        entity_id=tip.id,
        after={"source": tip.source},
    )
    return tip


def _by_receipt(
    session: Session, code: str, *, client: str, settings: Settings, counted: bool = False
) -> Tip:
    """`counted`: the caller already counted this attempt against the guessing limit."""
    if not counted:
        public_writes.limit(RECEIPT_LIMIT, "tip-receipt", client)
    master = _master(settings)
    digest = public_writes.code_hash(code, _salt(session, master))  # the same work for any code
    tip = session.scalar(
        select(Tip)
        .where(Tip.receipt_hash == digest)
        .options(selectinload(Tip.messages), selectinload(Tip.attachments))
    )
    if tip is None:
        raise ReceiptNotFound("没有与这个回执码相符的举报，请核对 16 位数字后再试。")
    return tip


def _status(tip: Tip, settings: Settings) -> TipStatus:
    key = _data_key(tip, _master(settings))
    assert key is not None  # noqa: S101 (a purged tip has no receipt hash, so is never found)
    counts: dict[int, int] = {}
    for attachment in tip.attachments:
        if attachment.message_id is not None:
            counts[attachment.message_id] = counts.get(attachment.message_id, 0) + 1
    return TipStatus(
        state=TipState(tip.state),
        state_name=STATE_NAMES[tip.state],
        category=tip.category,
        category_name=CATEGORY_NAMES[tip.category],
        submitted_on=tip.submitted_on,
        rejection_reason=crypto.decrypt_text(key, tip.rejection_reason_enc, label="reason"),
        public_result=crypto.decrypt_text(key, tip.public_result_enc, label="result"),
        messages=[
            TipMessagePublic(
                author="tipster" if m.kind == TipMessageKind.tipster else "staff",
                body=crypto.decrypt(key, m.body_enc, label=_message_label(tip, m.kind)).decode(),
                created_on=m.created_on,
                attachment_count=counts.get(m.id, 0),
            )
            for m in tip.messages
            if m.kind != TipMessageKind.note
        ],
    )


def public_status(session: Session, tip_id: int, *, settings: Settings) -> TipStatus | None:
    """What a receipt holder would see of the tip, for a caller that has checked its own
    credential (a question's code); None once the tip is purged."""
    tip = get_tip(session, tip_id)
    if tip.wrapped_key is None:
        return None
    return _status(tip, settings)


def receipt_status(session: Session, code: str, *, client: str, settings: Settings) -> TipStatus:
    return _status(_by_receipt(session, code, client=client, settings=settings), settings)


def add_tipster_message(
    session: Session,
    *,
    data: ReceiptMessageCreate,
    uploads: list[Upload],
    client: str,
    settings: Settings,
) -> TipStatus:
    public_writes.limit(RECEIPT_LIMIT, "tip-receipt", client)  # before costly work
    files = _check_files(uploads)
    tip = _by_receipt(session, data.receipt_code, client=client, settings=settings, counted=True)
    key = _data_key(tip, _master(settings))
    assert key is not None  # noqa: S101 (see _status)
    message = TipMessage(
        kind=TipMessageKind.tipster,
        body_enc=crypto.encrypt(
            key, data.body.encode(), label=_message_label(tip, TipMessageKind.tipster)
        ),
        created_on=public_writes.today(),
    )
    tip.messages.append(message)
    session.flush()
    _attach(session, tip, files, key=key, message=message)
    session.refresh(tip, ["attachments"])
    return _status(tip, settings)


# --- the commission ----------------------------------------------------------------------


def _brief(tip: Tip) -> TipBrief:
    return TipBrief(
        id=tip.id,
        category=tip.category,
        category_name=CATEGORY_NAMES[tip.category],
        source=TipSource(tip.source),
        source_name=SOURCE_NAMES[tip.source],
        state=TipState(tip.state),
        village_code=tip.village_code,
        township_code=tip.township_code,
        is_real_name=tip.is_real_name,
        assignee_id=tip.assignee_id,
        submitted_on=tip.submitted_on,
        closed_on=tip.closed_on,
        purged=tip.purged_on is not None,
    )


def list_tips(session: Session, *, filters: TipFilter, page: PageParams) -> Page[TipBrief]:
    stmt = select(Tip).order_by(Tip.submitted_on.desc(), Tip.id.desc())
    if filters.state is not None:
        stmt = stmt.where(Tip.state == filters.state)
    if filters.category is not None:
        stmt = stmt.where(Tip.category == filters.category)
    if filters.source is not None:
        stmt = stmt.where(Tip.source == filters.source)
    if filters.township_code is not None:
        stmt = stmt.where(Tip.township_code == filters.township_code)
    if filters.submitted_from is not None:
        stmt = stmt.where(Tip.submitted_on >= filters.submitted_from)
    if filters.submitted_to is not None:
        stmt = stmt.where(Tip.submitted_on <= filters.submitted_to)
    rows, total = paginate(session, stmt, page)
    return Page[TipBrief](
        items=[_brief(t) for t in rows], total=total, page=page.page, size=page.size
    )


def tip_counts(session: Session) -> TipCounts:
    by_state: dict[str, int] = {
        state: n
        for state, n in session.execute(select(Tip.state, func.count()).group_by(Tip.state))
    }
    by_category: dict[str, int] = {
        category: n
        for category, n in session.execute(
            select(Tip.category, func.count()).group_by(Tip.category)
        )
    }
    return TipCounts(
        total=sum(by_state.values()),
        by_state=[
            CountRow(key=k, name=n, count=by_state.get(k, 0)) for k, n in STATE_NAMES.items()
        ],
        by_category=[
            CountRow(key=k, name=n, count=by_category.get(k, 0)) for k, n in CATEGORY_NAMES.items()
        ],
    )


def get_tip(session: Session, tip_id: int) -> Tip:
    tip = session.get(
        Tip, tip_id, options=[selectinload(Tip.messages), selectinload(Tip.attachments)]
    )
    if tip is None:
        raise TipNotFound(f"没有编号为 {tip_id} 的举报")
    return tip


def read_tip(session: Session, tip_id: int, *, actor: Staff, settings: Settings) -> TipRead:
    """The whole tip, decrypted; the read is written to the audit log."""
    tip = get_tip(session, tip_id)
    audit.record(session, actor=actor, action="tip.read", entity_type="tip", entity_id=tip.id)
    return _detail(tip, settings)


def _detail(tip: Tip, settings: Settings) -> TipRead:
    key = _data_key(tip, _master(settings))

    def text(blob: bytes | None, label: str) -> str | None:
        return None if key is None else crypto.decrypt_text(key, blob, label=label)

    return TipRead(
        **_brief(tip).model_dump(),
        accused=text(tip.accused_enc, "accused"),
        content=text(tip.content_enc, "content"),
        contact=text(tip.contact_enc, "contact"),
        payout_record_id=text(tip.payout_record_enc, "payout"),
        amount_involved=text(tip.amount_involved_enc, "amount"),
        rejection_reason=text(tip.rejection_reason_enc, "reason"),
        public_result=text(tip.public_result_enc, "result"),
        messages=[
            TipMessageRead(
                id=m.id,
                kind=TipMessageKind(m.kind).value,
                author_id=m.author_id,
                body=text(m.body_enc, _message_label(tip, m.kind)) or "",
                created_on=m.created_on,
            )
            for m in tip.messages
        ],
        attachments=[
            TipAttachmentRead(
                id=a.id,
                media_type=a.media_type,
                size=a.size,
                created_on=a.created_on,
                message_id=a.message_id,
            )
            for a in tip.attachments
        ],
    )


def read_attachment(
    session: Session, tip_id: int, attachment_id: int, *, actor: Staff, settings: Settings
) -> tuple[str, bytes]:
    tip = get_tip(session, tip_id)
    attachment = next((a for a in tip.attachments if a.id == attachment_id), None)
    key = _data_key(tip, _master(settings))
    if attachment is None or key is None:
        raise TipNotFound(f"举报 {tip_id} 没有编号为 {attachment_id} 的附件")
    audit.record(
        session,
        actor=actor,
        action="tip.attachment.read",
        entity_type="tip",
        entity_id=tip.id,
        after={"attachment_id": attachment.id},
    )
    return attachment.media_type, attachments.unseal(key, attachment.data_enc)


def assign_tip(session: Session, tip_id: int, *, staff_id: int, actor: Staff) -> TipBrief:
    tip = get_tip(session, tip_id)
    assignee = session.get(Staff, staff_id)
    if assignee is None or not assignee.is_active or assignee.role != Role.commission:
        raise AssigneeInvalid("只能指派给在职的纪委监委工作人员。")
    before = {"assignee_id": tip.assignee_id}
    tip.assignee_id = assignee.id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="tip.assign",
        entity_type="tip",
        entity_id=tip.id,
        before=before,
        after={"assignee_id": assignee.id},
    )
    return _brief(tip)


def add_staff_message(
    session: Session,
    tip_id: int,
    *,
    kind: TipMessageKind,
    body: str,
    actor: Staff,
    settings: Settings,
) -> TipMessageRead:
    """A public reply (shown to the tipster) or an internal note (never shown)."""
    tip = get_tip(session, tip_id)
    key = _data_key(tip, _master(settings))
    if key is None:
        raise TipStateInvalid("该举报已按保存期限清除，不能再添加内容。")
    message = TipMessage(
        kind=kind,
        author_id=actor.id,
        body_enc=crypto.encrypt(key, body.encode(), label=_message_label(tip, kind)),
        created_on=public_writes.today(),
    )
    tip.messages.append(message)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"tip.{kind.value}",
        entity_type="tip",
        entity_id=tip.id,
        after={"kind": kind.value},  # not the message id: ids would date the tipster's own
    )
    return TipMessageRead(
        id=message.id, kind=kind.value, author_id=actor.id, body=body, created_on=message.created_on
    )


def change_state(
    session: Session, tip_id: int, *, data: TipTransition, actor: Staff, settings: Settings
) -> TipBrief:
    tip = get_tip(session, tip_id)
    if data.state not in TRANSITIONS.get(tip.state, set()):
        raise TipStateInvalid(
            f"举报当前为“{STATE_NAMES[tip.state]}”，不能改为“{STATE_NAMES[data.state]}”。"
        )
    if data.state == TipState.rejected and not data.reason:
        raise TipStateInvalid("不予受理须填写理由（reason），理由会告知举报人。")
    if data.state == TipState.concluded and not data.result:
        raise TipStateInvalid("办结须填写结果（result），结果会告知举报人。")
    key = _data_key(tip, _master(settings))
    assert key is not None  # noqa: S101 (only closed tips are purged, and they cannot move)
    before = {"state": tip.state}
    tip.state = data.state
    if data.state == TipState.rejected:
        tip.rejection_reason_enc = crypto.encrypt_text(key, data.reason, label="reason")
    if data.state == TipState.concluded:
        tip.public_result_enc = crypto.encrypt_text(key, data.result, label="result")
    if data.state in CLOSED:
        tip.closed_on = public_writes.today()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="tip.state",
        entity_type="tip",
        entity_id=tip.id,
        before=before,
        after={"state": tip.state},
    )
    return _brief(tip)


# --- retention ---------------------------------------------------------------------------


def purge_expired(session: Session, now: date, *, settings: Settings) -> PurgeSummary:
    """Concluded and rejected tips closed more than `tip_retention_days` ago lose their
    content, messages, files, keys and receipt hash; the row stays for the counts."""
    cutoff = now - timedelta(days=settings.tip_retention_days)
    tips = session.scalars(
        select(Tip)
        .where(Tip.state.in_(CLOSED), Tip.purged_on.is_(None), Tip.closed_on < cutoff)
        .options(selectinload(Tip.messages), selectinload(Tip.attachments))
    ).all()
    files = 0
    for tip in tips:
        files += len(tip.attachments)
        tip.attachments.clear()
        tip.messages.clear()
        tip.receipt_hash = None
        tip.wrapped_key = None
        tip.content_enc = tip.accused_enc = tip.contact_enc = tip.payout_record_enc = None
        tip.rejection_reason_enc = tip.public_result_enc = None
        tip.amount_involved_enc = None
        tip.purged_on = now
    session.flush()
    return PurgeSummary(purged=len(tips), files_deleted=files)
