from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

import app.models
from app.db import Base, alembic_config, head_revisions


def test_upgrade_head_gives_exactly_the_models_schema(fresh_database_url: str) -> None:
    command.upgrade(alembic_config(fresh_database_url), "head")
    engine = create_engine(fresh_database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": app.models.include_name}
        )
        diff = compare_metadata(context, Base.metadata)
        assert set(context.get_current_heads()) == head_revisions()
    engine.dispose()
    assert diff == []


def test_downgrade_base_removes_every_table_and_upgrade_works_again(
    fresh_database_url: str,
) -> None:
    config = alembic_config(fresh_database_url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = create_engine(fresh_database_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()
