"""Chinese full-text search, one index for several kinds of document, the same on SQLite and
PostgreSQL.

Chinese has no spaces between words, so text is indexed as overlapping character bigrams
(城乡居民 → 城乡 乡居 居民) followed by the run's last character alone (民); other words are
indexed lower-cased. A query is cut the same way and every run of it must appear as a phrase,
so a word of two or more characters is found wherever it stands in a sentence (which trigrams
cannot do for two-character words), and a one-character query matches as a prefix.

Each document is a (kind, ref_id) pair — a policy, an article, a case… — with a title, a
summary and a body. A new kind is one line in `KINDS` (its number is stored: never reuse one).

- SQLite: the FTS5 table `search_fts` (unicode61 tokenizer; columns title, summary, body;
  rowid = kind number << 32 | ref_id, so one kind is a rowid range), ranked by bm25 with the
  title weighted highest.
- PostgreSQL: the table `search_fts` (kind number, ref_id, `terms`: tsvector of the same terms
  in the 'simple' configuration, title weight A, summary B, body D, GIN index; `head`: the title
  and summary alone), ranked by ts_rank of the head. A body's vector is large, kept compressed
  out of line: reading it for every hit to rank it cost more than the search (see
  docs/performance.md#article-search), so the index finds the hits and the small head ranks
  them; hits in the body alone keep the caller's order.

Both are made by the migration, not by models. The caller decides what is public and keeps the
index in step with `write` / `remove`, in its own transaction. `hits` ranks every document whose
title matches before every other (score ≥ 1), then by the database's relevance (< 1).
"""

import html
import re
import unicodedata
from collections.abc import Sequence

from sqlalchemy import Float, Integer, Subquery, text
from sqlalchemy.orm import Session

# kind → the number stored with its documents
KINDS: dict[str, int] = {
    "policy": 1,
    "article": 2,
    "case": 3,
    "question": 4,
}

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")
_CJK_RUN = re.compile(rf"[{_CJK}]+")


def runs(value: str) -> list[str]:
    """The CJK runs and other words of `value`, normalised (NFKC, lower case)."""
    return [m.group(0) for m in _RUNS.finditer(unicodedata.normalize("NFKC", value).lower())]


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def terms(value: str) -> str:
    """`value` as the space-separated terms the index holds."""
    out: list[str] = []
    for run in runs(value):
        if _CJK_RUN.fullmatch(run) and len(run) > 1:
            out.extend(_bigrams(run))
        out.append(run[-1] if _CJK_RUN.fullmatch(run) else run)
    return " ".join(out)


def _fts5_query(query_runs: Sequence[str]) -> str:
    parts = []
    for run in query_runs:
        if _CJK_RUN.fullmatch(run) and len(run) > 1:
            parts.append('"' + " ".join(_bigrams(run)) + '"')
        elif _CJK_RUN.fullmatch(run):
            parts.append(f'"{run}"*')
        else:
            parts.append(f'"{run}"')
    return " AND ".join(parts)


def _tsquery(query_runs: Sequence[str], *, weight: str = "") -> str:
    # runs hold only word characters, so quoting them in '' is safe; `weight` limits the
    # match to the terms of that weight (A: the title)
    label = f":{weight}" if weight else ""
    parts = []
    for run in query_runs:
        if _CJK_RUN.fullmatch(run) and len(run) > 1:
            parts.append("(" + " <-> ".join(f"'{b}'{label}" for b in _bigrams(run)) + ")")
        elif _CJK_RUN.fullmatch(run):
            parts.append(f"'{run}':*{weight}")
        else:
            parts.append(f"'{run}'{label}")
    return " & ".join(parts)


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _number(kind: str) -> int:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown search kind {kind!r}") from None


def _rowid(kind: str, ref_id: int) -> int:
    return _number(kind) << 32 | ref_id


