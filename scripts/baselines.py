"""The baselines the app's lookup and `/healthz` are measured against (scripts/bench_subsidies
over HTTP, scripts/bench_request_cost in process): a plain Starlette app that runs the lookup's
statements on the driver itself, and a bare FastAPI app with the app's request and response
models. Imported by the benchmark scripts; not part of the app."""

from typing import Any

from sqlalchemy.engine import make_url

from app.subsidies.identity import keyed_hash

PEPPER = "bench-pepper-" + "x" * 40


def fresh_postgres_database(url: str) -> None:
    """The PostgreSQL database of `url` dropped (if there) and made again, empty."""
    from sqlalchemy import create_engine, text

    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


# The statements the app's lookup runs, as it compiles them for SQLite (`?` placeholders).
PLAIN_SQL_PERSON = (
    "SELECT person.name_hash, person.name_masked, person.id_masked, person.village_code, "
    "(SELECT coalesce(region_1.name, '') || coalesce(region_2.name, '') || region_3.name "
    "FROM region AS region_3 "
    "LEFT OUTER JOIN region AS region_2 ON region_2.code = region_3.parent_code "
    "LEFT OUTER JOIN region AS region_1 ON region_1.code = region_2.parent_code "
    "WHERE region_3.code = person.village_code) AS village, person.id "
    "FROM person WHERE person.id_hash = ?"
)
PLAIN_SQL_LINES = (
    "SELECT record_id, category_code, item_name, amount_fen, period, paid_on, status, department "
    "FROM payout WHERE person_id = ? ORDER BY period DESC, paid_on DESC, record_id DESC"
)
PLAIN_SQL_POLICIES = (
    "SELECT policy.id, policy_version.items FROM policy "
    "JOIN policy_version ON policy.published_version_id = policy_version.id ORDER BY policy.id DESC"
)


def plain_reads(database_url: str) -> Any:
    """The lookup's statements on the driver itself (stdlib `sqlite3`, or `psycopg`), one
    connection: a function of an ID number giving (person, lines, policies), or None for a
    person not found. For the baselines below, which run it on the event loop."""
    url = make_url(database_url)
    connection: Any
    if url.get_backend_name() == "sqlite":
        import sqlite3

        connection = sqlite3.connect(url.database or "", check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        placeholder = "?"
    else:
        import psycopg

        connection = psycopg.connect(
            host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
        )
        placeholder = "%s"
    person_sql, lines_sql, policies_sql = (
        sql.replace("?", placeholder)
        for sql in (PLAIN_SQL_PERSON, PLAIN_SQL_LINES, PLAIN_SQL_POLICIES)
    )
    pepper = PEPPER.encode()

    def read(id_number: str) -> tuple[Any, list[Any], list[Any]] | None:
        cursor = connection.cursor()
        person = cursor.execute(person_sql, (keyed_hash(pepper, id_number),)).fetchone()
        if person is None:
            return None
        lines = cursor.execute(lines_sql, (person[-1],)).fetchall()
        policies = cursor.execute(policies_sql).fetchall()
        cursor.close()
        return person, lines, policies

    return read


def paid_sums(lines: list[Any]) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """The paid lines' totals and counts by category and by year, as the app makes them."""
    by_category: dict[str, list[int]] = {}
    by_year: dict[str, list[int]] = {}
    for line in lines:
        if line[6] == "paid":
            for sums, key in ((by_category, line[1]), (by_year, line[4][:4])):
                total = sums.setdefault(key, [0, 0])
                total[0] += line[3]
                total[1] += 1
    return by_category, by_year


def plain_app(database_url: str) -> Any:
    """The baseline: a plain Starlette app whose lookup runs the app's statements on the
    driver (`plain_reads`) on the event loop and answers JSON; and a plain `/healthz`. No
    validation, middleware, logging or metrics: what the stack (uvicorn, Starlette, the
    driver) can do."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    read = plain_reads(database_url)

    async def lookup(request: Request) -> JSONResponse:
        body = await request.json()
        found = read(body["id_number"])
        if found is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        person, lines, policies = found
        by_category, by_year = paid_sums(lines)
        return JSONResponse(
            {
                "person": [person[1], person[2], person[3], person[4]],
                "payouts": [[*line[:5], str(line[5]), *line[6:]] for line in lines],
                "by_category": sorted(by_category.items()),
                "by_year": sorted(by_year.items(), reverse=True),
                "policies": len(policies),
            }
        )

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/lookup", lookup, methods=["POST"]), Route("/healthz", healthz)]
    )


def bare_fastapi_app(database_url: str) -> Any:
    """The framework's own floor: FastAPI with a `/healthz` answering a Pydantic model, as the
    app's does, and a `/lookup` that takes the app's request model and answers its response
    model (FastAPI validating the answer, as for a handler that returns a dict), from the
    plain baseline's reads on the event loop. Nothing else: no middleware, logging, metrics,
    rate limit, other routes or SQLAlchemy."""
    from fastapi import FastAPI, HTTPException
    from pydantic import BaseModel

    from app.subsidies.categories import category_name
    from app.subsidies.items import frequency_label
    from app.subsidies.schemas import LookupRequest, LookupResponse

    class Health(BaseModel):
        status: str = "ok"

    app = FastAPI()
    read = plain_reads(database_url)

    @app.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        return Health()

    @app.post("/lookup", response_model=LookupResponse)
    async def lookup(body: LookupRequest) -> dict[str, Any]:
        found = read(body.id_number)
        if found is None:
            raise HTTPException(404)
        person, lines, _ = found
        by_category, by_year = paid_sums(lines)
        return {
            "person": {
                "name_masked": person[1],
                "id_number_masked": person[2],
                "village": person[4],
                "village_code": person[3],
            },
            "summary": {
                "total": sum(total for total, _ in by_category.values()),
                "by_category": [
                    {
                        "category_code": code,
                        "category_name": category_name(code),
                        "total": total,
                        "count": count,
                    }
                    for code, (total, count) in sorted(by_category.items())
                ],
                "by_year": [
                    {"year": int(year), "total": total, "count": count}
                    for year, (total, count) in sorted(by_year.items(), reverse=True)
                ],
            },
            "payouts": [
                {
                    "record_id": line[0],
                    "category_code": line[1],
                    "category_name": category_name(line[1]),
                    "item_name": line[2],
                    "amount": line[3],
                    "period": line[4],
                    "paid_at": line[5],
                    "status": line[6],
                    "department": line[7],
                    "frequency": frequency_label(line[2]),
                    "policy_id": None,
                }
                for line in lines
            ],
        }

    return app
