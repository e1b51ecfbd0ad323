from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from app.cli import main
from app.config import get_settings
from app.db.engines import engine_for
from app.policies import service
from app.policies.models import Policy, PolicyVersion


@pytest.fixture
def cli_db(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("LIANYUN_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    assert main(["migrate"]) == 0
    yield fresh_database_url
    get_settings.cache_clear()


def test_import_policies_publishes_the_content_and_can_run_again(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pages = len(service.read_content())
    assert main(["import-policies"]) == 0
    assert f"政策已导入：新增 {pages}，更新 0，未变 0。" in capsys.readouterr().out
    assert main(["import-policies"]) == 0
    assert f"新增 0，更新 0，未变 {pages}" in capsys.readouterr().out
    with sessionmaker(engine_for(cli_db))() as session:
        assert session.scalar(select(func.count()).select_from(PolicyVersion)) == pages
        published = select(func.count()).where(Policy.published_version_id.is_not(None))
        assert session.scalar(published) == pages


def test_a_missing_directory_fails_clearly(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-policies", "--directory", str(tmp_path / "nowhere")]) == 2
    assert "找不到目录" in capsys.readouterr().err