def remove(session: Session, kind: str, ref_id: int) -> None:
    """Take the document out of the index (nothing happens when it is not there)."""
    if _is_postgresql(session):
        session.execute(
            text("DELETE FROM search_fts WHERE kind = :kind AND ref_id = :id"),
            {"kind": _number(kind), "id": ref_id},
        )
    else:
        session.execute(
            text("DELETE FROM search_fts WHERE rowid = :rowid"), {"rowid": _rowid(kind, ref_id)}
        )


def write(
    session: Session, kind: str, ref_id: int, *, title: str, summary: str = "", body: str = ""
) -> None:
    """Index the document's text, replacing what was indexed for it."""
    remove(session, kind, ref_id)
    if _is_postgresql(session):
        insert = (
            "INSERT INTO search_fts (kind, ref_id, terms, head) SELECT :kind, :id,"
            " head || setweight(to_tsvector('simple', :body), 'D'), head FROM (SELECT"
            " setweight(to_tsvector('simple', :title), 'A')"
            " || setweight(to_tsvector('simple', :summary), 'B') AS head) AS made"
        )
    else:
        insert = (
            "INSERT INTO search_fts (rowid, title, summary, body)"
            " VALUES (:rowid, :title, :summary, :body)"
        )
    session.execute(
        text(insert),
        {
            "kind": _number(kind),
            "id": ref_id,
            "rowid": _rowid(kind, ref_id),
            "title": terms(title),
            "summary": terms(summary),
            "body": terms(body),
        },
    )


def hits(session: Session, kind: str, query_runs: Sequence[str]) -> Subquery:
    """(ref_id, score) of every document of `kind` that matches every run; a higher score is
    better, and every document whose title matches scores above every other."""
    if _is_postgresql(session):
        stmt = text(
            # 1 - 1 / (1 + rank) keeps the relevance below 1; only the small head is read
            "SELECT ref_id, CASE WHEN head @@ to_tsquery('simple', :in_title) THEN 1 ELSE 0 END"
            " + 1 - 1 / (1 + ts_rank(head, to_tsquery('simple', :match))) AS score"
            " FROM search_fts WHERE kind = :kind AND terms @@ to_tsquery('simple', :match)"
        ).bindparams(
            kind=_number(kind),
            match=_tsquery(query_runs),
            in_title=_tsquery(query_runs, weight="A"),
        )
    else:
        # bm25 weights of the columns title, summary, body; bm25 is lower for better matches
        stmt = text(
            "SELECT rowid - :low AS ref_id,"
            " (rowid IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :in_title"
            "   AND rowid >= :low AND rowid < :high))"
            " + 1 - 1 / (1 - bm25(search_fts, 10.0, 4.0, 1.0)) AS score"
            " FROM search_fts WHERE search_fts MATCH :match AND rowid >= :low AND rowid < :high"
        ).bindparams(
            low=_number(kind) << 32,
            high=(_number(kind) + 1) << 32,
            match=_fts5_query(query_runs),
            in_title="title : (" + _fts5_query(query_runs) + ")",
        )
    return stmt.columns(ref_id=Integer, score=Float).subquery("hits")


def snippet(texts: Sequence[str], query_runs: Sequence[str], *, width: int = 60) -> str:
    """About `width` characters of the first text where a query run occurs, HTML-escaped, with
    every occurrence in it marked `<mark>…</mark>`. The first text, cut, when none matches."""
    pattern = re.compile(
        "|".join(re.escape(r) for r in sorted(query_runs, key=len, reverse=True)), re.IGNORECASE
    )
    for candidate in texts:
        flat = " ".join(candidate.split())
        found = pattern.search(flat)
        if found is None:
            continue
        start = max(0, found.start() - width // 4)
        end = min(len(flat), start + width)
        window = flat[start:end]
        marked: list[str] = []
        position = 0
        for match in pattern.finditer(window):
            marked.append(html.escape(window[position : match.start()]))
            marked.append(f"<mark>{html.escape(match.group(0))}</mark>")
            position = match.end()
        marked.append(html.escape(window[position:]))
        return ("…" if start else "") + "".join(marked) + ("…" if end < len(flat) else "")
    first = " ".join(texts[0].split()) if texts else ""
    return html.escape(first[:width]) + ("…" if len(first) > width else "")
