"""Pictures of articles: metadata stripped, at most 1080 px wide, long-cached, bad files refused."""

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.articles.models import ArticleImage
from app.staff.models import Role
from tests.articles.factories import editor, make_article
from tests.asserts import assert_problem
from tests.factories import FOLOU, XIXING, auth_headers, make_staff
from tests.tips import files

ADMIN = "/api/v1/admin/articles"


def _wide_photo_with_gps() -> bytes:
    exif = Image.Exif()
    exif[files.MAKE] = "SpyPhoneMaker"
    exif.get_ifd(files.GPS_IFD).update({files.GPS_LATITUDE_REF: "N"})
    out = io.BytesIO()
    Image.new("RGB", (2400, 1600), (200, 60, 40)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ArticleImage)) or 0


def test_a_picture_is_cleaned_resized_and_shown_in_the_article(
    client: TestClient, session: Session
) -> None:
    staff = editor(session)
    headers = auth_headers(staff)
    article_id = make_article(session, publish=False, actor=staff)
    sent = [("images", ("site.jpg", _wide_photo_with_gps(), "image/jpeg"))]
    uploaded = client.post(f"{ADMIN}/{article_id}/images", files=sent, headers=headers)
    assert uploaded.status_code == 201, uploaded.text
    [image] = uploaded.json()["items"]
    assert (image["width"], image["height"]) == (1080, 720)
    assert_problem(client.get(image["url"]), 404, "article_image_not_found")  # not yet published

    body = f"会场照片：\n\n{image['markdown']}\n"
    client.patch(f"{ADMIN}/{article_id}", json={"body_markdown": body}, headers=headers)
    client.post(f"{ADMIN}/{article_id}/publish", headers=headers)
    html = client.get(f"/api/v1/articles/{article_id}").json()["body_html"]
    assert f'<img src="{image["url"]}" alt="图片">' in html
    shown = client.get(image["url"])
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["cache-control"] == "public, max-age=31536000, immutable"
    picture = Image.open(io.BytesIO(shown.content))
    assert picture.size == (1080, 720) and not picture.getexif()
    assert b"SpyPhoneMaker" not in shown.content and b"GPS" not in shown.content


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("notes.txt", "这不是图片".encode(), "不是 JPEG 或 PNG"),
        ("fake.jpg", b"\xff\xd8\xff" + b"\x00" * 100, "已损坏或太大"),
        ("bomb.png", files.png_bomb(), "已损坏或太大"),
        ("huge.jpg", b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024 + 1), "超过 10 MB"),
    ],
)
def test_files_that_are_not_pictures_are_refused_and_none_is_kept(
    client: TestClient, session: Session, name: str, data: bytes, words: str
) -> None:
    staff = editor(session)
    article_id = make_article(session, publish=False, actor=staff)
    sent = [
        ("images", ("good.png", files.png(), "image/png")),
        ("images", (name, data, "image/jpeg")),
    ]
    refused = client.post(f"{ADMIN}/{article_id}/images", files=sent, headers=auth_headers(staff))
    problem = assert_problem(refused, 422, "article_image_invalid")
    assert "第 2 张" in problem["detail"] and words in problem["detail"]
    assert _count(session) == 0


def test_only_the_article_s_own_writers_upload_pictures(
    client: TestClient, session: Session
) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=XIXING)
    other = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    article_id = make_article(session, publish=False, actor=officer)
    sent = [("images", ("a.png", files.png(), "image/png"))]
    ok = client.post(f"{ADMIN}/{article_id}/images", files=sent, headers=auth_headers(officer))
    assert ok.status_code == 201
    refused = client.post(f"{ADMIN}/{article_id}/images", files=sent, headers=auth_headers(other))
    assert_problem(refused, 403, "outside_township")
    empty = client.post(f"{ADMIN}/{article_id}/images", files=[], headers=auth_headers(officer))
    assert empty.status_code == 422
    assert _count(session) == 1
