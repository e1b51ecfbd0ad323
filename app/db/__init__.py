"""The database layer. Import each name from the module that defines it:

- `base`: the declarative base, the naming convention, UTC timestamps, `dialect_insert`;
- `engines`: engines, sessions, transactions, the request's session dependencies;
- `sqlite`: SQLite's pragmas, the execution options it acts on, the writers' turn;
- `postgres`: PostgreSQL's engine, and the foreign-key checks the sync's transactions skip;
- `fastpath`: compiled selects, bulk inserts and the read lane, for the hottest paths only;
- `migrations`: Alembic's configuration and the schema's revisions.
"""
