"""JSON log lines with dotted event names.

Never log bodies, addresses or secrets: log ids, counts and timings.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

# Frames kept from the innermost end of a traceback.
MAX_FRAMES = 20


def configure_logging(level: str = "info") -> None:
    """Send structlog's JSON lines, and the standard library's records, to stdout."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_exception,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # uvicorn's access log would print query strings, which can hold addresses.
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in ("botocore", "aiobotocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def redact_exception(logger: WrappedLogger, method: str, event_dict: EventDict) -> EventDict:
    """Where an error happened, never what it said.

    Exception messages can carry data (a row that failed a constraint, a value that did not
    parse), and data means addresses; the type and the frames are what an operator needs."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if isinstance(exc_info, tuple) and exc_info[0] is not None:
        event_dict["exception"] = describe_exception(exc_info[1], exc_info[2])
    return event_dict


def describe_exception(exc: BaseException | None, tb: TracebackType | None) -> dict[str, Any]:
    causes: list[str] = []
    link = exc.__cause__ or exc.__context__ if exc is not None else None
    while link is not None and len(causes) < 5:
        causes.append(type(link).__name__)
        link = link.__cause__ or link.__context__
    frames = [f"{f.filename}:{f.lineno} {f.name}" for f in traceback.extract_tb(tb)]
    return {
        "type": type(exc).__name__ if exc is not None else None,
        "causes": causes,
        "frames": frames[-MAX_FRAMES:],
    }


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
