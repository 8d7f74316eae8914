"""One trace per job: from the HTTP POST through the publish, the worker's job and
each clap attempt, to the recorder's write, in spans and in every log line about the
job; over the real broker, in one process and across the real processes."""

import io
import json
import logging
import urllib.request

import pytest
from rest_framework.test import APIClient

from streams import logs
from tests.support.pipeline import start_web
from tests.support.workers import fast_group
from tools.waiting import wait_until
from webapp.claps.models import ClapJob, Status
from webapp.claps.recorder import Recorder
from worker.app import Worker
from worker.settings import WorkerSettings

pytestmark = [pytest.mark.kafka, pytest.mark.django_db(transaction=True)]

TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"
CALLER = f"00-{TRACE}-{CALLER_SPAN}-01"


@pytest.fixture
def json_lines():
    """Every record logged in this process, as the JSON lines LOG_FORMAT=json writes."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(logs.JobFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def _done(job_id: str) -> bool:
    return ClapJob.objects.filter(id=job_id, status=Status.DONE).exists()


def test_spans_and_log_lines_of_a_job_share_its_callers_trace(
    isolated_kafka, json_lines, spans, tmp_path
):
    fast_group(isolated_kafka)
    response = APIClient().post("/api/claps/", {"claps": 2}, format="json", HTTP_TRACEPARENT=CALLER)
    assert response.status_code == 202
    job_id = response.json()["id"]
    settings = WorkerSettings(
        worker_id="w-trace", clap_work_ms=0, heartbeat_file=tmp_path / "alive"
    )
    worker = Worker(settings, isolated_kafka)
    recorder = Recorder(isolated_kafka)
    worker.start()
    try:

        def step() -> bool:
            worker.step()
            recorder.record_step(0.05)
            return _done(job_id)

        wait_until(step, timeout=60, interval=0, what="the job to be done and recorded")
    finally:
        worker.stop()
        recorder.close()

    finished = spans.get_finished_spans()
    assert {f"{s.context.trace_id:032x}" for s in finished} >= {TRACE}
    mine = [s for s in finished if f"{s.context.trace_id:032x}" == TRACE]
    by_name = {}
    for span in mine:
        by_name.setdefault(span.name, []).append(span)
    assert set(by_name) == {
        "POST api/claps/",
        "publish",
        "clap job",
        "clap attempt",
        "record events",
    }
    (post,), (publish,), (job,) = (
        by_name["POST api/claps/"],
        by_name["publish"],
        by_name["clap job"],
    )
    assert f"{post.parent.span_id:016x}" == CALLER_SPAN
    assert publish.parent.span_id == post.context.span_id
    assert job.parent.span_id == publish.context.span_id
    assert [s.parent.span_id for s in by_name["clap attempt"]] == [job.context.span_id] * 2
    assert {s.parent.span_id for s in by_name["record events"]} == {job.context.span_id}

    about_job = [line for line in json_lines() if line.get("job_id") == job_id]
    assert {line["trace_id"] for line in about_job} == {TRACE}
    loggers = {line["logger"] for line in about_job}
    assert {"webapp.claps.services", "webapp.claps.publisher"} <= loggers  # web
    assert "worker.claps" in loggers
    assert "webapp.claps.recorder" in loggers
    worker_line = next(line for line in about_job if line["logger"] == "worker.claps")
    assert worker_line["worker"] == "w-trace"
    assert worker_line["topic"] == isolated_kafka.topics.jobs
    assert {"partition", "offset"} <= set(worker_line)


def _json_lines(log: str) -> dict[str, list[dict]]:
    """The JSON lines of each process in a Stack's log ("name | line")."""
    lines: dict[str, list[dict]] = {}
    for raw in log.splitlines():
        name, _, line = raw.partition(" | ")
        if line.startswith("{"):
            lines.setdefault(name.strip(), []).append(json.loads(line))
    return lines


def test_the_real_processes_log_one_trace_per_job_as_json(stack):
    stack.env.update({"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"})
    web = start_web(stack)
    stack.recorder()
    stack.worker("worker-1", CLAP_WORK_MS="0")
    request = urllib.request.Request(
        f"{web}/api/claps/",
        json.dumps({"claps": 2}).encode(),
        {"Content-Type": "application/json", "traceparent": CALLER},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        job_id = json.load(response)["id"]

    def logged() -> dict[str, list[dict]]:
        lines = _json_lines(stack.log.getvalue())
        about_job = {
            name: [line for line in process if line.get("job_id") == job_id]
            for name, process in lines.items()
        }
        return about_job if all(about_job.get(p) for p in ("web", "worker-1", "recorder")) else {}

    about_job = wait_until(logged, timeout=60, what="web, worker and recorder lines about the job")
    assert _done(job_id)
    for name, lines in about_job.items():
        assert {line["trace_id"] for line in lines} == {TRACE}, name
        assert {"time", "level", "process", "logger", "message"} <= set(lines[0]), name
    assert {line["process"] for line in about_job["worker-1"]} == {"worker"}
    assert {line["process"] for line in about_job["recorder"]} == {"recorder"}
    assert {line["process"] for line in about_job["web"]} == {"web"}
