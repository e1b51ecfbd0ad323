"""A pytest plugin for scripts/mutation (`-p tests.mutation_plugin`).

mutmut runs pytest again and again in forks of one process, two at a time. conftest names the
test database after the xdist worker, so each run is given a worker name of its own (its
process id), hence a SQLite database of its own, removed when the run ends. Migrating a new
database costs more than most mutants' tests: the first run (mutmut's, before any fork)
migrates its database as conftest's `engine` fixture would and keeps a copy at
MUTATION_TEMPLATE_DB; later runs start from that copy, which the fixture finds up to date.

While mutmut learns which tests call which mutated function, the calls made in the processes a
test starts (a real `lianyun serve`) are counted for the test too (tests/mutation_site).
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

SUBPROCESS_HITS = "MUTATION_SUBPROCESS_HITS"
_SITE = Path(__file__).resolve().parent / "mutation_site"


def _database_file() -> Path:
    from sqlalchemy.engine import make_url

    url = make_url(os.environ["LIANYUN_DATABASE_URL"])
    if url.get_backend_name() != "sqlite" or not url.database:
        raise pytest.UsageError("scripts/mutation runs on SQLite only")
    return Path(url.database)


def _make_template(database: Path, template: Path) -> None:
    from app.db.engines import engine_for, session_scope
    from app.db.migrations import upgrade_head
    from app.regions import service as regions

    upgrade_head()
    with session_scope().begin() as session:
        regions.import_regions(session, regions.read_csv())
    engine_for(os.environ["LIANYUN_DATABASE_URL"]).dispose()  # the WAL goes into the file
    partial = template.with_suffix(".partial")
    shutil.copyfile(database, partial)
    partial.replace(template)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    os.environ["PYTEST_XDIST_WORKER"] = f"mutant{os.getpid()}"
    if _learning() and SUBPROCESS_HITS not in os.environ:
        os.environ[SUBPROCESS_HITS] = tempfile.mkdtemp(prefix="mutation-hits-")
        path = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = os.pathsep.join([str(_SITE), *([path] if path else [])])


def _learning() -> bool:
    """Whether mutmut is learning which tests call which function (its "stats" run)."""
    return os.environ.get("MUTANT_UNDER_TEST") == "stats"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Before mutmut's own hook files this test's calls: add those of the test's processes."""
    hits = os.environ.get(SUBPROCESS_HITS)
    if not hits or not _learning():
        return
    from mutmut.state import state

    for path in Path(hits).glob("*.hits"):
        with path.open("rb") as file:  # a running server may be writing to it: whole lines only
            file.seek(_read_up_to.get(path, 0))
            lines = file.read().rpartition(b"\n")[0]
        if lines:
            _read_up_to[path] = _read_up_to.get(path, 0) + len(lines) + 1
            state()._stats.update(lines.decode().split())


_read_up_to: dict[Path, int] = {}  # how much of each file of calls has been counted


def pytest_sessionstart(session: pytest.Session) -> None:
    """After every pytest_configure, conftest's too, which names the database."""
    template = os.environ.get("MUTATION_TEMPLATE_DB")
    if not template:
        return
    database = _database_file()
    if Path(template).exists():
        shutil.copyfile(template, database)
    else:
        _make_template(database, Path(template))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    database = _database_file()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    hits = os.environ.pop(SUBPROCESS_HITS, None)
    if hits:
        shutil.rmtree(hits, ignore_errors=True)
