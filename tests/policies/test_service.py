import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.errors import InvalidState, NotFound
from app.pagination import PageParams
from app.policies import service
from app.policies.models import Policy, PolicyVersion, VersionState
from app.policies.schemas import PolicyCreate, PolicyUpdate
from app.staff.models import Role, Staff
from app.subsidies.categories import CATEGORIES
from tests.factories import make_staff
from tests.policies.factories import make_policy

PAGE = PageParams(page=1, size=100)
DIBAO = "城乡居民最低生活保障金"


def _versions(session: Session, slug: str) -> list[PolicyVersion]:
    policy = session.scalars(select(Policy).where(Policy.slug == slug)).one()
    return list(
        session.scalars(
            select(PolicyVersion)
            .where(PolicyVersion.policy_id == policy.id)
            .order_by(PolicyVersion.number)
        )
    )


def _policy_audits(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_type == "policy")
        )
        or 0
    )


# --- import -----------------------------------------------------------------------------------


def test_import_publishes_real_content_in_all_eleven_categories(session: Session) -> None:
    pages = len(service.read_content())
    summary = service.import_policies(session)

    assert (summary.created, summary.updated, summary.unchanged) == (pages, 0, 0)
    categories = service.category_counts(session).items
    assert [c.code for c in categories] == list(CATEGORIES)
    assert [c.name for c in categories][:2] == ["社会救助", "农业生产"]
    assert all(c.policy_count >= 1 for c in categories)
    assert sum(c.policy_count for c in categories) == pages
    assert {c.code: c.policy_count for c in categories}["01"] == 3

    listed = service.list_published(session, category=None, q=None, page=PAGE)
    assert listed.total == pages
    dibao = next(p for p in listed.items if p.title == "低保")
    detail = service.get_published(session, dibao.id)
    assert "<h2>谁能领</h2>" in detail.body_html and "12345" in detail.body_html
    assert "（示例，以县里公布为准）" in detail.body_html  # an example figure says so
    assert detail.items == [DIBAO] and detail.version == 1
    assert detail.department == "平昌县民政局"


def test_importing_the_same_files_again_changes_nothing(session: Session) -> None:
    service.import_policies(session)
    versions = session.scalar(select(func.count()).select_from(PolicyVersion))
    audits = _policy_audits(session)

    again = service.import_policies(session)

    assert (again.created, again.updated, again.unchanged) == (0, 0, len(service.read_content()))
    assert session.scalar(select(func.count()).select_from(PolicyVersion)) == versions
    assert _policy_audits(session) == audits


def test_a_changed_file_becomes_a_new_published_version_and_the_old_one_is_kept(
    session: Session, tmp_path: Path
) -> None:
    shutil.copy(service.CONTENT_DIR / "01-dibao.md", tmp_path)
    service.import_policies(session, tmp_path)
    path = tmp_path / "01-dibao.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("每人每月540元", "每人每月560元"), encoding="utf-8"
    )

    summary = service.import_policies(session, tmp_path)

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 0)
    first, second = _versions(session, "01-dibao")
    assert first.state == VersionState.superseded and "每人每月540元" in first.body_md
    assert second.state == VersionState.published and "每人每月560元" in second.body_md
    policy_id = second.policy_id
    assert "每人每月560元" in service.get_published(session, policy_id).body_html
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "policy.import").order_by(AuditEntry.id)
    ).all()[-1]
    assert entry.actor_id is None and entry.actor_username == "system"
    assert entry.before is not None and entry.before["version"] == 1
    assert entry.after is not None and entry.after["version"] == 2


def test_reimporting_unchanged_files_keeps_what_staff_published(session: Session) -> None:
    service.import_policies(session)
    editor = make_staff(session, role=Role.editor)
    policy_id = _versions(session, "01-dibao")[0].policy_id
    service.update_policy(session, policy_id, data=PolicyUpdate(title="低保（新）"), actor=editor)
    service.submit_policy(session, policy_id, actor=editor)
    service.publish_policy(session, policy_id, actor=editor)

    service.import_policies(session)

    assert service.get_published(session, policy_id).title == "低保（新）"


