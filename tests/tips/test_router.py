import io
import os
import re
from datetime import date

from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.staff.models import Role, Staff
from app.tips.models import Tip, TipAttachment
from tests.asserts import assert_problem
from tests.factories import FOLOU, SANGUANZHAI, auth_headers, make_staff
from tests.tips import files

TIPS = "/api/v1/tips"
ADMIN = "/api/v1/admin/tips"
CONTENT = "村主任把我家的低保钱扣下了三个月，说是管理费。"
TIP = {"category": "dibao", "village_code": SANGUANZHAI, "accused": "王某某", "content": CONTENT}


def submit(client: TestClient, **overrides: object) -> dict[str, str]:
    response = client.post(TIPS, json={**TIP, **overrides})
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


def commission(session: Session) -> tuple[Staff, dict[str, str]]:
    staff = make_staff(session, role=Role.commission)
    return staff, auth_headers(staff)


def tip_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Tip)) or 0


# --- submit and receipt --------------------------------------------------------------------


def test_a_tip_answers_a_grouped_16_digit_code_and_the_date_only(client: TestClient) -> None:
    response = client.post(TIPS, json={**TIP, "amount_involved": "356.5", "contact": "138"})
    assert response.status_code == 201
    body = response.json()
    assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4}", body["receipt_code"])
    assert date.fromisoformat(body["submitted_on"])
    assert set(body) == {"receipt_code", "submitted_on"}
    assert "x-request-id" not in response.headers


def test_the_code_is_stored_only_as_a_hash(client: TestClient, session: Session) -> None:
    code = submit(client)["receipt_code"].replace(" ", "")
    tip = session.scalars(select(Tip)).one()
    assert tip.receipt_hash is not None and code not in tip.receipt_hash
    assert len(tip.receipt_hash) == 64
    assert tip.content_enc is not None and CONTENT.encode() not in tip.content_enc


def test_the_receipt_shows_the_state_with_or_without_spaces(client: TestClient) -> None:
    code = submit(client)["receipt_code"]
    for form in (code, code.replace(" ", "")):
        response = client.post(f"{TIPS}/receipt", json={"receipt_code": form})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["state"] == "submitted" and body["state_name"] == "已提交，等待受理"
        assert body["category_name"] == "低保/救助"
        assert body["messages"] == [] and body["rejection_reason"] is None
        assert "x-request-id" not in response.headers


def test_a_wrong_code_is_404_and_a_malformed_one_422(client: TestClient) -> None:
    submit(client)
    body = assert_problem(
        client.post(f"{TIPS}/receipt", json={"receipt_code": "0000 0000 0000 0000"}),
        404,
        "tip_receipt_not_found",
    )
    assert "request_id" not in body
    assert_problem(
        client.post(f"{TIPS}/receipt", json={"receipt_code": "1234"}), 422, "validation_failed"
    )


def test_guessing_codes_is_rate_limited(client: TestClient) -> None:
    statuses = [
        client.post(f"{TIPS}/receipt", json={"receipt_code": f"{i:016d}"}).status_code
        for i in range(11)
    ]
    assert statuses == [404] * 10 + [429]


def test_submissions_are_rate_limited_per_client(client: TestClient, session: Session) -> None:
    for _ in range(5):
        submit(client)
    body = assert_problem(client.post(TIPS, json=TIP), 429, "rate_limited")
    assert "request_id" not in body
    assert tip_count(session) == 5


def test_the_tipster_adds_a_follow_up(client: TestClient) -> None:
    code = submit(client)["receipt_code"]
    response = client.post(
        f"{TIPS}/receipt/messages", json={"receipt_code": code, "body": "又扣了一个月。"}
    )
    assert response.status_code == 201, response.text
    messages = response.json()["messages"]
    assert [(m["author"], m["body"]) for m in messages] == [("tipster", "又扣了一个月。")]
    assert date.fromisoformat(messages[0]["created_on"])
    assert_problem(
        client.post(f"{TIPS}/receipt/messages", json={"receipt_code": "1" * 16, "body": "x"}),
        404,
        "tip_receipt_not_found",
    )


# --- bad input ---------------------------------------------------------------------------


