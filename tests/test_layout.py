"""The code's layout that issue 20 asks to keep: the payout and person tables are the subsidies
domain's alone (its store says every statement on them), and the database layer stays in small
modules a reader can hold in mind."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
PAYOUT_MODELS = "app.subsidies.models"
DB_MODULE_MOST_LINES = 300


def _imports_of(path: Path) -> set[str]:
    package = path.relative_to(APP.parent).parent.parts
    return _imports_in(path.read_text(encoding="utf-8"), package)


def _imports_in(source: str, package: tuple[str, ...]) -> set[str]:
    """The modules `source` (of a module in `package`) imports, as `from X import …` or
    `import X` name them (relative imports resolved), and `importlib.import_module("X")` with a
    literal name."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{module}" if module else base
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return found


def test_only_the_subsidies_domain_imports_the_payout_and_person_models() -> None:
    """app/models.py imports every domain's models module by name, for the metadata only."""
    assert PAYOUT_MODELS in _imports_of(APP / "subsidies" / "store.py")  # the scan sees them
    outside = [
        path.relative_to(APP.parent).as_posix()
        for path in sorted(APP.rglob("*.py"))
        if "subsidies" not in path.relative_to(APP).parts[:1] and PAYOUT_MODELS in _imports_of(path)
    ]
    assert outside == []


def test_the_check_sees_every_spelling_of_an_import_of_the_payout_models() -> None:
    """The scan above would pass on any tree if it missed one."""
    for source, package in (
        ("from app.subsidies.models import Payout", ("app", "disclosures")),
        ("import app.subsidies.models", ("app", "tips")),
        ("from app.subsidies import models", ("app", "sync")),
        ("from ..subsidies.models import Person", ("app", "screening")),
        ("from ..subsidies import models", ("app", "screening")),
        ("from . import models", ("app", "subsidies")),
        ('importlib.import_module("app.subsidies.models")', ("app",)),
    ):
        assert PAYOUT_MODELS in _imports_in(source, package), source
    assert PAYOUT_MODELS not in _imports_in("from app.subsidies import store", ("app", "tips"))


def test_the_metadata_takes_the_models_of_every_domain() -> None:
    """A domain whose models app/models.py leaves out would have tables no migration knows."""
    from app.models import DOMAINS_WITH_TABLES

    assert set(DOMAINS_WITH_TABLES) == {path.parent.name for path in APP.glob("*/models.py")}


def test_no_module_of_the_database_layer_is_over_300_lines() -> None:
    lengths = {
        path.name: len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted((APP / "db").glob("*.py"))
    }
    assert lengths, "app/db holds no module"
    assert {name: n for name, n in lengths.items() if n > DB_MODULE_MOST_LINES} == {}
