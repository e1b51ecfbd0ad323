"""The hash an unknown username's sign-in is checked against (so that it costs what a known
one's does) is made by the web app's startup: an argon2 hash takes 64 MiB, and made at import
every process paid it, the nightly sync's too."""

import subprocess
import sys

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app import security

# What `lianyun sync` imports before its first page, with argon2's hashing counted; prints the
# count.
IMPORT_AS_THE_SYNC = """
import argon2._password_hasher as hasher
made = []
original = hasher.hash_secret
hasher.hash_secret = lambda *args, **kwargs: made.append(1) or original(*args, **kwargs)
import app.cli, app.sync.service, app.screening.runs
print(len(made))
"""


def test_no_password_hash_is_made_by_importing_what_the_sync_imports() -> None:
    imported = subprocess.run(
        [sys.executable, "-c", IMPORT_AS_THE_SYNC], capture_output=True, text=True, check=True
    )
    assert imported.stdout.split() == ["0"]


def test_the_web_apps_startup_makes_the_unknown_username_hash(app: FastAPI) -> None:
    security.dummy_hash.cache_clear()
    with TestClient(app):
        assert security.dummy_hash.cache_info().currsize == 1
