"""Chinese search, the same on SQLite (FTS5) and PostgreSQL (tsvector)."""

import pytest
from sqlalchemy.orm import Session

from app import search
from app.pagination import PageParams
from app.policies import service
from app.policies.schemas import PolicyBrief, PolicyUpdate
from app.staff.models import Role
from tests.factories import make_staff
from tests.policies.factories import make_policy

PAGE = PageParams(page=1, size=100)


def _search(session: Session, q: str) -> list[PolicyBrief]:
    return service.list_published(session, category=None, q=q, page=PAGE).items


@pytest.fixture
def imported(session: Session) -> None:
    service.import_policies(session)


def test_terms_are_overlapping_bigrams_and_lower_case_words() -> None:
    assert search.terms("城乡居民") == "城乡 乡居 居民 民"
    assert search.terms("低保，App 12388") == "低保 保 app 12388"
    assert search.terms("钱") == "钱"
    assert search.runs("养老金（ＡＢ）") == ["养老金", "ab"]


@pytest.mark.usefixtures("imported")
def test_dibao_comes_first_for_dibao(session: Session) -> None:
    found = _search(session, "低保")
    assert found[0].title == "低保"
    assert len(found) > 3  # other pages that mention 低保 follow
    assert found[0].snippet is not None and "<mark>低保</mark>" in found[0].snippet


@pytest.mark.usefixtures("imported")
@pytest.mark.parametrize(
    ("q", "first"),
    [
        ("养老金", "农村养老金（城乡居民基础养老金）"),
        ("残疾", "困难残疾人生活补贴"),
        ("危房", "农村危房改造补助"),
    ],
)
def test_title_matches_come_first(session: Session, q: str, first: str) -> None:
    found = _search(session, q)
    titles = [p.title for p in found]
    assert q in titles[0]
    assert first in titles
    in_title = [q in t for t in titles]
    assert in_title == sorted(in_title, reverse=True)  # every title match before the rest


@pytest.mark.usefixtures("imported")
def test_a_two_character_word_in_the_middle_of_a_sentence_is_found(session: Session) -> None:
    # "…可以用手机刷脸，也可以请村干部上门帮忙" — in the body text only, of two pages
    found = _search(session, "刷脸")
    assert sorted(p.title for p in found) == [
        "农村养老金（城乡居民基础养老金）",
        "高龄津贴（80岁以上老人）",
    ]
    assert all(p.snippet is not None and "手机<mark>刷脸</mark>" in p.snippet for p in found)


@pytest.mark.usefixtures("imported")
def test_characters_must_be_adjacent_and_every_word_must_match(session: Session) -> None:
    assert _search(session, "保低") == []
    assert [p.title for p in _search(session, "低保 渐退")] == ["低保"]
    assert _search(session, "！？") == []


def test_a_single_character_matches_anywhere_in_a_word(session: Session) -> None:
    make_policy(session, title="护林补助", body_md="山上的林子要有人看管。")
    assert [p.title for p in _search(session, "林")] == ["护林补助"]
    assert [p.title for p in _search(session, "管")] == ["护林补助"]  # last of its run


def test_the_snippet_is_escaped_around_the_mark(session: Session) -> None:
    make_policy(
        session,
        title="测试",
        summary="摘要",
        body_md="前面说 `<b>` 和 <i>x</i>，再说养老金的事。",
    )
    snippet = _search(session, "养老金")[0].snippet
    assert snippet is not None
    assert "<mark>养老金</mark>" in snippet
    assert "&lt;i&gt;" in snippet and "<i>" not in snippet and "<b>" not in snippet


def test_only_the_published_version_is_searched(session: Session) -> None:
    policy = make_policy(session, title="旧名字", body_md="原来的正文。")
    draft = make_policy(session, title="草稿政策", published=False)
    editor = make_staff(session, role=Role.editor)
    assert _search(session, "草稿") == []

    service.update_policy(session, policy.id, data=PolicyUpdate(title="新名字"), actor=editor)
    assert [p.id for p in _search(session, "旧名字")] == [policy.id]  # draft not yet public
    service.submit_policy(session, policy.id, actor=editor)
    service.publish_policy(session, policy.id, actor=editor)
    assert _search(session, "旧名字") == []
    assert [p.id for p in _search(session, "新名字")] == [policy.id]

    service.unpublish_policy(session, policy.id, actor=editor)
    assert _search(session, "新名字") == []
    assert draft.published_version_id is None


def test_search_respects_the_category(session: Session) -> None:
    make_policy(session, title="补贴甲", category_code="02")
    make_policy(session, title="补贴乙", category_code="03")
    found = service.list_published(session, category="03", q="补贴", page=PAGE)
    assert [p.title for p in found.items] == ["补贴乙"] and found.total == 1
