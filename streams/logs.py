"""Logging for every process: plain text, or one JSON object per line (LOG_FORMAT=json).

A line says when, how bad, which process and which logger, and, where a job is
involved, which job: its id, topic, partition, offset, attempt, worker and trace.
The code that handles a job binds those fields once (`job_context`); a filter on
the handler copies them onto every record logged meanwhile, from any module, so no
call site repeats them. Context variables keep them per thread and per asyncio task.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

from streams.envvars import ConfigError, env_str

FORMATS = ("plain", "json")
# In this order in every JSON line, after time, level, process and logger.
JOB_FIELDS = ("job_id", "topic", "partition", "offset", "attempt", "worker", "trace_id", "span_id")

_job: ContextVar[dict | None] = ContextVar("clapstream_log_job", default=None)
_process = {"name": "clapstream"}


def set_process(name: str) -> None:
    """Name this process in every line (web, worker, recorder, sampler, ...)."""
    _process["name"] = name


def process_name() -> str:
    return _process["name"]


class job_context:
    """Every line logged inside carries these fields (None values are left out),
    on top of the ones an enclosing context bound. A class, not a generator: it sits
    on the worker's per-job path."""

    __slots__ = ("_fields", "_token")

    def __init__(self, **fields) -> None:
        self._fields = fields

    def __enter__(self) -> dict:
        bound = {**(_job.get() or {}), **{k: v for k, v in self._fields.items() if v is not None}}
        self._token = _job.set(bound)
        return bound

    def __exit__(self, *exc) -> None:
        _job.reset(self._token)


class JobFilter(logging.Filter):
    """Puts the bound job fields and the process name on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.job = _job.get()
        record.process_name = _process["name"]
        return True


def _job_of(record: logging.LogRecord) -> dict:
    job = getattr(record, "job", None)
    return {k: job[k] for k in JOB_FIELDS if k in job} if job else {}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "process": getattr(record, "process_name", _process["name"]),
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
            **_job_of(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class PlainFormatter(logging.Formatter):
    """The classic line, with the job's fields at the end when there are any."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        job = _job_of(record)
        if not job:
            return line
        return f"{line} [{' '.join(f'{k}={v}' for k, v in job.items())}]"


def formatter(fmt: str) -> logging.Formatter:
    return JsonFormatter() if fmt == "json" else PlainFormatter()


def configure(process: str, level: str, fmt: str) -> None:
    """Log to stderr in the chosen format, for a process without Django's LOGGING."""
    set_process(process)
    handler = logging.StreamHandler()
    handler.addFilter(JobFilter())
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def django_logging(level: str, fmt: str) -> dict:
    """The same, as Django's LOGGING setting."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"job": {"()": JobFilter}},
        "formatters": {"line": {"()": JsonFormatter if fmt == "json" else PlainFormatter}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "filters": ["job"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.channels.server": {"level": "WARNING"}},
    }


def log_format_from_env() -> str:
    value = env_str("LOG_FORMAT", "plain").strip().lower() or "plain"
    if value not in FORMATS:
        raise ConfigError(f"LOG_FORMAT={value!r} is not one of {', '.join(FORMATS)}")
    return value
