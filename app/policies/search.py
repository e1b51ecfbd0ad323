"""Chinese full-text search over published policies, the same on SQLite and PostgreSQL.

Chinese has no spaces between words, so text is indexed as overlapping character bigrams
(城乡居民 → 城乡 乡居 居民) followed by the run's last character alone (民); other words are
indexed lower-cased. A query is cut the same way and every run of it must appear as a phrase,
so a word of two or more characters is found wherever it stands in a sentence (which trigrams
cannot do for two-character words), and a one-character query matches as a prefix.

- SQLite: the FTS5 table `policy_fts` (unicode61 tokenizer; columns title, summary, body;
  rowid = policy id), ranked by bm25 with the title weighted highest.
- PostgreSQL: the table `policy_fts` (policy id, tsvector of the same terms in the 'simple'
  configuration: title weight A, summary B, body D; GIN index), ranked by ts_rank.

Both are made by the migration, not by models. Only the published version of a policy is
indexed; `write` keeps the index in step and runs in the caller's transaction.
"""

import html
import re
import unicodedata
from collections.abc import Sequence

from sqlalchemy import Float, Integer, Subquery, text
from sqlalchemy.orm import Session

from app.policies.models import PolicyVersion

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


def _tsquery(query_runs: Sequence[str]) -> str:
    # runs hold only word characters, so quoting them in '' is safe
    parts = []
    for run in query_runs:
        if _CJK_RUN.fullmatch(run) and len(run) > 1:
            parts.append("(" + " <-> ".join(f"'{b}'" for b in _bigrams(run)) + ")")
        elif _CJK_RUN.fullmatch(run):
            parts.append(f"'{run}':*")
        else:
            parts.append(f"'{run}'")
    return " & ".join(parts)


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def write(session: Session, policy_id: int, version: PolicyVersion | None) -> None:
    """Index `version` as the searchable text of the policy, or take it out when None."""
    if _is_postgresql(session):
        session.execute(text("DELETE FROM policy_fts WHERE policy_id = :id"), {"id": policy_id})
        insert = (
            "INSERT INTO policy_fts (policy_id, terms) VALUES (:id,"
            " setweight(to_tsvector('simple', :title), 'A')"
            " || setweight(to_tsvector('simple', :summary), 'B')"
            " || setweight(to_tsvector('simple', :body), 'D'))"
        )
    else:
        session.execute(text("DELETE FROM policy_fts WHERE rowid = :id"), {"id": policy_id})
        insert = (
            "INSERT INTO policy_fts (rowid, title, summary, body)"
            " VALUES (:id, :title, :summary, :body)"
        )
    if version is not None:
        session.execute(
            text(insert),
            {
                "id": policy_id,
                "title": terms(version.title),
                "summary": terms(version.summary),
                "body": terms(version.body_text),
            },
        )


def hits(session: Session, query_runs: Sequence[str]) -> Subquery:
    """(policy_id, score) of every published policy that matches; a higher score is better."""
    if _is_postgresql(session):
        stmt = text(
            "SELECT policy_id, ts_rank(terms, to_tsquery('simple', :match)) AS score"
            " FROM policy_fts WHERE terms @@ to_tsquery('simple', :match)"
        ).bindparams(match=_tsquery(query_runs))
    else:
        stmt = text(
            # bm25 weights of the columns title, summary, body; bm25 is lower for better matches
            "SELECT rowid AS policy_id, -bm25(policy_fts, 10.0, 4.0, 1.0) AS score"
            " FROM policy_fts WHERE policy_fts MATCH :match"
        ).bindparams(match=_fts5_query(query_runs))
    return stmt.columns(policy_id=Integer, score=Float).subquery("hits")


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
