import io

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.inquiries.models import InquiryPhoto
from app.staff.models import Role
from tests.asserts import assert_problem
from tests.factories import FOLOU, auth_headers, make_staff
from tests.inquiries.factories import make_item, make_meeting
from tests.tips import files

ADMIN = "/api/v1/admin"


def _big_sideways_photo() -> bytes:
    """3000 × 2000 px with GPS and a camera, shot holding the phone upright (orientation 6)."""
    exif = Image.Exif()
    exif[files.MAKE] = "SpyPhoneMaker"
    exif[0x0112] = 6  # rotate 90° to view
    exif.get_ifd(files.GPS_IFD).update({files.GPS_LATITUDE_REF: "N"})
    out = io.BytesIO()
    Image.new("RGB", (3000, 2000), (10, 120, 200)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _photo_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(InquiryPhoto)) or 0


def test_meeting_photos_lose_their_metadata_and_are_sized_for_phones(
    client: TestClient, session: Session
) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    meeting = make_meeting(session, officer, published=False)
    sent = [
        ("photos", ("site.jpg", _big_sideways_photo(), "image/jpeg")),
        ("photos", ("small.jpg", files.jpeg_with_gps(), "image/jpeg")),
    ]
    uploaded = client.post(
        f"{ADMIN}/inquiry-meetings/{meeting.id}/photos", files=sent, headers=auth_headers(officer)
    )
    assert uploaded.status_code == 200, uploaded.text
    photos = uploaded.json()["photos"]
    assert [(p["width"], p["height"]) for p in photos] == [(1080, 1620), (64, 48)]  # upright
    url = photos[0]["url"]
    assert_problem(client.get(url), 404, "inquiry_photo_not_found")  # the meeting is a draft
    client.post(f"{ADMIN}/inquiry-meetings/{meeting.id}/publish", headers=auth_headers(officer))
    shown = client.get(url)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert "immutable" in shown.headers["cache-control"]
    image = Image.open(io.BytesIO(shown.content))
    assert image.size == (1080, 1620) and not image.getexif() and "exif" not in image.info
    assert b"SpyPhoneMaker" not in shown.content and b"GPS" not in shown.content
    public = client.get(f"/api/v1/inquiry-meetings/{meeting.id}").json()
    assert [p["url"] for p in public["photos"]] == [p["url"] for p in photos]


def test_the_item_page_shows_its_meetings_photos(client: TestClient, session: Session) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    meeting = make_meeting(session, officer)
    item = make_item(session, officer, meeting_id=meeting.id)
    assert "会议现场照片" not in client.get(f"/inquiries/{item.number}").text  # none yet: no gap
    sent = [("photos", ("site.jpg", files.jpeg_with_gps(), "image/jpeg"))]
    uploaded = client.post(
        f"{ADMIN}/inquiry-meetings/{meeting.id}/photos", files=sent, headers=auth_headers(officer)
    )
    [photo] = uploaded.json()["photos"]
    page = client.get(f"/inquiries/{item.number}").text
    assert f'<img src="{photo["url"]}" width="64" height="48"' in page and "会议现场照片" in page
    assert client.get(photo["url"]).headers["content-type"] == "image/jpeg"


def test_a_progress_note_carries_its_photos_on_the_timeline(
    client: TestClient, session: Session
) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    item = make_item(session, officer)
    noted = client.post(
        f"{ADMIN}/inquiries/{item.number}/progress",
        data={"text": "公示栏已经贴出新名单。", "progress": "80"},
        files=[("photos", ("board.png", files.png(), "image/png"))],
        headers=auth_headers(officer),
    )
    assert noted.status_code == 200, noted.text
    last = noted.json()["timeline"][-1]
    assert last["progress"] == 80 and len(last["photos"]) == 1
    assert client.get(last["photos"][0]["url"]).headers["content-type"] == "image/jpeg"
    as_json = client.post(
        f"{ADMIN}/inquiries/{item.number}/progress",
        json={"text": "没有照片也行。"},
        headers=auth_headers(officer),
    )
    assert as_json.status_code == 200 and as_json.json()["timeline"][-1]["photos"] == []
    for progress in (True, 1.5, "八十"):
        wrong = client.post(
            f"{ADMIN}/inquiries/{item.number}/progress",
            json={"text": "进度不对", "progress": progress},
            headers=auth_headers(officer),
        )
        assert_problem(wrong, 422, "validation_failed")


def test_what_is_not_a_photo_is_refused_and_nothing_is_kept(
    client: TestClient, session: Session
) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    meeting = make_meeting(session, officer)
    item = make_item(session, officer, meeting_id=meeting.id)
    headers = auth_headers(officer)
    url = f"{ADMIN}/inquiry-meetings/{meeting.id}/photos"
    good = ("photos", ("ok.jpg", files.jpeg_with_gps(), "image/jpeg"))
    pdf = ("photos", ("scan.pdf", files.pdf_with_author(), "application/pdf"))
    refused = client.post(url, files=[good, pdf], headers=headers)
    assert_problem(refused, 422, "inquiry_photo_invalid")
    assert "第 2 张" in refused.json()["detail"]
    ten = client.post(url, files=[good] * 10, headers=headers)
    assert_problem(ten, 422, "inquiry_photo_invalid")
    broken = ("photos", ("bad.jpg", b"\xff\xd8\xff" + b"0" * 100, "image/jpeg"))
    damaged = client.post(
        f"{ADMIN}/inquiries/{item.number}/progress",
        data={"text": "坏照片"},
        files=[broken],
        headers=headers,
    )
    assert_problem(damaged, 422, "inquiry_photo_invalid")
    assert _photo_count(session) == 0
    assert len(client.get(f"/api/v1/inquiries/{item.number}").json()["timeline"]) == 1
