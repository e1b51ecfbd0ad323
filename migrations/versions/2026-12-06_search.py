"""search: one index for policies, articles, cases (app/search), replacing policy_fts

Revision ID: 5e1a7c0d2b34
Revises: f1478ed6908d
Create Date: 2026-12-06 16:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5e1a7c0d2b34"
down_revision: str | None = "f1478ed6908d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Policies are kind 1 (app.search.KINDS["policy"]): rowids 1 << 32 = 4294967296 up to 2 << 32.


def upgrade() -> None:
    # Made by hand because no model describes them (app.models.UNMANAGED_TABLE_PREFIXES).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE search_fts ("
            " kind SMALLINT NOT NULL, ref_id INTEGER NOT NULL, terms TSVECTOR NOT NULL,"
            " PRIMARY KEY (kind, ref_id))"
        )
        op.execute("CREATE INDEX ix_search_fts_terms ON search_fts USING gin (terms)")
        op.execute(
            "INSERT INTO search_fts (kind, ref_id, terms)"
            " SELECT 1, policy_id, terms FROM policy_fts"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(title, summary, body, tokenize='unicode61')"
        )
        op.execute(
            "INSERT INTO search_fts (rowid, title, summary, body)"
            " SELECT 4294967296 | rowid, title, summary, body FROM policy_fts"
        )
    op.execute("DROP TABLE policy_fts")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE policy_fts ("
            " policy_id INTEGER PRIMARY KEY REFERENCES policy (id) ON DELETE CASCADE,"
            " terms TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_policy_fts_terms ON policy_fts USING gin (terms)")
        op.execute(
            "INSERT INTO policy_fts (policy_id, terms)"
            " SELECT ref_id, terms FROM search_fts WHERE kind = 1"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE policy_fts USING fts5(title, summary, body, tokenize='unicode61')"
        )
        op.execute(
            "INSERT INTO policy_fts (rowid, title, summary, body)"
            " SELECT rowid - 4294967296, title, summary, body FROM search_fts"
            " WHERE rowid >= 4294967296 AND rowid < 8589934592"
        )
    op.execute("DROP TABLE search_fts")
