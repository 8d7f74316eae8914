"""The messages on the project's topics: their schemas, encoding and strict decoding.

Every value is UTF-8 JSON with a schema version `v`; keys are the job id. Decoding
never trusts its input: anything off-schema raises MalformedMessage with a reason
that the worker puts in the dead-letter record.

Sequence numbers: an event's `seq` is `pickup_ms * 1000 + n`, where pickup_ms is the
wall-clock millisecond at which a worker picked the job up and n counts that
worker's events for it (n < 1000). So seq grows within a job, also across a
redelivery to another worker, and the recorder and the browser can drop stale ones.
Only this module encodes and decodes it (seq_of, last_seq_of, pickup_of).
"""

import base64
import json
import math
import time
import uuid
import zlib
from dataclasses import dataclass, fields
from typing import Any

SCHEMA_VERSION = 1
MAX_CLAPS = 100
MAX_NOTE = 280
# Ranges of the database columns events end up in, and the last second a datetime holds.
MAX_INT32, MAX_INT64 = 2**31 - 1, 2**63 - 1
MAX_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z
# A done event's result (the applause WAV) is deflated where it is made and stays so
# across Kafka and into the database: a clip is mostly silence, and the broker, the
# recorders and every web process's relay read each done event. `result_encoding`
# says so; an event without it (from before) carries the WAV as it is.
RESULT_ENCODING = "deflate"
MAX_RESULT = 1 << 20  # bytes of an inflated result: the longest clip (3 s) is 96 KB
# A job's `feed` names its owner's feed (a digest the site makes, webapp.claps.owners):
# the worker copies it onto the job's events, so the web processes route each event to
# its owner's feed without asking the database whose job it is.
MAX_FEED = 64
# The longest worker id the database stores (its column); PostgreSQL's text holds no
# NUL. An event the decoder let through but the database refused would be retried by
# the recorder for ever, so both are refused here.
MAX_WORKER = 120
MAX_REASON = 500  # characters of a MalformedMessage's reason

RUNNING, PROGRESS, DONE, FAILED, CANCELLED = "running", "progress", "done", "failed", "cancelled"
EVENT_TYPES = (RUNNING, PROGRESS, DONE, FAILED, CANCELLED)
FINAL_TYPES = frozenset({DONE, FAILED, CANCELLED})

# Headers of a dead-letter record (values are UTF-8 strings).
DLQ_ERROR = "error"
DLQ_ATTEMPTS = "attempts"
DLQ_TOPIC = "original.topic"
DLQ_PARTITION = "original.partition"
DLQ_OFFSET = "original.offset"
DLQ_FAILED_AT = "failed.at"
DLQ_LEFT_OUT = "left.out"  # what of the original the copy leaves out, and why


class MalformedMessage(ValueError):
    """A message that does not follow its schema; str() is the reason, cut to
    MAX_REASON characters: it may quote the message, which may be up to a megabyte,
    and it travels in a dead letter's headers and in the failed job's event."""

    def __init__(self, reason: str):
        if len(reason) > MAX_REASON:
            reason = reason[: MAX_REASON - 1] + "…"
        super().__init__(reason)


EVENTS_PER_PICKUP = 1000


def seq_of(pickup_ms: int, n: int) -> int:
    if not 0 <= n < EVENTS_PER_PICKUP:
        raise ValueError(f"at most {EVENTS_PER_PICKUP - 1} events per pickup")
    return pickup_ms * EVENTS_PER_PICKUP + n


def last_seq_of(pickup_ms: int) -> int:
    """Later than every event of any pickup that began before pickup_ms."""
    return seq_of(pickup_ms, EVENTS_PER_PICKUP - 1)


def pickup_of(seq: int) -> int:
    """The pickup (its wall-clock millisecond) an event's seq belongs to."""
    return seq // EVENTS_PER_PICKUP


