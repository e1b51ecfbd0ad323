"""Persons get an integer id; payout lines refer to it instead of the person's hash

The payout's person index took each synced line at a random place (the hash is random by
design), so each commit rewrote most of that index's pages. Ids given in the order persons were
first met keep a month's lines together. Existing persons are numbered in the order they were
stored (SQLite's rowid, PostgreSQL's physical order); `payout_version` keeps its hashes.

Revision ID: 4d2b8e61c0a7
Revises: 7c1e2f9a4b60
Create Date: 2026-11-25 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4d2b8e61c0a7"
down_revision: str | None = "7c1e2f9a4b60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HASH_BYTES = 16
LINE_COLUMNS = (
    "record_id",
    "version",
    "village_code",
    "category_code",
    "item_name",
    "amount_fen",
    "period",
    "paid_on",
    "status",
    "department",
    "synced_at",
)
PERSON_COLUMNS = (
    "id_hash",
    "name_hash",
    "name_masked",
    "id_masked",
    "village_code",
    "birth_on",
    "sex",
    "updated_at",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("person", sa.Column("id", sa.Integer(), nullable=True))
        op.execute(
            "UPDATE person SET id = numbered.n FROM (SELECT id_hash,"
            " row_number() OVER (ORDER BY ctid) AS n FROM person) AS numbered"
            " WHERE person.id_hash = numbered.id_hash"
        )
        op.add_column("payout", sa.Column("person_id", sa.Integer(), nullable=True))
        op.execute(
            "UPDATE payout SET person_id = person.id FROM person"
            " WHERE person.id_hash = payout.person_hash"
        )
        op.drop_constraint("fk_payout_person_hash_person", "payout", type_="foreignkey")
        op.drop_index("ix_payout_person_period", table_name="payout")
        op.drop_column("payout", "person_hash")
        op.drop_constraint("pk_person", "person", type_="primary")
        op.alter_column("person", "id", nullable=False)
        op.alter_column("payout", "person_id", nullable=False)
        op.create_primary_key("pk_person", "person", ["id"])
        op.create_unique_constraint("uq_person_id_hash", "person", ["id_hash"])
        _person_key("person_id", "id")
        return
    # SQLite (foreign keys are not enforced while migrating): new tables, filled from the old.
    _set_aside_sqlite()
    _create_person(with_id=True)
    _create_payout("person_id", sa.Integer())
    op.execute(
        f"INSERT INTO person (id, {', '.join(PERSON_COLUMNS)})"  # noqa: S608 (constants only)
        f" SELECT row_number() OVER (ORDER BY rowid), {', '.join(PERSON_COLUMNS)}"
        " FROM _person_old"
    )
    _copy_payouts_sqlite("person_id", "person.id", "person ON person.id_hash = old.person_hash")
    _finish_sqlite("person_id")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("payout", sa.Column("person_hash", sa.LargeBinary(HASH_BYTES)))
        op.execute(
            "UPDATE payout SET person_hash = person.id_hash FROM person"
            " WHERE person.id = payout.person_id"
        )
        op.drop_constraint("fk_payout_person_id_person", "payout", type_="foreignkey")
        op.drop_index("ix_payout_person_period", table_name="payout")
        op.drop_column("payout", "person_id")
        op.drop_constraint("uq_person_id_hash", "person", type_="unique")
        op.drop_constraint("pk_person", "person", type_="primary")
        op.drop_column("person", "id")
        op.create_primary_key("pk_person", "person", ["id_hash"])
        op.alter_column("payout", "person_hash", nullable=False)
        _person_key("person_hash", "id_hash")
        return
    _set_aside_sqlite()
    _create_person(with_id=False)
    _create_payout("person_hash", sa.LargeBinary(HASH_BYTES))
    op.execute(
        f"INSERT INTO person ({', '.join(PERSON_COLUMNS)})"  # noqa: S608 (constants only)
        f" SELECT {', '.join(PERSON_COLUMNS)} FROM _person_old ORDER BY id"
    )
    _copy_payouts_sqlite("person_hash", "p.id_hash", "_person_old AS p ON p.id = old.person_id")
    _finish_sqlite("person_hash")


def _person_key(column: str, person_column: str) -> None:
    """The payout's reference to its person, and the index the lookup reads by."""
    op.create_foreign_key(
        f"fk_payout_{column}_person", "payout", "person", [column], [person_column]
    )
    op.create_index("ix_payout_person_period", "payout", [column, "period"])


def _set_aside_sqlite() -> None:
    """The person and payout tables renamed out of the way, their indexes (whose names are the
    new tables') dropped."""
    for index, table in (
        ("ix_payout_person_period", "payout"),
        ("ix_payout_village_period", "payout"),
        ("ix_person_village_code", "person"),
    ):
        op.drop_index(index, table_name=table)
    op.rename_table("payout", "_payout_old")
    op.rename_table("person", "_person_old")


def _create_person(*, with_id: bool) -> None:
    key = (
        [
            sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
            sa.PrimaryKeyConstraint("id", name="pk_person"),
            sa.UniqueConstraint("id_hash", name="uq_person_id_hash"),
        ]
        if with_id
        else [sa.PrimaryKeyConstraint("id_hash", name="pk_person")]
    )
    op.create_table(
        "person",
        sa.Column("id_hash", sa.LargeBinary(HASH_BYTES), nullable=False),
        sa.Column("name_hash", sa.LargeBinary(HASH_BYTES), nullable=False),
        sa.Column("name_masked", sa.String(length=32), nullable=False),
        sa.Column("id_masked", sa.String(length=18), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("birth_on", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["village_code"], ["region.code"], name="fk_person_village_code_region"
        ),
        *key,
    )


def _create_payout(person_column: str, person_type: sa.types.TypeEngine[object]) -> None:
    person_key = "id" if person_column == "person_id" else "id_hash"
    op.create_table(
        "payout",
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(person_column, person_type, nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("category_code", sa.String(length=2), nullable=False),
        sa.Column("item_name", sa.String(length=64), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            [person_column], [f"person.{person_key}"], name=f"fk_payout_{person_column}_person"
        ),
        sa.ForeignKeyConstraint(
            ["village_code"], ["region.code"], name="fk_payout_village_code_region"
        ),
        sa.PrimaryKeyConstraint("record_id", name="pk_payout"),
        sqlite_with_rowid=False,
    )


def _copy_payouts_sqlite(person_column: str, person_value: str, join: str) -> None:
    """Every line of the old payout table, its person as `person_value` from `join`."""
    columns = ", ".join(LINE_COLUMNS)
    selected = ", ".join(f"old.{c}" for c in LINE_COLUMNS)
    op.execute(
        f"INSERT INTO payout ({columns}, {person_column})"  # noqa: S608 (constants only)
        f" SELECT {selected}, {person_value} FROM _payout_old AS old JOIN {join}"
    )


def _finish_sqlite(person_column: str) -> None:
    op.drop_table("_payout_old")
    op.drop_table("_person_old")
    op.create_index("ix_person_village_code", "person", ["village_code"])
    op.create_index("ix_payout_person_period", "payout", [person_column, "period"])
    op.create_index(
        "ix_payout_village_period", "payout", ["village_code", "period", "category_code"]
    )
