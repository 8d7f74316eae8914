"""W3C trace context: parsing, spans that keep the trace, and the OpenTelemetry side."""

import logging

import pytest

from streams import logs, tracing
from streams.tracing import TraceContext

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_traceparent_is_parsed_and_written_back():
    context = TraceContext.parse(PARENT)
    assert context == TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", True)
    assert context.traceparent == PARENT
    assert TraceContext.parse(PARENT.encode()) == context
    assert TraceContext.parse(PARENT[:-2] + "00").sampled is False


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # version 00 is exact
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # short trace id
    ],
)
def test_an_invalid_traceparent_starts_a_new_trace(value):
    assert TraceContext.parse(value) is None


def test_a_future_version_is_read_for_its_known_fields():
    future = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more"
    assert TraceContext.parse(future).trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def _logged_fields() -> dict:
    """The job fields a log line written here carries."""
    record = logging.LogRecord("test", logging.INFO, __file__, 1, "a line", None, None)
    logs.JobFilter().filter(record)
    return record.job or {}


def test_spans_keep_the_trace_and_bind_it_to_the_logs():
    parent = TraceContext.parse(PARENT)
    with tracing.span("outer", parent) as outer:
        assert outer.context.trace_id == parent.trace_id
        assert outer.context.span_id != parent.span_id
        assert tracing.current() == outer.context
        with tracing.span("inner") as inner:
            assert inner.context.trace_id == parent.trace_id
            assert _logged_fields()["span_id"] == inner.context.span_id
        assert _logged_fields() == {"trace_id": parent.trace_id, "span_id": outer.context.span_id}
    assert tracing.current() is None and _logged_fields() == {}
    with tracing.span("root", None) as root:
        assert root.context.trace_id != parent.trace_id


def test_kafka_headers_carry_the_context():
    context = TraceContext.parse(PARENT)
    headers = [("other", b"x"), *[(k, v.encode()) for k, v in tracing.headers(context)]]
    assert tracing.from_headers(headers) == context
    assert tracing.from_headers(None) is None
    assert tracing.headers(None) == []


class _RecordWithForeignHeaders:
    """What confluent-kafka hands over for a record whose header key is not UTF-8:
    headers() raises SystemError. (A Python producer cannot write one.)"""

    def key(self):
        return b"job"

    def topic(self):
        return "clap.jobs"

    def partition(self):
        return 0

    def offset(self):
        return 7

    def headers(self):
        raise SystemError("<built-in method headers> returned a result with an exception set")


def test_a_record_whose_headers_cannot_be_read_carries_no_context():
    record = _RecordWithForeignHeaders()
    assert tracing.from_message(record) is None
    with tracing.about_message(record):
        assert tracing.current() is None
        assert _logged_fields()["offset"] == 7


def test_without_an_endpoint_nothing_is_exported(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert tracing.enable_from_env("test") is False
    assert not tracing.exporting()


def test_exported_spans_continue_the_callers_trace(spans):
    parent = TraceContext.parse(PARENT)
    with (
        tracing.span("job", parent, kind="consumer", job="j1") as job,
        tracing.span("attempt", attempt=1) as attempt,
    ):
        attempt.set(clap=3)
    written = tracing.record_span("write", job.context, 10.0, 10.5, events=4)
    by_name = {s.name: s for s in spans.get_finished_spans()}
    assert set(by_name) == {"job", "attempt", "write"}
    assert {f"{s.context.trace_id:032x}" for s in by_name.values()} == {parent.trace_id}
    assert f"{by_name['job'].parent.span_id:016x}" == parent.span_id
    assert by_name["attempt"].parent.span_id == by_name["job"].context.span_id
    assert f"{by_name['job'].context.span_id:016x}" == job.context.span_id
    assert by_name["attempt"].attributes == {"attempt": 1, "clap": 3}
    assert by_name["write"].parent.span_id == by_name["job"].context.span_id
    assert (by_name["write"].end_time - by_name["write"].start_time) == 500_000_000
    assert written.span_id == f"{by_name['write'].context.span_id:016x}"
    assert by_name["job"].resource.attributes["service.name"] == "clapstream-test"


def test_an_unsampled_trace_goes_on_without_the_sdk(spans):
    unsampled = TraceContext.parse(PARENT[:-2] + "00")
    with tracing.span("job", unsampled) as job, tracing.span("attempt") as attempt:
        assert attempt.context.trace_id == unsampled.trace_id
        assert not attempt.context.sampled
    assert tracing.record_span("write", job.context, 1.0, 2.0).sampled is False
    assert spans.get_finished_spans() == ()


def test_an_exporter_from_the_environment_samples_one_trace_in_ten(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    assert tracing.enable_from_env("test")
    try:
        sampled = sum(tracing.start_trace().sampled for _ in range(4000))
    finally:
        tracing.disable()
    # 400 expected; the bounds are over 10 standard deviations away.
    assert 200 < sampled < 600


def test_the_standard_sampler_variable_overrides_the_default(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    assert tracing.enable_from_env("test")
    try:
        assert all(tracing.start_trace().sampled for _ in range(200))
    finally:
        tracing.disable()


def test_without_an_exporter_a_new_trace_is_sampled():
    assert tracing.start_trace().sampled
