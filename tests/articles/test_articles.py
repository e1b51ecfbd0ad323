"""Articles: columns, versions, scheduling at read time, search, reads, roles, bad bodies."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.articles.models import Article, ArticleVersion
from app.audit.models import AuditEntry
from app.db.base import utcnow
from app.staff.models import Role
from tests.articles.factories import editor, make_article
from tests.asserts import assert_problem
from tests.factories import FOLOU, XIXING, auth_headers, make_staff

ADMIN = "/api/v1/admin/articles"
NEW: dict[str, Any] = {
    "column": "warning",
    "title": "一笔低保金背后的教训",
    "body_markdown": "## 事情经过\n\n村干部把**低保名额**给了亲戚，最后受到处分。\n",
}


def test_an_editor_writes_publishes_and_the_public_read_it(
    client: TestClient, session: Session
) -> None:
    headers = auth_headers(editor(session))
    made = client.post(ADMIN, json=NEW, headers=headers)
    assert made.status_code == 201, made.text
    article_id = made.json()["id"]
    assert made.json()["latest"]["state"] == "draft" and made.json()["public_now"] is False
    assert_problem(client.get(f"/api/v1/articles/{article_id}"), 404, "article_not_found")

    published = client.post(f"{ADMIN}/{article_id}/publish", headers=headers)
    assert published.status_code == 200 and published.json()["public_now"] is True
    shown = client.get(f"/api/v1/articles/{article_id}")
    assert shown.status_code == 200
    body = shown.json()
    assert body["column_name"] == "警示教育" and body["title"] == NEW["title"]
    assert (
        "<h2>事情经过</h2>" in body["body_html"]
        and "<strong>低保名额</strong>" in body["body_html"]
    )
    assert shown.headers["cache-control"].startswith("public") and shown.headers["etag"]
    again = client.get(
        f"/api/v1/articles/{article_id}", headers={"If-None-Match": shown.headers["etag"]}
    )
    assert again.status_code == 304

    listed = client.get("/api/v1/articles", params={"column": "warning"}).json()
    assert [a["id"] for a in listed["items"]] == [article_id]
    assert client.get("/api/v1/articles", params={"column": "culture"}).json()["total"] == 0
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "article").order_by(AuditEntry.id)
    ).all()
    assert actions == ["article.create", "article.publish"]


def test_an_edit_is_a_new_draft_and_the_public_keep_the_published_text(
    client: TestClient, session: Session
) -> None:
    staff = editor(session)
    headers = auth_headers(staff)
    article_id = make_article(session, title="旧标题", actor=staff)
    edited = client.patch(f"{ADMIN}/{article_id}", json={"title": "新标题"}, headers=headers)
    assert edited.json()["latest"]["number"] == 2 and edited.json()["published_version"] == 1
    assert client.get(f"/api/v1/articles/{article_id}").json()["title"] == "旧标题"
    assert client.get("/api/v1/articles", params={"q": "新标题"}).json()["total"] == 0
    client.post(f"{ADMIN}/{article_id}/publish", headers=headers)
    assert client.get(f"/api/v1/articles/{article_id}").json()["title"] == "新标题"
    assert client.get("/api/v1/articles", params={"q": "旧标题"}).json()["total"] == 0
    versions = client.get(f"{ADMIN}/{article_id}/versions", headers=headers).json()["items"]
    assert [(v["number"], v["state"]) for v in versions] == [(2, "published"), (1, "superseded")]

    client.post(f"{ADMIN}/{article_id}/unpublish", headers=headers)
    assert_problem(client.get(f"/api/v1/articles/{article_id}"), 404, "article_not_found")
    assert client.get("/api/v1/articles", params={"q": "新标题"}).json()["total"] == 0


def test_publish_at_and_unpublish_at_take_effect_without_a_job(
    client: TestClient, session: Session
) -> None:
    now = utcnow()
    later = make_article(session, title="明天的文章", publish_at=now + timedelta(days=1))
    ended = make_article(
        session,
        title="过期的文章",
        publish_at=now - timedelta(days=2),
        unpublish_at=now - timedelta(days=1),
    )
    shown = make_article(session, title="当下的文章", unpublish_at=now + timedelta(days=1))
    assert [a["id"] for a in client.get("/api/v1/articles").json()["items"]] == [shown]
    for hidden in (later, ended):
        assert_problem(client.get(f"/api/v1/articles/{hidden}"), 404, "article_not_found")
    assert client.get("/api/v1/articles", params={"q": "文章"}).json()["total"] == 1
    # the moment comes: nothing runs, the next read sees it
    session.execute(
        Article.__table__.update()
        .where(Article.id == later)
        .values(public_from=now - timedelta(seconds=1))
    )
    assert client.get(f"/api/v1/articles/{later}").status_code == 200


def test_a_word_in_the_body_finds_the_article_with_a_snippet(
    client: TestClient, session: Session
) -> None:
    make_article(session, title="清风传家", column="culture", body="家风正，则民风淳。")
    warning = make_article(
        session,
        title="警钟长鸣",
        body="某村会计挪用集体资金打牌，输光后无力归还，最终被开除党籍。",
    )
    found = client.get("/api/v1/articles", params={"q": "挪用"}).json()
    assert [a["id"] for a in found["items"]] == [warning]
    assert "<mark>挪用</mark>" in found["items"][0]["snippet"]
    in_column = client.get("/api/v1/articles", params={"q": "挪用", "column": "culture"}).json()
    assert in_column["total"] == 0


def test_reads_are_counted_per_day_only(client: TestClient, session: Session) -> None:
    staff = editor(session)
    article_id = make_article(session, actor=staff)
    for _ in range(3):
        client.get(f"/api/v1/articles/{article_id}")
    client.get("/api/v1/articles/999999")  # no such article: nothing counted
    reads = client.get(f"{ADMIN}/{article_id}/reads", headers=auth_headers(staff)).json()
    assert reads["total"] == 3 and len(reads["days"]) == 1 and reads["days"][0]["count"] == 3
    assert set(reads["days"][0]) == {"day", "count"}


def test_a_township_officer_proposes_and_an_editor_publishes(
    client: TestClient, session: Session
) -> None:
    officer = make_staff(session, role=Role.township_officer, region_code=XIXING)
    other = make_staff(session, role=Role.township_officer, region_code=FOLOU)
    made = client.post(ADMIN, json=NEW, headers=auth_headers(officer)).json()
    assert made["township_code"] == XIXING
    article_id = made["id"]
    assert (
        client.post(f"{ADMIN}/{article_id}/submit", headers=auth_headers(officer)).json()["latest"][
            "state"
        ]
        == "submitted"
    )
    assert_problem(
        client.post(f"{ADMIN}/{article_id}/publish", headers=auth_headers(officer)),
        403,
        "forbidden",
    )
    assert_problem(
        client.patch(f"{ADMIN}/{article_id}", json={"title": "改"}, headers=auth_headers(other)),
        403,
        "outside_township",
    )
    county_article = make_article(session, publish=False)
    assert_problem(
        client.patch(
            f"{ADMIN}/{county_article}", json={"title": "改"}, headers=auth_headers(officer)
        ),
        403,
        "outside_township",
    )
    assert [a["id"] for a in client.get(ADMIN, headers=auth_headers(officer)).json()["items"]] == [
        article_id
    ]
    villager_clerk = make_staff(session, role=Role.village_clerk, region_code="511923102205")
    assert_problem(
        client.post(ADMIN, json=NEW, headers=auth_headers(villager_clerk)), 403, "forbidden"
    )
    published = client.post(f"{ADMIN}/{article_id}/publish", headers=auth_headers(editor(session)))
    assert published.json()["published_version"] == 1


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("你好<script>alert(1)</script>", "<script>"),
        ("看视频 <iframe src='https://x.example'></iframe>", "<iframe>"),
        ("[点这里](javascript:alert(1))", "javascript:"),
        ("<JavaScript:alert(1)>", "JavaScript:"),
        ("![图](https://tracker.example/p.png)", "不是本系统的图片"),
        ("![图](/api/v1/article-images/12345)", "不属于这篇文章"),
    ],
)
def test_unsafe_markdown_is_refused_and_nothing_is_stored(
    client: TestClient, session: Session, body: str, words: str
) -> None:
    headers = auth_headers(editor(session))
    before = session.scalar(select(func.count()).select_from(ArticleVersion))
    refused = client.post(ADMIN, json={**NEW, "body_markdown": body}, headers=headers)
    problem = assert_problem(refused, 422, "article_markdown_unsafe")
    assert words in problem["detail"]
    assert session.scalar(select(func.count()).select_from(ArticleVersion)) == before
    article_id = make_article(session, publish=False)
    edited = client.patch(f"{ADMIN}/{article_id}", json={"body_markdown": body}, headers=headers)
    assert_problem(edited, 422, "article_markdown_unsafe")


def test_bad_fields_are_chinese_problems(client: TestClient, session: Session) -> None:
    headers = auth_headers(editor(session))
    for bad in (
        {**NEW, "column": "sports"},
        {**NEW, "title": ""},
        {
            **NEW,
            "publish_at": "2026-12-01T08:00:00+08:00",
            "unpublish_at": "2026-11-01T08:00:00+08:00",
        },
        {**NEW, "publish_at": 1700000000},
        {**NEW, "extra": 1},
    ):
        assert_problem(client.post(ADMIN, json=bad, headers=headers), 422, "validation_failed")
    assert_problem(client.post(ADMIN, json=NEW), 401, "authentication_required")
    assert_problem(client.get("/api/v1/articles", params={"column": "x"}), 422, "validation_failed")


def test_an_edit_that_clears_the_summary_and_author_keeps_the_rest(
    client: TestClient, session: Session
) -> None:
    """null clears an optional field (summary, author) and leaves a required one (column,
    title, body) as it was; never a 500 (schemathesis found one)."""
    staff = editor(session)
    article_id = make_article(session, title="旧标题", actor=staff)
    cleared = dict.fromkeys(("column", "summary", "author", "body_markdown"))
    edit = {"title": "新标题", **cleared}
    edited = client.patch(f"{ADMIN}/{article_id}", json=edit, headers=auth_headers(staff))
    assert edited.status_code == 200, edited.text
    latest = edited.json()["latest"]
    assert (latest["title"], latest["summary"], latest["author"]) == ("新标题", "", "")
