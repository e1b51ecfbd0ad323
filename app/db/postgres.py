"""PostgreSQL's engine, and what it does with the execution options of app.db.sqlite.

A transaction with REFERENCES_CHECKED (the sync's) skips the per-row foreign-key checks, as on
SQLite: it runs with `session_replication_role = replica` (SET LOCAL: for that transaction
only), which turns off the triggers that check them. Only a role allowed to set it can (a
superuser, or on PostgreSQL 15 and later one granted `SET ON PARAMETER
session_replication_role`); for any other the checks stay. Every other transaction checks, so
no row the sync refers to can go away (see docs/performance.md#references-checked-by-the-sync).
"""

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from app.db.sqlite import REFERENCES_CHECKED

_MAY_SKIP_CHECKS = "lianyun_may_skip_checks"


def postgres_engine(url: str) -> Engine:
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if not connection.get_execution_options().get(REFERENCES_CHECKED):
            return
        # On the driver itself: SQLAlchemy's execution path costs more than the SET.
        driver: Any = connection.connection.driver_connection
        info = connection.connection.info
        if _MAY_SKIP_CHECKS not in info:
            info[_MAY_SKIP_CHECKS] = _may_set_replication_role(driver)
        if info[_MAY_SKIP_CHECKS]:
            driver.execute("SET LOCAL session_replication_role = replica")

    return engine


def _may_set_replication_role(driver: Any) -> bool:
    if driver.info.server_version >= 150000:
        sql = "SELECT has_parameter_privilege('session_replication_role', 'SET')"
    else:
        sql = "SELECT current_setting('is_superuser') = 'on'"
    return bool(driver.execute(sql).fetchone()[0])
