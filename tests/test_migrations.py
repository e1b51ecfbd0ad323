import hmac

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text

import app.models
from app.db.base import Base
from app.db.migrations import alembic_config, head_revisions


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


def _with_a_village_at(url: str, revision: str) -> tuple[Config, Engine]:
    """The database at `url` upgraded to `revision`, with one village (511923102205)."""
    config = alembic_config(url)
    command.upgrade(config, revision)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO region (code, name, level) VALUES ('511923102205', '村', 'village')")
        )
    return config, engine


def test_hex_person_hashes_become_their_first_16_bytes_and_payouts_stay_found(
    fresh_database_url: str,
) -> None:
    """Stored hashes cannot be recomputed (no ID number is kept): upgrading converts them, and
    a villager's lookup still finds what was synced before."""
    from app.subsidies import identity

    pepper, number = b"pepper", "51192219500101123X"
    old_id = hmac.digest(pepper, number.encode(), "sha256").hex()
    old_name = hmac.digest(pepper, b"name:" + "张三".encode(), "sha256").hex()
    config, engine = _with_a_village_at(fresh_database_url, "156ffd1ed1c7")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO person VALUES (:h, :n, '张*', '511923****123X', '511923102205',"
                " '1950-01-01', 'M', '2026-01-01 00:00:00')"
            ),
            {"h": old_id, "n": old_name},
        )
        conn.execute(
            text(
                "INSERT INTO payout VALUES ('PC-1', 1, :h, '511923102205', '05', '养老金', 16300,"
                " '2026-01', '2026-01-15', 'paid', '社保局', '2026-01-16 00:00:00')"
            ),
            {"h": old_id},
        )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        name_hash, paid = conn.execute(
            text(
                "SELECT person.name_hash, sum(amount_fen) FROM person"
                " JOIN payout ON payout.person_id = person.id"
                " WHERE person.id_hash = :h GROUP BY person.name_hash"
            ),
            {"h": identity.keyed_hash(pepper, number)},
        ).one()
        # the month totals screening reads start from the lines stored before them
        totals = conn.execute(text("SELECT * FROM payout_month_total")).all()
    engine.dispose()
    assert [tuple(row) for row in totals] == [("511923102205", "养老金", "2026-01", 16300, 1)]
    assert bytes(name_hash) == identity.name_hash(pepper, "张三")
    assert paid == 16300
    command.downgrade(config, "156ffd1ed1c7")  # and back, without losing the rows
    with create_engine(fresh_database_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM payout")).scalar_one() == 1


def test_the_policy_index_moves_into_the_shared_search_index(fresh_database_url: str) -> None:
    """Policies indexed before the shared search module are still found after it, and going
    back gives the old index again."""
    from sqlalchemy.orm import Session

    from app import search

    config = alembic_config(fresh_database_url)
    command.upgrade(config, "f1478ed6908d")
    engine = create_engine(fresh_database_url)
    postgresql = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO policy (id, slug, created_at, updated_at)"
                " VALUES (7, 'p', '2026-01-01', '2026-01-01')"
            )
        )
        if postgresql:
            conn.execute(
                text("INSERT INTO policy_fts VALUES (7, to_tsvector('simple', :t))"),
                {"t": search.terms("护林补助")},
            )
        else:
            conn.execute(
                text("INSERT INTO policy_fts (rowid, title, summary, body) VALUES (7, :t, '', '')"),
                {"t": search.terms("护林补助")},
            )
    command.upgrade(config, "head")
    with Session(engine) as session:
        hits = search.hits(session, "policy", search.runs("护林"))
        assert [r.ref_id for r in session.execute(hits.select())] == [7]
        assert list(session.execute(search.hits(session, "article", ["护林"]).select())) == []
    command.downgrade(config, "f1478ed6908d")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM policy_fts")).scalar() == 1
    engine.dispose()


def test_votes_cast_before_the_counts_were_kept_still_count(fresh_database_url: str) -> None:
    """An item awaiting confirmation keeps the votes of its round across the upgrade: the next
    phones complete them, not start again."""
    config, engine = _with_a_village_at(fresh_database_url, "012321b5a327")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO inquiry_meeting (id, kind, region_code, township_code, held_on,"
                " place, answered_by, attendee_count, summary, state, created_at, updated_at)"
                " VALUES (1, 'wenlian', '511923102205', '511923102', '2026-11-01', '院坝',"
                " '镇纪委', 50, '', 'published', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO inquiry_item (id, number, year, seq, meeting_id, region_code,"
                " township_code, published, question, category, answer_on_site,"
                " responsible_unit, original_deadline, deadline, state, registered_on,"
                " funds_recovered_cents, vote_round, reopened_count) VALUES (1, 'WL-2026-0001',"
                " 2026, 1, 1, '511923102205', '511923102', true, '问题', 'dibao', '', '镇民政办',"
                " '2026-12-01', '2026-12-01', 'awaiting_confirmation', '2026-11-01', 0, 2, 0)"
            )
        )
        for n, (round_, resolved) in enumerate(
            [(1, True), (1, True), (1, False), (2, True), (2, True), (2, False)]
        ):
            conn.execute(
                text(
                    "INSERT INTO inquiry_vote (item_id, vote_round, device_hash, resolved,"
                    " voted_on) VALUES (1, :round, :hash, :resolved, '2026-12-02')"
                ),
                {"round": round_, "hash": f"{n:064x}", "resolved": resolved},
            )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        counts = conn.execute(
            text("SELECT votes_resolved, votes_unresolved FROM inquiry_item")
        ).one()
    engine.dispose()
    assert tuple(counts) == (2, 1)  # the current round's only
