"""The JSON lines of app.logs: one object a line, its fields in a fixed order."""

import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime

import pytest

from app.logs import (
    AccessLog,
    BatchedStreamHandler,
    JsonLineFormatter,
    RequestIdFilter,
    anonymous_var,
    logging_config,
    request_id_var,
)


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


@pytest.fixture
def access_log(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[AccessLog, io.StringIO, BatchedStreamHandler]]:
    """An access log whose lines reach one handler set up as `configure_logging` sets it up."""
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream, delay=60)
    handler.setFormatter(JsonLineFormatter(logging_config()["formatters"]["json"]["fmt"]))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("app.test_logs.access")
    monkeypatch.setattr(logger, "propagate", False)
    logger.setLevel(logging.INFO)
    yield AccessLog(logger), stream, handler
    logger.setLevel(logging.NOTSET)
    handler.close()


def _sole(
    access_log: tuple[AccessLog, io.StringIO, BatchedStreamHandler],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[AccessLog, io.StringIO, BatchedStreamHandler]:
    """`access_log` with its handler the logger's only one, as in a served app: pytest adds its
    own, as a test begins, to every logger that does not propagate."""
    log, _, handler = access_log
    monkeypatch.setattr(log.logger, "handlers", [handler])
    return access_log


def test_the_access_line_handed_over_whole_is_the_line_a_record_makes(
    access_log: tuple[AccessLog, io.StringIO, BatchedStreamHandler],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log, stream, handler = _sole(access_log, monkeypatch)
    token = request_id_var.set("r2")
    try:
        log.logger.info(
            "request",
            extra={"method": "GET", "route": "/api/v1/村", "status": 200, "duration_ms": 0.25},
        )
        formatted = JsonLineFormatter.format
        monkeypatch.setattr(JsonLineFormatter, "format", lambda *a: pytest.fail("a record"))
        log.write("GET", "/api/v1/村", 200, 0.25)
        monkeypatch.setattr(JsonLineFormatter, "format", formatted)
    finally:
        request_id_var.reset(token)
    handler.flush()
    by_record, handed_over = _lines(stream)
    assert list(handed_over) == list(by_record)  # the same fields in the same order
    assert {**handed_over, "time": None} == {**by_record, "time": None}
    assert handed_over["request_id"] == "r2" and handed_over["route"] == "/api/v1/村"
    assert time.time() - _epoch(str(handed_over["time"])) < 60


@pytest.mark.parametrize(
    ("request_id", "route", "status", "duration_ms"),
    [
        ("r4", "/healthz", 200, 0.25),
        (None, "/api/v1/村/{code}", 404, 12345.67),
        ("r5", 'a "quoted" \\ route\t\x01\u2028😀', 503, 1e-05),
        ("r6", "/", 200, 0.0),
        ("r7", "/", 200, 1e16),
    ],
)
def test_the_access_line_handed_over_is_the_text_a_record_makes(
    access_log: tuple[AccessLog, io.StringIO, BatchedStreamHandler],
    monkeypatch: pytest.MonkeyPatch,
    request_id: str | None,
    route: str,
    status: int,
    duration_ms: float,
) -> None:
    """Byte for byte, but for the time: escapes, null, numbers as the encoder writes them."""
    log, stream, handler = _sole(access_log, monkeypatch)
    token = request_id_var.set(request_id)
    try:
        extra = {"method": "POST", "route": route, "status": status, "duration_ms": duration_ms}
        log.logger.info("request", extra=extra)
        formatted = JsonLineFormatter.format
        monkeypatch.setattr(JsonLineFormatter, "format", lambda *a: pytest.fail("a record"))
        log.write("POST", route, status, duration_ms)
        monkeypatch.setattr(JsonLineFormatter, "format", formatted)
    finally:
        request_id_var.reset(token)
    handler.flush()
    lines = stream.getvalue().split("\n")  # not splitlines(): U+2028 is kept as it is
    by_record, handed_over = (re.sub(r'"time": "[^"]+"', '"time": …', line) for line in lines[:2])
    assert lines[2:] == [""]
    assert handed_over == by_record
    assert json.loads(lines[1])["route"] == route


@pytest.mark.parametrize(("status", "duration_ms"), [(True, 0.5), (200, 5), (200, float("nan"))])
def test_values_the_direct_line_would_write_otherwise_get_the_record(
    access_log: tuple[AccessLog, io.StringIO, BatchedStreamHandler],
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    duration_ms: float,
) -> None:
    log, stream, handler = _sole(access_log, monkeypatch)
    extra = {"method": "GET", "route": "/", "status": status, "duration_ms": duration_ms}
    log.logger.info("request", extra=extra)
    log.write("GET", "/", status, duration_ms)
    handler.flush()
    lines = [re.sub(r'"time": "[^"]+"', "", line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2 and lines[0] == lines[1]


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def test_the_access_line_keeps_every_rule_of_the_logging_setup(
    access_log: tuple[AccessLog, io.StringIO, BatchedStreamHandler],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log, stream, handler = _sole(access_log, monkeypatch)
    token = anonymous_var.set(True)  # a tip: no line at all
    log.write("POST", "/api/v1/tips", 201, 1.0)
    anonymous_var.reset(token)
    log.logger.setLevel(logging.WARNING)  # access lines turned off
    log.write("GET", "/healthz", 200, 0.1)
    log.logger.setLevel(logging.INFO)
    captured: list[logging.LogRecord] = []
    capture = logging.Handler()
    capture.emit = captured.append  # type: ignore[assignment,method-assign]
    log.logger.addHandler(capture)  # another handler (a test's captured log): records again
    try:
        log.write("GET", "/healthz", 200, 0.1)
    finally:
        log.logger.removeHandler(capture)
    handler.flush()
    (line,) = _lines(stream)
    assert line["route"] == "/healthz" and line["status"] == 200
    assert [(r.getMessage(), r.__dict__["route"]) for r in captured] == [("request", "/healthz")]


@pytest.mark.parametrize("setup", ["no filter", "the route a format field"])
def test_a_handler_set_up_otherwise_gets_the_line_a_record_makes(
    access_log: tuple[AccessLog, io.StringIO, BatchedStreamHandler],
    monkeypatch: pytest.MonkeyPatch,
    setup: str,
) -> None:
    log, stream, handler = _sole(access_log, monkeypatch)
    if setup == "no filter":  # no request id added: the record's line has none
        handler.filters.clear()
    else:  # a field the format names is not among the record's extra fields
        handler.setFormatter(JsonLineFormatter("%(levelname)s %(route)s"))
    token = request_id_var.set("r3")
    try:
        log.write("GET", "/healthz", 200, 0.1)
        extra = {"method": "GET", "route": "/healthz", "status": 200, "duration_ms": 0.1}
        log.logger.info("request", extra=extra)
    finally:
        request_id_var.reset(token)
    handler.flush()
    written, by_record = _lines(stream)
    assert {**written, "time": None} == {**by_record, "time": None}


class _CountedWrites(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _batched(delay: float) -> tuple[logging.Logger, _CountedWrites, BatchedStreamHandler]:
    stream = _CountedWrites()
    handler = BatchedStreamHandler(stream, delay=delay)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(f"app.test_logs.batched{delay}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream, handler


def test_lines_wait_for_a_warning_which_brings_them_out_in_order() -> None:
    logger, stream, handler = _batched(delay=60)
    try:
        logger.info("a")
        logger.info("b")
        assert stream.getvalue() == ""
        logger.warning("c")
        assert stream.getvalue() == "a\nb\nc\n" and stream.writes == 1
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_lines_come_out_together_once_the_delay_is_over() -> None:
    logger, stream, handler = _batched(delay=0.05)
    try:
        logger.info("a")
        logger.info("b")
        deadline = time.monotonic() + 10
        while stream.getvalue() != "a\nb\n" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stream.getvalue() == "a\nb\n" and stream.writes == 1
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_the_last_lines_are_written_when_the_process_ends() -> None:
    code = (
        "import logging; from app.logs import configure_logging; configure_logging();"
        "logging.getLogger('app.x').info('last words')"
    )
    ended = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    (line,) = [json.loads(text) for text in ended.stderr.splitlines()]
    assert line["message"] == "last words" and line["logger"] == "app.x"


def test_a_closed_handler_has_written_what_waited() -> None:
    logger, stream, handler = _batched(delay=60)
    logger.info("a")
    logger.removeHandler(handler)
    handler.close()
    assert stream.getvalue() == "a\n"


class _FailingOnce(_CountedWrites):
    def write(self, text: str) -> int:
        if not self.writes:
            self.writes += 1
            raise BrokenPipeError("the reader went away")
        return super().write(text)


def test_a_batch_that_cannot_be_written_never_fails_the_caller(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stream = _FailingOnce()
    handler = BatchedStreamHandler(stream, delay=60)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("app.test_logs.failing")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("lost")  # reported as logging reports a line it cannot write
        logger.warning("written")
    finally:
        logger.removeHandler(handler)
        handler.close()
    assert stream.getvalue() == "written\n"
    assert "BrokenPipeError" in capsys.readouterr().err


_WORKER = """
import logging, sys
from app.logs import BatchedStreamHandler
handler = BatchedStreamHandler()
handler.setFormatter(logging.Formatter("%(message)s"))
logger = logging.getLogger("worker")
logger.addHandler(handler)
logger.setLevel(logging.INFO)
for i in range(6000):
    logger.info("{" + sys.argv[1] * 300 + " %d}", i)
"""


def test_workers_sharing_a_pipe_never_cut_each_others_lines() -> None:
    """As `lianyun serve --workers 2` under a process manager: one pipe, a reader slower than
    the writers, so that both workers' writes wait on it at once."""
    read_end, write_end = os.pipe()
    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER, tag], stderr=write_end) for tag in "AB"
    ]
    os.close(write_end)
    received = bytearray()
    while chunk := os.read(read_end, 4096):
        received += chunk
        time.sleep(0.0005)
    os.close(read_end)
    for worker in workers:
        assert worker.wait(timeout=60) == 0
    lines = received.decode().splitlines()
    whole = re.compile(r"\{(A{300}|B{300}) \d+\}")
    assert len(lines) == 12000
    assert [line[:40] for line in lines if not whole.fullmatch(line)] == []