def test_a_file_without_its_category_is_refused_with_its_name(
    session: Session, tmp_path: Path
) -> None:
    (tmp_path / "01-broken.md").write_text(
        "---\ntitle: 缺类别\nitems: []\ndepartment: 县民政局\nsummary: 没有类别。\n---\n正文\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"01-broken\.md") as error:
        service.import_policies(session, tmp_path)
    assert "category_code" in str(error.value)


def test_every_item_name_leads_to_its_published_policy(session: Session) -> None:
    service.import_policies(session)
    by_item = service.policy_ids_by_item(session.connection())

    assert set(by_item) == {item for page in service.read_content() for item in page.content.items}
    dibao_id = _versions(session, "01-dibao")[0].policy_id
    assert by_item[DIBAO] == dibao_id
    gongyilin = _versions(session, "03-shengtai-gongyilin")[0].policy_id
    assert by_item["森林生态效益补偿"] == gongyilin  # the item renamed on the card's lists
    assert by_item["生态护林员补助"] == _versions(session, "03-shengtai-huliyuan")[0].policy_id

    service.unpublish_policy(session, dibao_id, actor=make_staff(session, role=Role.editor))
    assert DIBAO not in service.policy_ids_by_item(session.connection())


def test_a_republished_item_list_moves_the_links_at_once(session: Session) -> None:
    policy_id, editor = _create(session)
    service.submit_policy(session, policy_id, actor=editor)
    service.publish_policy(session, policy_id, actor=editor)
    assert service.policy_ids_by_item(session.connection())["学生资助金"] == policy_id

    # The same policy, the same id, only its items changed: read again, not remembered.
    service.update_policy(session, policy_id, data=PolicyUpdate(items=["助学金"]), actor=editor)
    service.submit_policy(session, policy_id, actor=editor)
    service.publish_policy(session, policy_id, actor=editor)

    by_item = service.policy_ids_by_item(session.connection())
    assert by_item.get("助学金") == policy_id
    assert "学生资助金" not in by_item


# --- editing ----------------------------------------------------------------------------------


def _create(session: Session) -> tuple[int, Staff]:
    editor = make_staff(session, role=Role.editor)
    created = service.create_policy(
        session,
        data=PolicyCreate(
            category_code="07",
            title="助学金",
            summary="家庭困难的学生每学期领助学金。",
            department="县教育局",
            items=["学生资助金"],
            body_md="## 谁能享受\n\n家庭困难的在校学生。\n",
        ),
        actor=editor,
    )
    return created.id, editor


def test_a_draft_stays_invisible_until_submitted_and_published(session: Session) -> None:
    policy_id, editor = _create(session)
    assert service.category_counts(session).items[6].policy_count == 0
    with pytest.raises(NotFound):
        service.get_published(session, policy_id)

    service.submit_policy(session, policy_id, actor=editor)
    with pytest.raises(NotFound):
        service.get_published(session, policy_id)
    published = service.publish_policy(session, policy_id, actor=editor)

    assert published.published_version == 1
    assert service.get_published(session, policy_id).title == "助学金"
    assert service.category_counts(session).items[6].policy_count == 1
    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "policy", AuditEntry.entity_id == str(policy_id))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["policy.create", "policy.submit", "policy.publish"]


def test_each_edit_keeps_the_previous_version(session: Session) -> None:
    policy_id, editor = _create(session)
    service.update_policy(
        session,
        policy_id,
        data=PolicyUpdate(summary="第二稿。"),
        actor=editor,
    )
    service.update_policy(
        session,
        policy_id,
        data=PolicyUpdate(summary="第三稿。"),
        actor=editor,
    )

    history = service.list_versions(session, policy_id, page=PAGE)
    assert [(v.number, v.state, v.summary) for v in history.items] == [
        (3, VersionState.draft, "第三稿。"),
        (2, VersionState.superseded, "第二稿。"),
        (1, VersionState.superseded, "家庭困难的学生每学期领助学金。"),
    ]
    assert history.items[0].title == "助学金"  # fields not given are carried over


def test_a_published_policy_changes_only_when_a_newer_version_is_published(
    session: Session,
) -> None:
    policy = make_policy(session, title="旧标题", category_code="03")
    editor = make_staff(session, role=Role.editor)

    service.update_policy(session, policy.id, data=PolicyUpdate(title="新标题"), actor=editor)
    service.submit_policy(session, policy.id, actor=editor)
    assert service.get_published(session, policy.id).title == "旧标题"

    service.publish_policy(session, policy.id, actor=editor)
    assert service.get_published(session, policy.id).title == "新标题"
    states = [v.state for v in service.list_versions(session, policy.id, page=PAGE).items]
    assert states == [VersionState.published, VersionState.superseded]


def test_unpublish_takes_the_policy_off_and_keeps_its_history(session: Session) -> None:
    policy = make_policy(session)
    editor = make_staff(session, role=Role.editor)

    view = service.unpublish_policy(session, policy.id, actor=editor)

    assert view.published_version is None and view.latest.state == VersionState.withdrawn
    with pytest.raises(NotFound):
        service.get_published(session, policy.id)
    with pytest.raises(InvalidState):
        service.unpublish_policy(session, policy.id, actor=editor)


def test_steps_out_of_order_are_refused(session: Session) -> None:
    policy_id, editor = _create(session)
    with pytest.raises(InvalidState):
        service.publish_policy(session, policy_id, actor=editor)
    service.submit_policy(session, policy_id, actor=editor)
    with pytest.raises(InvalidState):
        service.submit_policy(session, policy_id, actor=editor)


def test_an_edit_that_changes_nothing_adds_no_version(session: Session) -> None:
    policy_id, editor = _create(session)
    view = service.update_policy(
        session,
        policy_id,
        data=PolicyUpdate(title="助学金"),
        actor=editor,
    )
    assert view.latest.number == 1
