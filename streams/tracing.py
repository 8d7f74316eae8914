"""One trace per job: W3C trace context from the HTTP request to the recorder's write.

The context (a trace id and the current span's id) travels in `traceparent` headers:
on the HTTP request, on the job's record in clap.jobs, on the worker's events and
dead letters. Each process continues it in a span of its own, and puts the trace
and span ids into the log context, so every line about the job names its trace.

With OTEL_EXPORTER_OTLP_ENDPOINT set, `enable_from_env` starts the OpenTelemetry SDK
and every span is also exported over OTLP. Without it the SDK is never imported, no
exporter runs, and a span costs two random numbers and a context variable.
"""

import logging
import random
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from streams import logs
from streams.envvars import env_str

log = logging.getLogger(__name__)

HEADER = "traceparent"
DEFAULT_SAMPLE_RATIO = 0.1
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
KINDS = ("internal", "server", "client", "producer", "consumer")


def _random_hex(bits: int) -> str:
    value = 0
    while not value:  # all-zero ids are invalid
        value = random.getrandbits(bits)
    return f"{value:0{bits // 4}x}"


@dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: str  # 32 lowercase hex digits
    span_id: str  # 16 lowercase hex digits: the span this context was taken in
    sampled: bool = True

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"

    @classmethod
    def parse(cls, value: str | bytes | None) -> "TraceContext | None":
        """A traceparent header's context, or None when it is absent or invalid (the
        receiver then starts a new trace, as W3C Trace Context asks)."""
        if isinstance(value, bytes):
            value = value.decode("ascii", "replace")
        match = _TRACEPARENT.fullmatch(value.strip().lower()) if value else None
        if match is None:
            return None
        version, trace_id, span_id, flags, rest = match.groups()
        if version == "ff" or (version == "00" and rest):
            return None
        if trace_id == "0" * 32 or span_id == "0" * 16:
            return None
        return cls(trace_id, span_id, bool(int(flags, 16) & 1))

    @classmethod
    def root(cls) -> "TraceContext":
        return cls(_random_hex(128), _random_hex(64))

    def child(self) -> "TraceContext":
        return TraceContext(self.trace_id, _random_hex(64), self.sampled)


def from_headers(headers: Sequence[tuple[str, bytes | None]] | None) -> TraceContext | None:
    """The context in Kafka record headers (confluent-kafka's list of pairs)."""
    for key, value in headers or ():
        if key == HEADER:
            return TraceContext.parse(value)
    return None


def from_message(msg) -> TraceContext | None:
    """The context a Kafka record carries. confluent-kafka raises SystemError on a
    header key that is not UTF-8, which only a foreign producer writes: such a record
    carries none of our contexts, and must not stop the worker or recorder reading it."""
    try:
        return from_headers(msg.headers())
    except (SystemError, UnicodeDecodeError):
        return None


def headers(context: TraceContext | None) -> list[tuple[str, str]]:
    return [(HEADER, context.traceparent)] if context else []


_current: ContextVar[TraceContext | None] = ContextVar("clapstream_trace", default=None)
_CURRENT = object()  # span()'s default parent: whatever span is current


def current() -> TraceContext | None:
    return _current.get()


class Span:
    """What code inside a span may do: read its context and describe it."""

    __slots__ = ("_otel", "context")

    def __init__(self, context: TraceContext, otel=None) -> None:
        self.context = context
        self._otel = otel

    def set(self, **attributes) -> None:
        if self._otel is not None:
            self._otel.set_attributes({k: v for k, v in attributes.items() if v is not None})

    def rename(self, name: str) -> None:
        if self._otel is not None:
            self._otel.update_name(name)

    def fail(self, description: str) -> None:
        if self._otel is not None:
            from opentelemetry.trace import Status, StatusCode

            self._otel.set_status(Status(StatusCode.ERROR, description))


class _Sdk:
    """The OpenTelemetry side, built only when spans are to be exported."""

    def __init__(self, exporter, process: str, batch: bool, sampler=None) -> None:
        from opentelemetry import context as otel_context
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        self.trace = trace
        self.empty = otel_context.Context
        self.kinds = {kind: getattr(trace.SpanKind, kind.upper()) for kind in KINDS}
        resource = Resource.create({"service.name": f"clapstream-{process}"})
        # No sampler: the SDK's choice, from OTEL_TRACES_SAMPLER (default: every trace).
        self.provider = TracerProvider(resource=resource, sampler=sampler)
        processor = BatchSpanProcessor if batch else SimpleSpanProcessor
        self.provider.add_span_processor(processor(exporter))
        self.tracer = self.provider.get_tracer("clapstream")

    def parent(self, context: TraceContext | None):
        if context is None:
            return self.empty()
        trace = self.trace
        remote = trace.SpanContext(
            int(context.trace_id, 16),
            int(context.span_id, 16),
            is_remote=True,
            trace_flags=trace.TraceFlags(1 if context.sampled else 0),
        )
        return trace.set_span_in_context(trace.NonRecordingSpan(remote), self.empty())

    @staticmethod
    def context_of(span, sampled_default: bool = True) -> TraceContext:
        ctx = span.get_span_context()
        sampled = bool(ctx.trace_flags & 1) if ctx.is_valid else sampled_default
        return TraceContext(f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}", sampled)


_sdk: _Sdk | None = None