def test_bad_input_is_refused_in_chinese_and_nothing_is_stored(
    client: TestClient, session: Session
) -> None:
    cases = [
        ({"village_code": "511923999999"}, "tip_village_unknown"),
        ({"village_code": FOLOU}, "tip_village_unknown"),  # a township, not a village
        ({"payout_record_id": "no-such-line"}, "tip_payout_unknown"),
        ({"category": "bribes"}, "validation_failed"),
        ({"content": "太短"}, "validation_failed"),
        ({"content": "长" * 5001}, "validation_failed"),
        ({"accused": "王" * 201}, "validation_failed"),
        ({"contact": "1" * 201}, "validation_failed"),
        ({"amount_involved": "1e9"}, "validation_failed"),
        ({"amount_involved": 356.5}, "validation_failed"),
        ({"device_id": "abc"}, "validation_failed"),
    ]
    for overrides, code in cases:
        body = assert_problem(client.post(TIPS, json={**TIP, **overrides}), 422, code)
        assert "request_id" not in body
    assert_problem(
        client.post(TIPS, content=b"{", headers={"content-type": "application/json"}),
        422,
        "validation_failed",
    )
    assert tip_count(session) == 0


# --- attachments -------------------------------------------------------------------------


def test_attachments_lose_gps_exif_and_document_info(client: TestClient, session: Session) -> None:
    jpeg, pdf = files.jpeg_with_gps(), files.pdf_with_author()
    response = client.post(
        TIPS,
        data=TIP,
        files=[
            ("attachments", ("photo.jpg", jpeg, "image/jpeg")),
            ("attachments", ("proof.pdf", pdf, "application/pdf")),
        ],
    )
    assert response.status_code == 201, response.text
    stored = session.scalars(select(TipAttachment)).all()
    assert len(stored) == 2
    for attachment in stored:  # encrypted in the database
        data = attachment.data_enc
        assert not data.startswith((b"\xff\xd8\xff", b"%PDF")) and b"SpyPhone" not in data
    tip = session.scalars(select(Tip)).one()
    _, headers = commission(session)
    detail = client.get(f"{ADMIN}/{tip.id}", headers=headers).json()
    kinds = {a["media_type"]: a["id"] for a in detail["attachments"]}
    photo = client.get(f"{ADMIN}/{tip.id}/attachments/{kinds['image/jpeg']}", headers=headers)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(photo.content))
    assert image.size == (64, 48)
    assert dict(image.getexif()) == {} and "exif" not in image.info
    assert b"SpyPhone" not in photo.content
    document = client.get(
        f"{ADMIN}/{tip.id}/attachments/{kinds['application/pdf']}", headers=headers
    )
    reader = PdfReader(io.BytesIO(document.content))
    assert len(reader.pages) == 1
    assert reader.metadata is None or "/Author" not in reader.metadata
    assert files.AUTHOR.encode() not in document.content and b"SecretTitle" not in document.content
    assert "/Metadata" not in reader.trailer["/Root"]


def test_a_file_that_is_not_what_it_claims_is_refused(client: TestClient, session: Session) -> None:
    cases = [
        ("photo.jpg", files.png(), "image/jpeg"),  # a PNG named and typed as JPEG
        ("proof.pdf", files.jpeg_with_gps(), "application/pdf"),
        ("notes.txt", b"just text", "text/plain"),
        ("photo.jpg", b"\xff\xd8\xff broken", "image/jpeg"),
    ]
    for attachment in cases:
        response = client.post(TIPS, data=TIP, files=[("attachments", attachment)])
        body = assert_problem(response, 422, "tip_attachment_invalid")
        assert "request_id" not in body
    assert tip_count(session) == 0
    assert session.scalars(select(TipAttachment)).all() == []


def test_limits_on_attachments(client: TestClient, session: Session) -> None:
    six = [("attachments", (f"{i}.png", files.png(), "image/png")) for i in range(6)]
    assert_problem(client.post(TIPS, data=TIP, files=six), 422, "tip_attachment_invalid")
    huge = b"%PDF-" + b"0" * (10 * 1024 * 1024)
    response = client.post(
        TIPS, data=TIP, files=[("attachments", ("a.pdf", huge, "application/pdf"))]
    )
    assert_problem(response, 413, "tip_attachment_too_large")
    assert tip_count(session) == 0
    assert session.scalars(select(TipAttachment)).all() == []


def test_a_tip_body_may_exceed_the_app_wide_limit(client: TestClient) -> None:
    out = io.BytesIO()
    Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3)).save(out, "PNG")
    assert len(out.getvalue()) > 1024 * 1024
    response = client.post(
        TIPS, data=TIP, files=[("attachments", ("big.png", out.getvalue(), "image/png"))]
    )
    assert response.status_code == 201, response.text


def test_a_json_tip_keeps_the_small_body_limit(client: TestClient) -> None:
    huge = {"category": "funds", "content": "x" * (2 * 1024 * 1024)}
    response = client.post("/api/v1/tips", json=huge)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert "request_id" not in response.json()
