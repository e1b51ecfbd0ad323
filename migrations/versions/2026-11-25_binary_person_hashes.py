"""Person hashes as 16 binary bytes instead of 64 hex digits

The keyed hashes of ID numbers and names become the first 16 bytes of the same HMAC-SHA256,
stored as bytes: the payout's person index, the one every synced record lands in at random, is
less than half its size. Existing hashes are converted, not recomputed (they cannot be): the
first 32 hex digits of the old hash are the new one. Downgrading writes those 16 bytes back as
32 hex digits, which the old code does not compute; resync after a downgrade.

Revision ID: 7c1e2f9a4b60
Revises: 156ffd1ed1c7
Create Date: 2026-11-25 02:10:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c1e2f9a4b60"
down_revision: str | None = "156ffd1ed1c7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) of every person hash; the payout's foreign key joins the first two.
COLUMNS = (
    ("person", "id_hash"),
    ("payout", "person_hash"),
    ("person", "name_hash"),
    ("payout_version", "person_hash"),
)
FOREIGN_KEY = "fk_payout_person_hash_person"
HASH_BYTES = 16


def _unhex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value[: 2 * HASH_BYTES])


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _retype_postgresql(
            sa.LargeBinary(HASH_BYTES),
            lambda column: f"decode(substr({column}, 1, {2 * HASH_BYTES}), 'hex')",
        )
        return
    # SQLite (foreign keys are not enforced while migrating): convert the values in place, then
    # rebuild the tables with the new declared types.
    bind.connection.driver_connection.create_function(  # type: ignore[union-attr]
        "lianyun_unhex", 1, _unhex, deterministic=True
    )
    _convert_each(sa.func.lianyun_unhex)
    _retype_sqlite(sa.String(64), sa.LargeBinary(HASH_BYTES))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _retype_postgresql(sa.String(64), lambda column: f"encode({column}, 'hex')")
        return
    _convert_each(lambda value: sa.func.lower(sa.func.hex(value)))
    _retype_sqlite(sa.LargeBinary(HASH_BYTES), sa.String(64))


def _retype_postgresql(new: sa.types.TypeEngine[object], using: Callable[[str], str]) -> None:
    """Each hash column to `new`, its values converted by the SQL `using(column)` gives."""
    op.drop_constraint(FOREIGN_KEY, "payout", type_="foreignkey")
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=new, postgresql_using=using(column))
    op.create_foreign_key(FOREIGN_KEY, "payout", "person", ["person_hash"], ["id_hash"])


def _convert_each(convert: Callable[[sa.ColumnClause[object]], object]) -> None:
    for table, column in COLUMNS:
        values = sa.column(column)
        op.execute(sa.table(table, values).update().values({column: convert(values)}))


def _retype_sqlite(old: sa.types.TypeEngine[object], new: sa.types.TypeEngine[object]) -> None:
    for table in ("person", "payout", "payout_version"):
        options = {"sqlite_with_rowid": False} if table == "payout" else {}
        with op.batch_alter_table(table, recreate="always", table_kwargs=options) as batch_op:
            for column in (c for t, c in COLUMNS if t == table):
                batch_op.alter_column(column, existing_type=old, type_=new)
