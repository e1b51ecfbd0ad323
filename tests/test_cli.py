import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from app.cli import main
from app.config import get_settings
from app.db.engines import engine_for
from app.regions.models import Region
from app.regions.service import DEFAULT_CSV, read_csv
from app.screening.models import Flag
from app.screening.rules import RuleCode
from app.security import verify_password
from app.staff.models import Staff


@pytest.fixture
def cli_db(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("LIANYUN_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    yield fresh_database_url
    get_settings.cache_clear()


def _staff(url: str, username: str) -> Staff | None:
    with sessionmaker(engine_for(url))() as session:
        return session.scalar(select(Staff).where(Staff.username == username))


def test_demo_loads_regions_and_prints_the_admin_password_once(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo"]) == 0
    first = capsys.readouterr().out
    password = re.search(r"用户名 admin\s+密码 (\S+)", first)
    assert password is not None
    admin = _staff(cli_db, "admin")
    assert admin is not None and admin.role == "county_admin"
    assert verify_password(admin.password_hash, password.group(1))
    poster_url = re.search(
        r"演示海报（佛楼镇三官寨村 · 村务公开栏）：扫码打开 (\S+/i/[a-z0-9]{8})\n", first
    )
    assert poster_url is not None
    assert "疑点筛查：载入 15 个项目的单笔最高标准" in first
    # the H5 app: its address for the poster's village, whom to call, a survey to answer
    assert "手机上直接用（不用安装）：http" in first and "/?village=511923103204" in first
    assert re.search(r"找谁监督：登记 \d+ 个监督电话", first)
    assert re.search(r"民意测评：开始一次演示测评（手机上打开 /surveys/\d+）", first)
    assert "云端话廉：公开 15 条留言和答复" in first
    assert re.search(r"云考堂：题库载入 1[2-9]\d 道题", first)
    assert re.search(r"用户名 fulou\s+密码 \S+", first)  # 佛楼镇's officer, to import cadres
    exam = re.search(r"演示考试已开放（佛楼镇，12 名干部，8 人已交卷）.*exams/(\d+)/report", first)
    assert exam is not None
    assert "宣传教育：载入 12 篇文章" in first and "通报曝光：10 个案例" in first
    with sessionmaker(engine_for(cli_db))() as session:  # the demo screening flags every rule
        assert set(session.scalars(select(Flag.rule).distinct())) == set(RuleCode)

    assert main(["demo"]) == 0
    second = capsys.readouterr().out
    assert password.group(1) not in second and "已存在" in second
    assert poster_url.group(1) in second  # the same poster, not a second one
    assert "单笔最高标准" not in second  # the standards loaded once
    assert "找谁监督" not in second and "民意测评" not in second  # once
    assert "云端话廉" not in second  # the questions too
    assert "云考堂" not in second  # the bank, the exam and its cadres made once
    assert "宣传教育" not in second  # the articles and cases too
    with sessionmaker(engine_for(cli_db))() as session:
        assert session.scalar(select(func.count()).select_from(Region)) == len(read_csv())


def test_create_staff_takes_the_password_from_the_environment(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert main(["import-regions"]) == 0
    monkeypatch.setenv("LIANYUN_STAFF_PASSWORD", "clerk-password-123")
    get_settings.cache_clear()
    code = main(
        [
            "create-staff",
            "--username",
            "clerk1",
            "--role",
            "village_clerk",
            "--region",
            "511923103204",
        ]
    )
    assert code == 0
    assert "clerk-password-123" not in capsys.readouterr().out
    clerk = _staff(cli_db, "clerk1")
    assert clerk is not None and clerk.region_code == "511923103204"
    assert verify_password(clerk.password_hash, "clerk-password-123")


def test_create_staff_without_a_password_and_no_terminal_fails_clearly(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LIANYUN_STAFF_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["migrate"]) == 0
    assert main(["create-staff", "--username", "x1y", "--role", "editor"]) == 2
    assert "LIANYUN_STAFF_PASSWORD" in capsys.readouterr().err


def test_create_staff_rejects_a_bad_role(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LIANYUN_STAFF_PASSWORD", "clerk-password-123")
    get_settings.cache_clear()
    assert main(["migrate"]) == 0
    assert main(["create-staff", "--username", "x1y", "--role", "emperor"]) == 2
    assert "role" in capsys.readouterr().err


def test_production_without_secrets_refuses_with_a_named_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LIANYUN_ENV", "production")
    monkeypatch.delenv("LIANYUN_TIP_KEY")
    get_settings.cache_clear()
    try:
        assert main(["migrate"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert "LIANYUN_" in err and "拒绝启动" in err


def test_openapi_command_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "/api/v1/regions" in schema["paths"]


# --- scripts/serve ----------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
STUB = '#!/usr/bin/env bash\necho "$1 ${LIANYUN_PUBLIC_BASE_URL:-unset} $*"\n'


def _serve_script(tmp_path: Path, env: dict[str, str], dotenv: str = "") -> list[str]:
    """scripts/serve run in a copy of the repository whose setup and `lianyun` only print what
    they were given: the base URL the demo poster and the server will use."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "serve", tmp_path / "scripts" / "serve")
    for stub in (tmp_path / "scripts" / "setup", tmp_path / ".venv" / "bin" / "lianyun"):
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text(STUB if stub.name == "lianyun" else "#!/usr/bin/env bash\n")
        stub.chmod(0o755)
    if dotenv:
        (tmp_path / ".env").write_text(dotenv)
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    done = subprocess.run(
        [str(tmp_path / "scripts" / "serve")],
        env={**keep, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.splitlines()


def test_serve_makes_posters_for_the_port_it_serves_on(tmp_path: Path) -> None:
    demo, serve = _serve_script(tmp_path, {"PORT": "8765"})
    assert demo.startswith("demo http://127.0.0.1:8765 ")
    assert serve.startswith("serve http://127.0.0.1:8765 ") and "--port 8765" in serve


def test_serve_keeps_a_configured_public_base_url(tmp_path: Path) -> None:
    phone = "http://192.168.1.20:8765"
    demo, serve = _serve_script(tmp_path, {"PORT": "8765", "LIANYUN_PUBLIC_BASE_URL": phone})
    assert demo.startswith(f"demo {phone} ") and serve.startswith(f"serve {phone} ")
    (tmp_path / "other").mkdir()
    demo, _ = _serve_script(tmp_path / "other", {}, dotenv=f"LIANYUN_PUBLIC_BASE_URL={phone}\n")
    assert demo.startswith("demo unset ")  # left to the app, which reads .env


def test_import_regions_of_a_newer_year_keeps_what_refers_to_a_dropped_code(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0 and main(["import-regions"]) == 0
    with sessionmaker(engine_for(cli_db)).begin() as session:
        session.add(
            Staff(
                username="tianma",
                display_name="天马村文书",
                password_hash="x",
                role="village_clerk",
                region_code="511923103206",
            )
        )
    lines = DEFAULT_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    newer = tmp_path / "2024.csv"
    newer.write_text(
        "".join(line for line in lines if not line.startswith("511923103206,"))
        + "511923103212,新设村村民委员会,village,511923103000,220\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["import-regions", "--file", str(newer)]) == 0
    out = capsys.readouterr().out
    assert "新增 1，更新 0，" in out and "不再现行 1（保留" in out
    with sessionmaker(engine_for(cli_db))() as session:
        dropped = session.get(Region, "511923103206")
        added = session.get(Region, "511923103212")
        assert dropped is not None and dropped.current is False and dropped.name == "天马村"
        assert added is not None and added.name == "新设村" and added.urban_rural_code == "220"
        clerk = session.scalar(select(Staff).where(Staff.username == "tianma"))
        assert clerk is not None and clerk.region_code == "511923103206"

    broken = tmp_path / "broken.csv"
    broken.write_text("code,name\n511923000000,平昌县\n", encoding="utf-8")
    assert main(["import-regions", "--file", str(broken)]) == 2
    assert "地区未导入：文件缺少列：level、parent_code" in capsys.readouterr().err