def enable_from_env(process: str) -> bool:
    """Export spans when OTEL_EXPORTER_OTLP_ENDPOINT is set, over OTLP http/protobuf
    (every collector takes it; the gRPC exporter would add grpcio, ~19 MB, to the image);
    the exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself. True when it
    did.

    Unless OTEL_TRACES_SAMPLER says otherwise, one trace in ten (DEFAULT_SAMPLE_RATIO)
    is exported, chosen where it starts and followed by every process: exporting every
    span of zero-work jobs costs a sixth of the pipeline's throughput
    (docs/benchmarks.md). Log lines name their trace either way."""
    if not env_str("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    sampler = None
    if not env_str("OTEL_TRACES_SAMPLER"):
        sampler = ParentBased(TraceIdRatioBased(DEFAULT_SAMPLE_RATIO))
    use_exporter(OTLPSpanExporter(), process, batch=True, sampler=sampler)
    log.info(
        "exporting spans over OTLP as clapstream-%s (%s)",
        process,
        _sdk.provider.sampler.get_description(),
    )
    return True


def use_exporter(exporter, process: str, *, batch: bool = False, sampler=None) -> None:
    """Send spans to this OpenTelemetry span exporter (tests: an in-memory one); the
    sampler, when given, chooses which traces."""
    global _sdk
    disable()
    _sdk = _Sdk(exporter, process, batch, sampler)


def disable() -> None:
    """Stop exporting (flushing what is pending); ids and logs go on as before."""
    global _sdk
    if _sdk is not None:
        _sdk.provider.shutdown()
    _sdk = None


def exporting() -> bool:
    return _sdk is not None


def start_trace() -> TraceContext:
    """A new trace's context, sampled as the exporter's sampler decides (for a trace
    that starts outside any span, e.g. a job submitted by a command)."""
    context = TraceContext.root()
    if _sdk is None:
        return context
    decision = _sdk.provider.sampler.should_sample(None, int(context.trace_id, 16), "trace")
    return TraceContext(context.trace_id, context.span_id, decision.decision.is_sampled())


def _recording(parent: TraceContext | None) -> "_Sdk | None":
    """The SDK, when this span may be exported: not in a trace its root left unsampled
    (OTEL_TRACES_SAMPLER), whose spans would be dropped anyway; there the ids are
    made without it, at a tenth of the cost."""
    return _sdk if parent is None or parent.sampled else None


class span:
    """A span as the current one: a child of `parent` (default: the current span; None
    starts a new trace), its ids bound to every log line logged inside. A class, not a
    generator: it sits on the worker's per-clap path."""

    __slots__ = ("_attributes", "_bound", "_kind", "_name", "_otel", "_parent")

    def __init__(self, name: str, parent=_CURRENT, *, kind: str = "internal", **attributes):
        self._name, self._kind, self._attributes = name, kind, attributes
        self._parent = _current.get() if parent is _CURRENT else parent
        self._otel = None

    def __enter__(self) -> Span:
        parent, sdk = self._parent, _recording(self._parent)
        if sdk is None:
            context = parent.child() if parent is not None else TraceContext.root()
        else:
            self._otel = sdk.tracer.start_span(
                self._name,
                context=sdk.parent(parent),
                kind=sdk.kinds[self._kind],
                attributes={k: v for k, v in self._attributes.items() if v is not None},
            )
            context = sdk.context_of(self._otel, parent.sampled if parent else True)
        self._bound = as_current(context)
        self._bound.__enter__()
        return Span(context, self._otel)

    def __exit__(self, kind, exc, traceback) -> None:
        self._bound.__exit__(kind, exc, traceback)
        if self._otel is not None:
            if exc is not None:
                self._otel.record_exception(exc)
                Span(self._bound.context, self._otel).fail(f"{kind.__name__}: {exc}")
            self._otel.end()


def record_span(
    name: str,
    parent: TraceContext | None,
    started: float,
    ended: float,
    *,
    kind: str = "internal",
    **attributes,
) -> TraceContext:
    """A span that already happened (epoch seconds), e.g. one write of a batch that
    served many traces; returns its context for the log lines about it."""
    sdk = _recording(parent)
    if sdk is None:
        return parent.child() if parent is not None else TraceContext.root()
    otel = sdk.tracer.start_span(
        name,
        context=sdk.parent(parent),
        kind=sdk.kinds[kind],
        attributes={k: v for k, v in attributes.items() if v is not None},
        start_time=int(started * 1e9),
    )
    otel.end(end_time=int(ended * 1e9))
    return sdk.context_of(otel, parent.sampled if parent else True)


class as_current:
    """Lines logged inside belong to this context (when there is one), without a new
    span: for code that only reports on a traced message."""

    __slots__ = ("_logs", "_token", "context")

    def __init__(self, context: TraceContext | None) -> None:
        self.context = context

    def __enter__(self) -> None:
        if self.context is not None:
            self._token = _current.set(self.context)
            self._logs = logs.job_context(
                trace_id=self.context.trace_id, span_id=self.context.span_id
            )
            self._logs.__enter__()

    def __exit__(self, *exc) -> None:
        if self.context is not None:
            self._logs.__exit__(*exc)
            _current.reset(self._token)


@contextmanager
def about_message(msg, **fields) -> Iterator[None]:
    """Lines logged inside name a Kafka record: its job (the key), topic, partition,
    offset and trace; spans started inside continue its trace."""
    key = msg.key()
    with (
        logs.job_context(
            job_id=key.decode("utf-8", "replace") if key else None,
            topic=msg.topic(),
            partition=msg.partition(),
            offset=msg.offset(),
            **fields,
        ),
        as_current(from_message(msg)),
    ):
        yield
