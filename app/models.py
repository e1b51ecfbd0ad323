"""Every domain's ORM models, imported once so that `Base.metadata` knows every table. The
modules, not their classes: a domain's models are its own to use (the payout and person models
only through app.subsidies.store)."""

import importlib

DOMAINS_WITH_TABLES = (
    "articles",
    "audit",
    "contacts",
    "exams",
    "forum",
    "inquiries",
    "onboarding",
    "policies",
    "regions",
    "screening",
    "staff",
    "subsidies",
    "surveys",
    "sync",
    "tips",
)
for _domain in DOMAINS_WITH_TABLES:
    importlib.import_module(f"app.{_domain}.models")

# Tables that migrations make by hand and no model describes: full-text indexes (FTS5 on SQLite
# with its shadow tables, a tsvector table on PostgreSQL). Autogenerate leaves them alone.
UNMANAGED_TABLE_PREFIXES = ("search_fts",)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's `include_name` hook: skip the unmanaged tables."""
    return not (type_ == "table" and name is not None and name.startswith(UNMANAGED_TABLE_PREFIXES))
