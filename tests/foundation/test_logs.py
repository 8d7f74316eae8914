"""Log lines: plain or one JSON object each, with the job's fields where bound."""

import io
import json
import logging

import pytest

from streams import logs
from streams.envvars import ConfigError


def _logger(fmt: str):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(logs.JobFilter())
    handler.setFormatter(logs.formatter(fmt))
    logger = logging.getLogger(f"test.logs.{fmt}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, out


def test_json_lines_carry_the_bound_job_and_nothing_else_outside_it():
    logs.set_process("worker")
    logger, out = _logger("json")
    with (
        logs.job_context(job_id="j1", topic="clap.jobs", partition=3, offset=41, worker="w1"),
        logs.job_context(attempt=2, offset=None),
    ):
        logger.info("clap %d failed", 4)
    logger.warning("idle")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert list(first)[:5] == ["time", "level", "process", "pid", "logger"]
    assert first["time"].endswith("+00:00") and first["level"] == "INFO"
    assert first["process"] == "worker" and first["logger"] == "test.logs.json"
    assert first["message"] == "clap 4 failed"
    assert {k: first[k] for k in ("job_id", "topic", "partition", "offset", "attempt")} == {
        "job_id": "j1",
        "topic": "clap.jobs",
        "partition": 3,
        "offset": 41,
        "attempt": 2,
    }
    assert "job_id" not in second and second["level"] == "WARNING"


def test_an_exception_stays_inside_its_one_line():
    logger, out = _logger("json")
    try:
        raise ValueError("bad\nworse")
    except ValueError:
        logger.exception("failed")
    (line,) = out.getvalue().splitlines()
    assert "ValueError: bad\nworse" in json.loads(line)["exception"]


def test_plain_lines_append_the_job():
    logger, out = _logger("plain")
    with logs.job_context(job_id="j1", partition=0):
        logger.info("done")
    assert out.getvalue().rstrip().endswith("test.logs.plain: done [job_id=j1 partition=0]")


def test_log_format_is_checked(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    assert logs.log_format_from_env() == "json"
    monkeypatch.delenv("LOG_FORMAT")
    assert logs.log_format_from_env() == "plain"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        logs.log_format_from_env()