def _load(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        raise MalformedMessage("empty message (no value)")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedMessage("not UTF-8") from None
    except (ValueError, RecursionError):
        raise MalformedMessage("not JSON") from None
    if not isinstance(data, dict):
        raise MalformedMessage(f"expected a JSON object, got {type(data).__name__}")
    version = data.get("v")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise MalformedMessage(f"unknown schema version {version!r}")
    return data


def _field(data: dict, name: str, kind: type | tuple, *, optional: bool = False):
    if name not in data or data[name] is None:
        if optional:
            return None
        raise MalformedMessage(f"missing field {name!r}")
    value = data[name]
    # bool is an int in Python; never accept it where a number is meant.
    if isinstance(value, bool) and kind is not bool:
        raise MalformedMessage(f"field {name!r} must be {_kind_name(kind)}, got a boolean")
    if not isinstance(value, kind):
        raise MalformedMessage(f"field {name!r} must be {_kind_name(kind)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise MalformedMessage(f"field {name!r} must be a finite number")
    return value


def _int(data: dict, name: str, low: int, high: int, *, optional: bool = False) -> int | None:
    value = _field(data, name, int, optional=optional)
    if value is not None and not low <= value <= high:
        raise MalformedMessage(f"field {name!r} must be {low} to {high}, got {value}")
    return value


def _time(data: dict, name: str, *, optional: bool = False) -> float | None:
    """Seconds since the epoch, within what a datetime (and the database) can hold: a
    huge JSON integer would otherwise overflow float() or datetime downstream."""
    value = _field(data, name, (int, float), optional=optional)
    if value is None:
        return None
    if not 0 <= value <= MAX_TIME:
        raise MalformedMessage(f"field {name!r} is not a time: {value}")
    return float(value)


def _kind_name(kind) -> str:
    names = {int: "an integer", str: "a string", float: "a number", bool: "a boolean"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _text(data: dict, name: str, longest: int | None = None) -> str:
    value = _field(data, name, str, optional=True) or ""
    if "\x00" in value:
        raise MalformedMessage(f"field {name!r} holds a NUL character")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:  # a lone surrogate ("\udc80" in the JSON)
            raise MalformedMessage(f"field {name!r} is not valid Unicode") from None
    if longest is not None and len(value) > longest:
        raise MalformedMessage(f"field {name!r} longer than {longest} characters")
    return value


def _job_id(data: dict, name: str = "id") -> str:
    raw = _field(data, name, str)
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise MalformedMessage(f"field {name!r} is not a UUID") from None


def _fields(message) -> dict[str, Any]:
    # Not dataclasses.asdict: it deep-copies every value, and encoding sits on the
    # worker's hot path (a few events per job).
    return {f.name: getattr(message, f.name) for f in fields(message)}


def _encode(payload: dict) -> bytes:
    return json.dumps({"v": SCHEMA_VERSION, **payload}, separators=(",", ":")).encode()


@dataclass(frozen=True)
class JobRequest:
    """A clap job on clap.jobs."""

    id: str
    claps: int
    note: str = ""
    submitted_at: float = 0.0
    fail_at_clap: int | None = None  # fault injection for demos and tests: this clap raises
    feed: str = ""  # the owner's feed, for the job's events

    def encode(self) -> bytes:
        return _encode(_fields(self))

    @classmethod
    def decode(cls, raw: bytes | None) -> "JobRequest":
        data = _load(raw)
        claps = _field(data, "claps", int)
        if not 1 <= claps <= MAX_CLAPS:
            raise MalformedMessage(f"claps must be 1 to {MAX_CLAPS}, got {claps}")
        note = _field(data, "note", str, optional=True) or ""
        if len(note) > MAX_NOTE:
            raise MalformedMessage(f"note longer than {MAX_NOTE} characters")
        fail_at = _field(data, "fail_at_clap", int, optional=True)
        submitted = _time(data, "submitted_at", optional=True) or 0.0
        return cls(_job_id(data), claps, note, submitted, fail_at, _text(data, "feed", MAX_FEED))


@dataclass(frozen=True)
class JobEvent:
    """Progress or outcome of a job on clap.events."""

    job: str
    type: str
    seq: int
    at: float
    worker: str = ""
    partition: int | None = None  # where the job sits on clap.jobs (running)
    offset: int | None = None
    done: int | None = None  # claps done so far (running, progress, done)
    total: int | None = None
    error: str = ""  # failed: why; cancelled: by whom
    result_deflated: bytes | None = None  # done: the applause, a WAV file, deflate()d
    feed: str = ""  # the job's owner's feed, copied from the job

    def encode(self) -> bytes:
        payload = {k: v for k, v in _fields(self).items() if v not in (None, "")}
        if payload.pop("result_deflated", None) is not None:
            payload["result"] = base64.b64encode(self.result_deflated).decode()
            payload["result_encoding"] = RESULT_ENCODING
        return _encode(payload)

    @classmethod
    def decode(cls, raw: bytes | None, *, with_result: bool = True) -> "JobEvent":
        """The event; with_result=False leaves `result_deflated` None, unchecked: the
        relay never sends the audio, and every web process would inflate each one."""
        data = _load(raw)
        kind = _field(data, "type", str)
        if kind not in EVENT_TYPES:
            raise MalformedMessage(f"unknown event type {kind!r}")
        result = _field(data, "result", str, optional=True) if with_result else None
        if result is not None:
            result = _result(result, _field(data, "result_encoding", str, optional=True))
        return cls(
            job=_job_id(data, "job"),
            type=kind,
            seq=_int(data, "seq", 0, MAX_INT64),
            at=_time(data, "at"),
            worker=_text(data, "worker", MAX_WORKER),
            partition=_int(data, "partition", 0, MAX_INT32, optional=True),
            offset=_int(data, "offset", 0, MAX_INT64, optional=True),
            done=_int(data, "done", 0, MAX_CLAPS, optional=True),
            total=_int(data, "total", 0, MAX_CLAPS, optional=True),
            error=_text(data, "error"),
            result_deflated=result,
            feed=_text(data, "feed", MAX_FEED),
        )


def deflate(wav: bytes) -> bytes:
    return zlib.compress(wav, 1)  # the fastest level: silence compresses at any


def inflate(deflated: bytes) -> bytes:
    """The bytes deflate() was given; MalformedMessage unless they are whole and at
    most MAX_RESULT long."""
    inflater = zlib.decompressobj()
    try:
        wav = inflater.decompress(deflated, MAX_RESULT)
    except zlib.error as exc:
        raise MalformedMessage(f"field 'result' does not inflate: {exc}") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise MalformedMessage(f"field 'result' is cut short or inflates beyond {MAX_RESULT} bytes")
    return wav


def _result(text: str, encoding: str | None) -> bytes:
    """The result deflated, checked to inflate (an event from before is deflated here)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise MalformedMessage("field 'result' is not base64") from None
    if encoding is None:
        return deflate(raw)
    if encoding != RESULT_ENCODING:
        raise MalformedMessage(f"unknown result_encoding {encoding!r}")
    inflate(raw)
    return raw


@dataclass(frozen=True)
class CancelRequest:
    """On clap.control (compacted, read in full by every worker): stop this job."""

    job: str
    at: float

    def encode(self) -> bytes:
        return _encode({"type": "cancel", "job": self.job, "at": self.at})

    @classmethod
    def decode(cls, raw: bytes | None) -> "CancelRequest":
        data = _load(raw)
        if data.get("type") != "cancel":
            raise MalformedMessage(f"unknown control type {data.get('type')!r}")
        return cls(_job_id(data, "job"), _time(data, "at"))


def now() -> float:
    return time.time()


def now_ms() -> int:
    return time.time_ns() // 1_000_000
