"""A short real load: loadgen against daphne, a worker and the recorder."""

import json
import urllib.request

import pytest

from tools.loadgen.clients import FEED, JOB_SOCKETS
from tools.loadgen.profiles import constant
from tools.loadgen.results import save
from tools.loadgen.runner import LoadPlan, generate
from tools.ports import free_port
from tools.waiting import wait_until
from tools.web import SERVER
from webapp.claps.models import ClapJob, Status

pytestmark = pytest.mark.kafka


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@pytest.fixture
def site(stack):
    stack.recorder()
    stack.worker("worker-1", CLAP_WORK_MS="0")
    port = free_port()
    daphne = [*SERVER, "-b", "127.0.0.1", "-p", str(port)]
    stack.group.start("web", [*daphne, "webapp.asgi:application"], stack.env)
    url = f"http://127.0.0.1:{port}"
    wait_until(lambda: ready(url), timeout=60, what="the site's /readyz")
    return url


@pytest.mark.parametrize(
    "sockets", [JOB_SOCKETS, FEED, ""], ids=["job-sockets", "feed", "database"]
)
def test_every_accepted_job_completes_and_results_are_written(
    site, isolated_kafka, tmp_path, sockets
):
    plan = LoadPlan(site, constant(rate=10, seconds=2), users=4, sockets=sockets, drain_timeout=60)
    run = generate(plan, isolated_kafka)
    summary = save(run, tmp_path)

    assert summary["sent"] == summary["accepted"] == 20
    assert summary["errors"] == {}
    assert summary["outcomes"] == {"done": 20}
    ids = [r.job_id for r in run.requests]
    assert ClapJob.objects.filter(id__in=ids, status=Status.DONE).count() == 20
    assert len(set(ClapJob.objects.filter(id__in=ids).values_list("owner", flat=True))) == 4
    if sockets == FEED:  # opened before the first submission: every end arrives live
        assert summary["seen_live"] == 20
        assert all(r.latency > 0 for r in run.requests)
    elif sockets:  # each job's end seen live, or already final when its socket opened
        assert summary["seen_live"] + summary["final_at_snapshot"] == 20
        assert all(r.latency > 0 for r in run.requests if r.live)
        assert all(r.latency is None for r in run.requests if r.live is False)
    else:
        assert all(r.latency > 0 for r in run.requests)

    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["summary"]["done"] == 20
    assert len(saved["requests"]) == 20
    assert any(s["workers"] == 1 for s in saved["samples"])
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")
