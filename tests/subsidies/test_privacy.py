"""After a full demo run, no demo person's ID number or full name is anywhere in the database
or in the logs."""

import os
import subprocess
import sys
from pathlib import Path

from app.mockfeed import FeedGenerator, MockFeedConfig
from app.policies.service import CONTENT_DIR
from app.regions.service import DEFAULT_CSV
from app.subsidies.identity import mask_name
from tests.privacy import database_dump

PERSONS, MONTHS = 300, 4


def test_a_full_demo_run_stores_and_logs_no_id_number_and_no_full_name(
    fresh_database_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "LIANYUN_DATABASE_URL": fresh_database_url,
        "LIANYUN_LOG_LEVEL": "DEBUG",
    }
    demo = subprocess.run(
        [sys.executable, "-m", "app", "demo", "--persons", str(PERSONS), "--months", str(MONTHS)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "同步 #1 成功" in demo.stdout
    logs = demo.stderr
    assert '"logger": "app.sync.service"' in logs  # the run did log

    generator = FeedGenerator(MockFeedConfig(token="x", persons=PERSONS, months=MONTHS))
    people = [generator.person(p) for p in range(PERSONS)]
    reference = DEFAULT_CSV.read_text(encoding="utf-8") + "".join(
        f.read_text(encoding="utf-8") for f in CONTENT_DIR.glob("*.md")
    )
    stored = database_dump(fresh_database_url)
    # the data is there, in the forms that may be kept
    assert sum(mask_name(p.name).encode() in stored for p in people) > PERSONS // 2
    for person in people:
        assert person.id_number.encode() not in stored, "an ID number is stored in clear"
        assert person.id_number not in logs
        assert person.id_number[:17] not in logs
        if person.name not in reference:  # a name that is also a word of the shipped texts
            assert person.name.encode() not in stored, f"the name {person.name} is stored"
            assert person.name not in logs
