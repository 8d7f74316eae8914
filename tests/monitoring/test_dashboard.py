"""The Grafana dashboard loads, tells the spike story, and names only metrics the
real stack serves: a daphne web process, a worker, the recorder and the sampler
run a job through the real broker, their endpoints are scraped live, and a real
Prometheus scraping them answers every panel's query."""

import json
import re
import shutil
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.monitoring.promtool import ROOT
from tests.support.pipeline import answers, start_web
from tools.ports import free_port
from tools.waiting import wait_until
from webapp.claps.models import ClapJob, Status

DASHBOARD = ROOT / "kustomize" / "components" / "monitoring" / "dashboard.json"
STORY = (
    "Submissions/s",
    "Lag per consumer group",
    "KEDA desired vs live workers",
    "Jobs done/s",
    "Job latency percentiles",
    "Dead letters",
)
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or"}
KEYWORDS |= {"unless", "bool", "offset"}
NAMESPACE = "clapstream-test"


def _board() -> dict:
    return json.loads(DASHBOARD.read_text())


def _panels(board: dict) -> list[dict]:
    return [p for p in board["panels"] if p["type"] != "row"]


def _expressions(board: dict) -> list[str]:
    return [t["expr"] for p in _panels(board) for t in p["targets"]]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: identifiers left once strings,
    label matchers, ranges and grouping clauses are gone, that call nothing."""
    expr = re.sub(r'"[^"]*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = re.findall(r"\b[a-zA-Z_:][\w:]*\b(?!\s*\()", expr)
    return {n for n in names if n not in KEYWORDS and not re.fullmatch(r"[0-9eE.]+", n)}


def _all_metric_names(board: dict) -> set[str]:
    names = set().union(*(metric_names(e) for e in _expressions(board)))
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            names |= set(re.findall(r"label_values\((\w+)", variable["definition"]))
    return names


def test_metric_names_are_read_from_promql():
    expr = (
        'histogram_quantile(0.9, sum by (le) (rate(a_seconds_bucket{ns="$x",q=~"b.*"}[2m])))'
        " and on (ns, group) max by (group) (c_total offset 5m) > 3"
    )
    assert metric_names(expr) == {"a_seconds_bucket", "c_total"}


def test_the_dashboard_tells_the_spike_story():
    board = _board()
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    titles = [p["title"] for p in _panels(board)]
    assert set(STORY) <= set(titles)
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["query"] == "prometheus"
    for panel in _panels(board):
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert 'namespace="$namespace"' in target["expr"], panel["title"]
            assert metric_names(target["expr"]), target["expr"]
    assert all(n.startswith("clapstream_") for n in _all_metric_names(board))


def _scrape(url: str) -> set[str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def _prometheus_config(targets: dict[str, str]) -> str:
    return yaml.safe_dump(
        {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                {
                    "job_name": job,
                    "static_configs": [{"targets": [target], "labels": {"namespace": NAMESPACE}}],
                }
                for job, target in targets.items()
            ],
        }
    )


def _query(base: str, expr: str) -> list:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)["data"]["result"]


@pytest.fixture
def prometheus(stack):
    binary = shutil.which("prometheus")
    assert binary, "prometheus is missing: install Debian's prometheus package"
    data = Path(tempfile.mkdtemp(prefix="clapstream-prometheus-"))
    port = free_port()

    def start(targets: dict[str, str]) -> str:
        config = data / "prometheus.yml"
        config.write_text(_prometheus_config(targets))
        argv = [binary, f"--config.file={config}", f"--storage.tsdb.path={data / 'tsdb'}"]
        stack.group.start("prometheus", [*argv, f"--web.listen-address=127.0.0.1:{port}"], {})
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: answers(f"{base}/-/ready"), timeout=30, what="Prometheus")
        return base

    yield start
    if "prometheus" in stack.group.children:
        stack.group.stop("prometheus", timeout=10)
    shutil.rmtree(data, ignore_errors=True)


@pytest.mark.kafka
def test_every_panel_is_answered_by_a_real_scrape_of_the_stack(stack, prometheus):
    worker_port, recorder_port = free_port(), free_port()
    web = start_web(stack)
    stack.recorder(RECORDER_METRICS_PORT=str(recorder_port))
    stack.worker("worker-1", CLAP_WORK_MS="0", WORKER_METRICS_PORT=str(worker_port))
    stack.group.start(
        "sampler",
        [sys.executable, "manage.py", "sample_streams"],
        {**stack.env, "SAMPLE_INTERVAL": "1"},
    )
    body = json.dumps({"claps": 3}).encode()
    request = urllib.request.Request(
        f"{web}/api/claps/", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
        job = json.load(response)["id"]
    wait_until(
        lambda: ClapJob.objects.filter(id=job, status=Status.DONE).exists(),
        timeout=60,
        what="the job to be done",
    )
    wanted = _all_metric_names(_board())
    endpoints = {
        "web": f"{web}/metrics",
        "worker": f"http://127.0.0.1:{worker_port}/metrics",
        "recorder": f"http://127.0.0.1:{recorder_port}/metrics",
    }
    wait_until(
        lambda: wanted <= set().union(*(_scrape(url) for url in endpoints.values())),
        timeout=30,
        what="the sampler's first samples",
    )

    base = prometheus({job: url.split("/")[2] for job, url in endpoints.items()})
    expressions = [e.replace("$namespace", NAMESPACE) for e in _expressions(_board())]

    def unanswered() -> list[str]:
        return [e for e in expressions if not _query(base, e)]

    try:
        wait_until(lambda: not unanswered(), timeout=60, what="every panel's query to answer")
    except TimeoutError:
        raise AssertionError(f"queries without data: {unanswered()}") from None
