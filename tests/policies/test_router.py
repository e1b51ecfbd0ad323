from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.policies import service
from app.staff.models import Role
from tests.asserts import assert_problem
from tests.factories import COUNTY, FOLOU, SANGUANZHAI, auth_headers, make_staff
from tests.policies.factories import make_policy

ADMIN = "/api/v1/admin/policies"
NEW_POLICY: dict[str, Any] = {
    "category_code": "09",
    "title": "村级护林员补贴",
    "summary": "在村里当护林员的，每月领补贴。",
    "department": "县林业局",
    "items": ["护林员补贴"],
    "body_md": "## 谁能享受\n\n村里选聘的护林员。\n",
}


@pytest.fixture
def imported(session: Session) -> None:
    service.import_policies(session)


@pytest.fixture
def editor_headers(session: Session) -> dict[str, str]:
    return auth_headers(make_staff(session, role=Role.editor))


# --- public ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("imported")
def test_the_eleven_categories_with_their_policy_counts(client: TestClient) -> None:
    response = client.get("/api/v1/policy-categories")
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 11
    assert items[0] == {"code": "01", "name": "社会救助", "policy_count": 3}
    assert items[10]["name"] == "计划生育" and items[10]["policy_count"] == 3  # 奖扶, 特扶, 育儿
    assert all(c["policy_count"] >= 1 for c in items)


