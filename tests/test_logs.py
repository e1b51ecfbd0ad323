"""The JSON lines of app.logs: one object a line, its fields in a fixed order."""

import io
import json
import logging
from collections.abc import Iterator
from datetime import date

import pytest

from app.logs import JsonLineFormatter, RequestIdFilter, logging_config


@pytest.fixture
def written() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter(logging_config()["formatters"]["json"]["fmt"]))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("app.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_an_error_line_carries_its_traceback_its_fields_and_chinese_as_is(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = written
    try:
        raise ValueError("坏了")
    except ValueError:
        logger.error(
            "unhandled %s",
            "异常",
            exc_info=True,
            extra={"request_id": "r1", "day": date(2026, 12, 7)},
        )
    (line,) = _lines(stream)
    assert list(line) == ["level", "logger", "message", "request_id", "exc_info", "day", "time"]
    assert line["level"] == "ERROR" and line["message"] == "unhandled 异常"
    assert line["request_id"] == "r1" and line["day"] == "2026-12-07"
    assert "Traceback" in str(line["exc_info"]) and "ValueError: 坏了" in str(line["exc_info"])
    assert "坏了" in stream.getvalue()  # not escaped as \\uXXXX


def test_a_line_outside_a_request_has_no_request_id(
    written: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = written
    logger.warning("sync finished", extra={"records": 3})
    (line,) = _lines(stream)
    assert line["request_id"] is None and line["records"] == 3 and line["logger"] == "app.test_logs"
