"""`lianyun serve` as a real process on a free port, for tests that talk HTTP to it."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app.servers import free_port


@contextmanager
def serving(database_url: str, log_path: Path, **env: str) -> Iterator[str]:
    """Yields the base URL once the server has migrated the empty database, is ready, and the
    regions are imported; its log goes to `log_path`. `env` adds LIANYUN_ settings."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    full_env = {
        "LIANYUN_PUBLIC_BASE_URL": base,  # poster URLs lead to this server
        **os.environ,
        "LIANYUN_DATABASE_URL": database_url,
        **env,
    }
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60  # a busy machine (CI, scripts/mutation) is slow
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not become ready:\n" + log_path.read_text())
        # ready means it migrated the empty database itself; now the reference data
        lianyun(full_env, "import-regions")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def lianyun(env: dict[str, str], *args: str) -> str:
    """Runs a `lianyun` command with `env`; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "app", *args], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def log_once_logged(base: str, log_path: Path, *, timeout: float = 10) -> str:
    """The server's log once every request made before this call is in it: asks once more
    (a request whose line names its request id) and waits, for `timeout` seconds at most, for
    that line; fails the test if it never comes, so a late log never passes for a clean one."""
    request_id = httpx.get(f"{base}/healthz").headers["x-request-id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_path.read_text()
        if request_id in text:
            return text
        time.sleep(0.05)
    pytest.fail(f"the server never logged request {request_id}:\n" + log_path.read_text())
