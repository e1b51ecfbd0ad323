from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def tip_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test's attachment store is its own directory."""
    from app.config import get_settings

    store = tmp_path / "tip-store"
    monkeypatch.setenv("LIANYUN_TIP_STORE_DIR", str(store))
    get_settings.cache_clear()
    yield store
    get_settings.cache_clear()
