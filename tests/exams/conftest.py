from collections.abc import Iterator

import pytest

from app.exams import clock
from tests.exams.factories import Clock


@pytest.fixture
def exam_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """The exams' clock, at START (09:00 in the county) until the test moves it."""
    moved = Clock()
    monkeypatch.setattr(clock, "now", lambda: moved.now)
    yield moved
