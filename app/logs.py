"""JSON logs with a request id.

What may be logged is decided here: the access line carries the method, the route *template*,
the status and the duration; never a query string, a body, a header or a raw path.
"""

import logging
import logging.config
from contextvars import ContextVar
from typing import IO, Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# Set while an anonymous request (a tip) is handled: no log line may be written then, from any
# logger, since even its timestamp would say when the tipster acted.
anonymous_var: ContextVar[bool] = ContextVar("anonymous", default=False)


class RequestIdFilter(logging.Filter):
    """Adds the request id; drops every line written while an anonymous request is handled,
    except those marked `extra={"anonymous_safe": True}` (trouble of the service itself, such
    as Redis gone): they pass without a request id and with their time cut to the hour."""

    def filter(self, record: logging.LogRecord) -> bool:
        if anonymous_var.get():
            if not getattr(record, "anonymous_safe", False):
                return False
            record.request_id = None
            record.created -= record.created % 3600
            record.msecs = 0
            return True
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def logging_config(level: str = "INFO", stream: IO[str] | None = None) -> dict[str, Any]:
    handler: dict[str, Any] = {
        "class": "logging.StreamHandler",
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
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
                "timestamp": "time",
                "json_ensure_ascii": False,
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
