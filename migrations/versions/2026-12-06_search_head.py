"""search: on PostgreSQL a small vector of each document's title and summary, to rank by

Revision ID: 7c2d9e4f1a60
Revises: 8d3e61a4c2b7
Create Date: 2026-12-06 17:20:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7c2d9e4f1a60"
down_revision: str | None = "8d3e61a4c2b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # FTS5 ranks from its own index
    op.execute("ALTER TABLE search_fts ADD COLUMN head TSVECTOR")
    op.execute("UPDATE search_fts SET head = ts_filter(terms, '{a,b}')")
    op.execute("ALTER TABLE search_fts ALTER COLUMN head SET NOT NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_fts DROP COLUMN head")
