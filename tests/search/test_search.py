"""The shared search index: kinds kept apart, title matches first, removal."""

from sqlalchemy.orm import Session

from app import search


def _found(session: Session, kind: str, q: str) -> list[int]:
    hits = search.hits(session, kind, search.runs(q))
    return [row.ref_id for row in session.execute(hits.select().order_by(hits.c.score.desc()))]


def test_each_kind_finds_only_its_own_documents(session: Session) -> None:
    search.write(session, "article", 5, title="村务公开", body="每月公开一次账目。")
    search.write(session, "case", 5, title="违规领取低保", body="虚报冒领低保金。")
    assert _found(session, "article", "公开") == [5]
    assert _found(session, "case", "公开") == []
    assert _found(session, "case", "低保") == [5]
    assert _found(session, "policy", "低保") == []


def test_a_title_match_comes_before_any_body_match(session: Session) -> None:
    body = "养老金" * 30  # however often the body says it
    search.write(session, "article", 1, title="村里的新路", body=body)
    search.write(session, "article", 2, title="养老金怎么领", body="去村委会问。")
    assert _found(session, "article", "养老金") == [2, 1]


def test_writing_again_replaces_and_remove_takes_out(session: Session) -> None:
    search.write(session, "article", 3, title="旧标题")
    search.write(session, "article", 3, title="新标题")
    assert _found(session, "article", "旧标题") == []
    assert _found(session, "article", "新标题") == [3]
    search.remove(session, "article", 3)
    search.remove(session, "article", 3)  # twice is fine
    assert _found(session, "article", "新标题") == []


def test_a_large_ref_id_stays_within_its_kind(session: Session) -> None:
    search.write(session, "article", 2**31 - 1, title="边界")
    assert _found(session, "article", "边界") == [2**31 - 1]
    assert _found(session, "case", "边界") == []
