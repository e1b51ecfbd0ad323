"""JSON logs with a request id.

What may be logged is decided here: the access line carries the method, the route *template*,
the status and the duration; never a query string, a body, a header or a raw path.
"""

import json
import logging
import logging.config
import math
import select
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

from pythonjsonlogger.json import JsonEncoder, JsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# Set while an anonymous request (a tip) is handled: no log line may be written then, from any
# logger. Even a line without the request, its time cut down, would be stamped on arrival by
# journald or Docker, and so say when the tipster acted.
anonymous_var: ContextVar[bool] = ContextVar("anonymous", default=False)

summary_logger = logging.getLogger("app.anonymous")


class AnonymousTroubleTally:
    """Trouble of the service met while anonymous requests were handled (lines marked
    `extra={"anonymous_safe": True}`: an unhandled error's type, a database outage), counted
    by clock hour and message, and written as one summary line per hour and message once that
    hour is over, by the next other request: the log says how often, never when."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[int, Counter[str]] = {}  # by hour since the epoch

    def add(self, message: str) -> None:
        with self._lock:
            self._counts.setdefault(_hour(), Counter())[message] += 1

    def write_closed_hours(self) -> None:
        if not self._counts:
            return  # the usual case, without the lock
        now = _hour()
        with self._lock:
            closed = sorted(hour for hour in self._counts if hour < now)
            tallies = [(hour, self._counts.pop(hour)) for hour in closed]
        for hour, counts in tallies:
            began = time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(hour * 3600))
            for message, count in sorted(counts.items()):
                summary_logger.warning(
                    "anonymous routes: %s, %d times in the hour from %s",
                    message,
                    count,
                    began,
                    extra={"request_id": None},
                )


def _hour() -> int:
    return int(time.time() // 3600)


anonymous_trouble = AnonymousTroubleTally()


class RequestIdFilter(logging.Filter):
    """Adds the request id; drops every line written while an anonymous request is handled.
    Those marked `extra={"anonymous_safe": True}` (trouble of the service itself) are counted
    for the hourly summary instead (`AnonymousTroubleTally`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if anonymous_var.get():
            # Once a record, however many handlers (each with this filter) it passes.
            if getattr(record, "anonymous_safe", False) and not hasattr(record, "tallied"):
                record.tallied = True
                anonymous_trouble.add(record.getMessage())
            return False
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonLineFormatter(JsonFormatter):
    """python-json-logger's lines (level, logger, message, request id, the record's extra
    fields, then the time), each put together without its general machinery: the renames
    looked up field by field, the time encoded through the encoder's fallback, a new encoder a
    line. Every request's access line passes here (docs/performance.md#access-line)."""

    FIELDS = (("level", "levelname"), ("logger", "name"), ("message", "message"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._encoder = JsonEncoder(ensure_ascii=False)

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        fields = record.__dict__
        for name, attribute in self.FIELDS:
            log_data[name] = fields.get(attribute)
        log_data["request_id"] = fields.get("request_id")
        log_data.update(message_dict)
        skip = self._skip_fields
        for key, value in fields.items():
            if key not in skip and not (hasattr(key, "startswith") and key.startswith("_")):
                log_data[key] = value
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat()

    def jsonify_log_record(self, log_data: dict[str, Any]) -> str:
        return self._encoder.encode(log_data)

    def access_line(
        self,
        logger: str,
        request_id: str | None,
        method: str,
        route: str,
        status: int,
        duration_ms: float,
    ) -> str:
        """What `format` makes of an INFO record "request" of `logger` with the access line's
        fields as extra (method, route, status, duration), written now: the same text, written
        out directly, where a dict and the encoder cost every request twice as much
        (docs/performance.md#access-line). Strings are encoded as the encoder encodes them;
        numbers as it writes an int and a finite float."""
        quoted_id = "null" if request_id is None else _json_string(request_id)
        return (
            f'{self.prefix}{{"level": "INFO", "logger": {_json_string(logger)}, '
            f'"message": "request", "request_id": {quoted_id}, '
            f'"method": {_json_string(method)}, "route": {_json_string(route)}, '
            f'"status": {int(status)!r}, "duration_ms": {float(duration_ms)!r}, '
            f'"time": "{datetime.now(UTC).isoformat()}"}}'
        )


# A str as a JSON string, as JsonEncoder(ensure_ascii=False) writes it (the C function it uses).
_json_string: Callable[[str], str] = json.encoder.encode_basestring


class BatchedStreamHandler(logging.StreamHandler[IO[str]]):
    """A StreamHandler that writes its lines in batches: a line waits at most `delay` seconds
    (a timer thread writes what has gathered), a WARNING or worse is written at once with every
    line before it, and what is left is written when the handler is flushed or closed (as
    logging does at exit and when it is configured again). Every request writes an access
    line; one write a line (a system call, and a wake-up of whatever reads the log) cost a
    request more than the line itself (docs/performance.md#log-lines-in-batches).

    Workers may share one pipe (`lianyun serve --workers N`): a write of at most PIPE_BUF
    bytes reaches it whole, so a batch goes out in writes of whole lines up to that size,
    and no worker's line is cut by another's. A batch that cannot be written is reported as
    logging reports a line it cannot write, and is lost as such a line would be."""

    MAX_LINES = 512  # written at once when so many have gathered

    def __init__(self, stream: IO[str] | None = None, delay: float = 0.25) -> None:
        super().__init__(sys.stderr if stream is None else stream)
        self.delay = delay
        self._lines: list[str] = []
        self._timer: threading.Timer | None = None

    def emit(self, record: logging.LogRecord) -> None:
        # logging.Handler.handle holds self.lock around this call.
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._add(line, record.levelno)

    def write_line(self, line: str, level: int) -> None:
        """A line this handler's formatter made (AccessLog), added as `emit` adds a record's."""
        self.acquire()
        try:
            self._add(line, level)
        finally:
            self.release()

    def _add(self, line: str, level: int) -> None:
        self._lines.append(line + self.terminator)
        if level >= logging.WARNING or len(self._lines) >= self.MAX_LINES:
            self._write()
        elif self._timer is None:
            self._timer = threading.Timer(self.delay, self.flush)
            self._timer.daemon = True
            self._timer.start()

    def flush(self) -> None:
        self.acquire()
        try:
            self._write()
        finally:
            self.release()

    def close(self) -> None:
        self.flush()
        super().close()

    def _write(self) -> None:
        if self._timer is not None:
            self._timer.cancel()  # harmless from the timer's own thread
            self._timer = None
        lines, self._lines = self._lines, []
        if getattr(self.stream, "closed", False):  # a test's stream, gone with its test
            return
        try:
            for chunk in _whole_lines_up_to(select.PIPE_BUF, lines):
                self.stream.write(chunk)
                self.stream.flush()
        except Exception:
            self.handleError(logging.makeLogRecord({"msg": "%d lines", "args": (len(lines),)}))


class AccessLog:
    """The access line of a request (method, route template, status, duration): a record of
    `logger` at INFO, as any line. Where the line reaches only the handler `configure_logging`
    sets up (a BatchedStreamHandler with a JsonLineFormatter and the RequestIdFilter), the
    same line is put together directly and handed to it, without the record, its filters and
    the formatter's general machinery, which cost a `/healthz` about a quarter of its time
    (docs/performance.md#access-line). Any other configuration (a test's captured log, another
    formatter or filter) gets the record."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def write(self, method: str, route: str, status: int, duration_ms: float) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        handler = self._sole_handler()
        if handler is None or not _plain_access_values(status, duration_ms):
            extra = {"method": method, "route": route, "status": status, "duration_ms": duration_ms}
            self.logger.info("request", extra=extra)
        elif not anonymous_var.get():  # as RequestIdFilter drops it
            formatter: Any = handler.formatter
            line = formatter.access_line(
                self.logger.name, request_id_var.get(), method, route, status, duration_ms
            )
            handler.write_line(line, logging.INFO)

    def _sole_handler(self) -> BatchedStreamHandler | None:
        """The one handler a line of the logger reaches, when it is one the line can be handed
        to as it is (set up as `configure_logging` sets it up, its formatter keeping the access
        line's fields); None otherwise."""
        found: list[logging.Handler] = []
        logger: logging.Logger | None = self.logger
        while logger is not None:
            if logger.filters or logger.disabled:
                return None
            found += logger.handlers
            logger = logger.parent if logger.propagate else None
        if len(found) != 1:
            return None
        (handler,) = found
        formatter = handler.formatter
        if (
            type(handler) is BatchedStreamHandler
            and type(formatter) is JsonLineFormatter
            and not formatter._skip_fields.intersection(_ACCESS_FIELDS)
            and handler.level <= logging.INFO
            and handler.filters
            and all(type(f) is RequestIdFilter for f in handler.filters)
        ):
            return handler
        return None


_ACCESS_FIELDS = ("method", "route", "status", "duration_ms")  # the extra fields of a record


def _plain_access_values(status: int, duration_ms: float) -> bool:
    """Whether `JsonLineFormatter.access_line` writes these as the encoder would: an int that is
    not a bool, a finite float (the encoder writes 1 and 5, not true and 5.0, and NaN)."""
    return type(status) is int and type(duration_ms) is float and math.isfinite(duration_ms)


def _whole_lines_up_to(size: int, lines: list[str]) -> Iterator[str]:
    """`lines` joined into pieces of at most `size` bytes (UTF-8), each of whole lines; a line
    longer than that is a piece of its own."""
    piece: list[str] = []
    taken = 0
    for line in lines:
        length = len(line.encode())
        if piece and taken + length > size:
            yield "".join(piece)
            piece, taken = [], 0
        piece.append(line)
        taken += length
    if piece:
        yield "".join(piece)


def logging_config(level: str = "INFO", stream: IO[str] | None = None) -> dict[str, Any]:
    handler: dict[str, Any] = {
        "class": "app.logs.BatchedStreamHandler",
        "formatter": "json",
        "filters": ["request_id"],
    }
    if stream is not None:
        handler["stream"] = stream
    else:
        handler["stream"] = "ext://sys.stderr"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {
            "json": {
                "()": JsonLineFormatter,
                "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            }
        },
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # Its lines carry the query string: replaced by app.observability's access line.
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "sqlalchemy.engine": {"level": "WARNING"},
            "alembic": {"level": "WARNING"},
            # Its request lines carry full URLs.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> None:
    logging.config.dictConfig(logging_config(level, stream))
    skip_unlogged_record_fields()


def skip_unlogged_record_fields() -> None:
    """No caller's file and line, thread, process or task name on a record: no line carries
    them, and finding them cost every request's access line about a fifth of its time
    (docs/performance.md#access-line). The knobs the logging module documents for this."""
    logging._srcfile = None  # no walk up the stack for the caller
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