@pytest.mark.usefixtures("imported")
def test_the_list_carries_no_body(client: TestClient) -> None:
    response = client.get("/api/v1/policies", params={"size": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == len(service.read_content())
    assert body["page"] == 1 and body["size"] == 5
    item = body["items"][0]
    assert set(item) == {
        "id",
        "category_code",
        "category_name",
        "title",
        "summary",
        "department",
        "published_at",
        "snippet",
    }
    assert item["category_name"] == "社会救助" and item["snippet"] is None
    assert item["published_at"].endswith("+08:00")


@pytest.mark.usefixtures("imported")
def test_the_list_by_category(client: TestClient) -> None:
    response = client.get("/api/v1/policies", params={"category": "06"})
    titles = [p["title"] for p in response.json()["items"]]
    assert sorted(titles) == ["困难残疾人生活补贴", "重度残疾人护理补贴"]
    assert_problem(
        client.get("/api/v1/policies", params={"category": "12"}), 422, "validation_failed"
    )


@pytest.mark.usefixtures("imported")
def test_search_finds_dibao_first_with_a_marked_snippet(client: TestClient) -> None:
    response = client.get("/api/v1/policies", params={"q": "低保"})
    assert response.status_code == 200
    first = response.json()["items"][0]
    assert first["title"] == "低保"
    assert "<mark>低保</mark>" in first["snippet"]
    assert "body_html" not in first


@pytest.mark.usefixtures("imported")
def test_a_policy_in_full(client: TestClient) -> None:
    listed = client.get("/api/v1/policies", params={"q": "退耕还林"}).json()["items"]
    response = client.get(f"/api/v1/policies/{listed[0]['id']}")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "退耕还林补助" and body["category_name"] == "林业生态"
    assert body["items"] == ["退耕还林补助"] and body["version"] == 1
    assert body["department"] == "平昌县林业局"
    sections = ("谁能领", "能领多少", "怎么申请", "要多久", "不批怎么办", "找谁问", "政策依据")
    at = [body["body_html"].index(f"<h2>{section}</h2>") for section in sections]
    assert at == sorted(at)
    assert "第一年500元" in body["body_html"] and "150元" not in body["body_html"]
    assert "body_md" not in body


def test_unknown_and_unpublished_policies_are_404(client: TestClient, session: Session) -> None:
    draft = make_policy(session, published=False)
    assert_problem(client.get("/api/v1/policies/999999"), 404, "not_found")
    assert_problem(client.get(f"/api/v1/policies/{draft.id}"), 404, "not_found")
    assert_problem(client.get("/api/v1/policies/abc"), 422, "validation_failed")


# --- small and fast ----------------------------------------------------------------------------


@pytest.mark.usefixtures("imported")
@pytest.mark.parametrize(
    "url", ["/api/v1/policy-categories", "/api/v1/policies?q=低保", "/api/v1/policies"]
)
def test_a_repeat_with_the_etag_is_304_without_a_body(client: TestClient, url: str) -> None:
    first = client.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('W/"')  # weak: the gzip'd and the plain body share it
    assert first.headers["cache-control"] == "public, max-age=3600"

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == "public, max-age=3600"

    other = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == first.content


def test_the_etag_of_a_policy_changes_when_a_new_version_is_published(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    policy = make_policy(session)
    url = f"/api/v1/policies/{policy.id}"
    etag = client.get(url).headers["etag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304

    client.patch(f"{ADMIN}/{policy.id}", headers=editor_headers, json={"summary": "改过了。"})
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304  # a draft only
    client.post(f"{ADMIN}/{policy.id}/submit", headers=editor_headers)
    client.post(f"{ADMIN}/{policy.id}/publish", headers=editor_headers)

    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["summary"] == "改过了。"
    assert changed.headers["etag"] != etag


def test_errors_are_not_cached(client: TestClient) -> None:
    response = client.get("/api/v1/policies/999999")
    assert response.status_code == 404
    assert "etag" not in response.headers and "cache-control" not in response.headers


@pytest.mark.usefixtures("imported")
def test_large_answers_are_gzipped(client: TestClient) -> None:
    response = client.get(
        "/api/v1/policies", params={"size": 100}, headers={"Accept-Encoding": "gzip"}
    )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < len(response.content)
    assert response.json()["total"] == len(service.read_content())


# --- staff editing -----------------------------------------------------------------------------


def test_an_editors_draft_is_invisible_until_published_and_audited(
    client: TestClient, session: Session
) -> None:
    editor = make_staff(session, role=Role.editor)
    headers = auth_headers(editor)

    created = client.post(ADMIN, headers=headers, json=NEW_POLICY)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["published_version"] is None
    assert policy["latest"]["state"] == "draft" and policy["latest"]["number"] == 1
    assert policy["latest"]["created_by_id"] == editor.id
    url = f"/api/v1/policies/{policy['id']}"
    assert_problem(client.get(url), 404, "not_found")
    assert client.get("/api/v1/policies", params={"q": "护林员"}).json()["total"] == 0
    counts = client.get("/api/v1/policy-categories").json()["items"]
    assert counts[8]["policy_count"] == 0

    submitted = client.post(f"{ADMIN}/{policy['id']}/submit", headers=headers)
    assert submitted.status_code == 200 and submitted.json()["latest"]["state"] == "submitted"
    assert_problem(client.get(url), 404, "not_found")

    published = client.post(f"{ADMIN}/{policy['id']}/publish", headers=headers)
    assert published.status_code == 200 and published.json()["published_version"] == 1
    assert client.get(url).json()["title"] == "村级护林员补贴"
    assert client.get("/api/v1/policies", params={"q": "护林员"}).json()["total"] == 1

    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "policy", AuditEntry.entity_id == str(policy["id"]))
        .order_by(AuditEntry.id)
    ).all()
    assert [e.action for e in entries] == ["policy.create", "policy.submit", "policy.publish"]
    assert all(e.actor_id == editor.id for e in entries)
    assert entries[0].after is not None and entries[0].after["title"] == "村级护林员补贴"
    assert entries[2].before is not None and entries[2].before["state"] == "submitted"
    assert entries[2].after is not None and entries[2].after["state"] == "published"


def test_editing_a_published_policy_keeps_it_public_until_the_new_version_is_published(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    policy = make_policy(session, title="旧标题")
    url = f"/api/v1/policies/{policy.id}"

    edited = client.patch(f"{ADMIN}/{policy.id}", headers=editor_headers, json={"title": "新标题"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["latest"]["number"] == 2 and edited.json()["published_version"] == 1
    assert client.get(url).json()["title"] == "旧标题"

    client.post(f"{ADMIN}/{policy.id}/submit", headers=editor_headers)
    client.post(f"{ADMIN}/{policy.id}/publish", headers=editor_headers)
    public = client.get(url).json()
    assert public["title"] == "新标题" and public["version"] == 2

    history = client.get(f"{ADMIN}/{policy.id}/versions", headers=editor_headers).json()
    assert [(v["number"], v["state"], v["title"]) for v in history["items"]] == [
        (2, "published", "新标题"),
        (1, "superseded", "旧标题"),
    ]
    update = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "policy.update", AuditEntry.entity_id == str(policy.id)
        )
    ).one()
    assert update.before is not None and update.before["title"] == "旧标题"
    assert update.after is not None and update.after["title"] == "新标题"


def test_unpublish_takes_a_policy_off_the_public_api(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    policy = make_policy(session, title="要撤下的政策")
    response = client.post(f"{ADMIN}/{policy.id}/unpublish", headers=editor_headers)
    assert response.status_code == 200 and response.json()["published_version"] is None
    assert_problem(client.get(f"/api/v1/policies/{policy.id}"), 404, "not_found")
    assert client.get("/api/v1/policies", params={"q": "撤下"}).json()["total"] == 0
    admin_view = client.get(f"{ADMIN}/{policy.id}", headers=editor_headers).json()
    assert admin_view["latest"]["state"] == "withdrawn"
    assert_problem(
        client.post(f"{ADMIN}/{policy.id}/unpublish", headers=editor_headers), 422, "invalid_state"
    )


def test_hostile_markdown_is_neutralised_for_villagers(
    client: TestClient, session: Session
) -> None:
    headers = auth_headers(make_staff(session, role=Role.county_admin))
    hostile = (
        "## 说明\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[点我](javascript:alert(1))\n\n<iframe src=https://evil.example></iframe>\n"
    )
    created = client.post(ADMIN, headers=headers, json={**NEW_POLICY, "body_md": hostile})
    policy_id = created.json()["id"]
    client.post(f"{ADMIN}/{policy_id}/submit", headers=headers)
    client.post(f"{ADMIN}/{policy_id}/publish", headers=headers)

    body_html = client.get(f"/api/v1/policies/{policy_id}").json()["body_html"]
    assert "<h2>说明</h2>" in body_html
    for bad in ("<script", "<img", "<iframe", "href="):  # the javascript: link is no link
        assert bad not in body_html
    assert "&lt;script&gt;" in body_html  # raw HTML is shown as text, not run


def test_steps_out_of_order_are_422(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    policy_id = client.post(ADMIN, headers=editor_headers, json=NEW_POLICY).json()["id"]
    body = assert_problem(
        client.post(f"{ADMIN}/{policy_id}/publish", headers=editor_headers), 422, "invalid_state"
    )
    assert "提交" in body["detail"]
    assert_problem(client.post(f"{ADMIN}/999999/submit", headers=editor_headers), 404, "not_found")


def test_slugs_are_unique_and_input_is_checked(
    client: TestClient, editor_headers: dict[str, str]
) -> None:
    first = client.post(ADMIN, headers=editor_headers, json={**NEW_POLICY, "slug": "huliyuan"})
    assert first.status_code == 201 and first.json()["slug"] == "huliyuan"
    again = client.post(ADMIN, headers=editor_headers, json={**NEW_POLICY, "slug": "huliyuan"})
    assert_problem(again, 409, "conflict")
    bad = client.post(ADMIN, headers=editor_headers, json={**NEW_POLICY, "category_code": "12"})
    problem = assert_problem(bad, 422, "validation_failed")
    assert problem["errors"][0]["field"] == "category_code"


def test_staff_see_every_policy_with_its_latest_state(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    public = make_policy(session, title="已发布的", category_code="02")
    draft = make_policy(session, title="草稿", category_code="02", published=False)
    response = client.get(ADMIN, headers=editor_headers, params={"category": "02"})
    assert response.status_code == 200
    rows = {p["id"]: p for p in response.json()["items"]}
    assert rows[public.id]["state"] == "published" and rows[public.id]["published_version"] == 1
    assert rows[draft.id]["state"] == "draft" and rows[draft.id]["published_version"] is None


@pytest.mark.parametrize(
    ("role", "region_code"),
    [
        (Role.village_clerk, SANGUANZHAI),
        (Role.township_officer, FOLOU),
        (Role.commission, COUNTY),
    ],
)
def test_only_editors_and_county_admins_edit_policies(
    client: TestClient, session: Session, role: Role, region_code: str
) -> None:
    headers = auth_headers(make_staff(session, role=role, region_code=region_code))
    assert_problem(client.post(ADMIN, headers=headers, json=NEW_POLICY), 403, "forbidden")
    assert_problem(client.get(ADMIN, headers=headers), 403, "forbidden")


def test_editing_needs_a_token(client: TestClient, session: Session) -> None:
    policy = make_policy(session)
    assert_problem(client.post(ADMIN, json=NEW_POLICY), 401, "authentication_required")
    assert_problem(client.post(f"{ADMIN}/{policy.id}/unpublish"), 401, "authentication_required")
    assert_problem(client.get(f"{ADMIN}/{policy.id}/versions"), 401, "authentication_required")
