"""Parallel wrong guesses against a real server: the failure limit is counted before the slow
password check, so no more guesses are checked than the limit allows."""

import os
import threading
from pathlib import Path

import httpx

from tests.serving import lianyun, serving

USERNAME = "parallel-admin"
PASSWORD = "parallel-admin-password-1"
GUESSES = 12  # under the 20 sign-ins a minute a client may make


def test_parallel_wrong_guesses_are_checked_at_most_five_times(
    fresh_database_url: str, tmp_path: Path
) -> None:
    with serving(fresh_database_url, tmp_path / "server.log") as base:
        env = {
            **os.environ,
            "LIANYUN_DATABASE_URL": fresh_database_url,
            "LIANYUN_STAFF_PASSWORD": PASSWORD,
        }
        lianyun(env, "create-staff", "--username", USERNAME, "--role", "county_admin")
        start = threading.Barrier(GUESSES)
        statuses: list[int] = []

        def guess() -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                start.wait()
                answer = client.post(
                    "/api/v1/auth/token", data={"username": USERNAME, "password": "wrong-guess"}
                )
                statuses.append(answer.status_code)

        threads = [threading.Thread(target=guess) for _ in range(GUESSES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert sorted(statuses) == [401] * 5 + [429] * (GUESSES - 5)
