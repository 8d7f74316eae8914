"""The system as pods: the image from `make image` run by the cluster's kubelet on
containerd (tools/cluster/node.py), deployed by the pods e2e overlay
(kustomize/tests/pods-e2e) against the session's private broker and a throw-away
PostgreSQL, all on loopback.

What is checked where it would show: pod readiness through the API, jobs through the
web pod's HTTP API and the database the recorder pod writes, pod deletions and
scale-ins through the API, KEDA's scaling through the HPA and the pods that run.
"""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from streams.config import kafka_config
from streams.lag import OffsetReader
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_keda_scaling import wait_for
from tools.cluster import node, pods
from tools.cluster.timeline import Timeline, run_stamp

pytestmark = pytest.mark.kafka

# 100 claps of 200 ms: a job runs for about 20 s, long enough to be interrupted.
LONG_JOB = 100


class Site:
    """One anonymous owner of the web pod, over its HTTP API (CSRF double submit)."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()
        self.csrf = uuid.uuid4().hex
        self.http.cookies.set("csrftoken", self.csrf)
        self.http.get(f"{url}/api/claps/", timeout=10).raise_for_status()

    def submit(self, claps: int) -> str:
        answer = self.http.post(
            f"{self.url}/api/claps/",
            json={"claps": claps},
            headers={"X-CSRFToken": self.csrf, "Origin": self.url},
            timeout=10,
        )
        assert answer.status_code == 202, answer.text
        return answer.json()["id"]

    def status(self, job_id: str) -> str:
        return self.http.get(f"{self.url}/api/claps/{job_id}/", timeout=10).json()["status"]


class Database:
    """The PostgreSQL the web, recorder and sampler pods share."""

    def __init__(self, url: str):
        self.url = url

    def rows(self, sql: str, *params) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def execute(self, sql: str, *params) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql, params)

    def exists(self, job_id: str) -> bool:
        return bool(self.rows("SELECT 1 FROM claps_clapjob WHERE id = %s", job_id))

    def job(self, job_id: str) -> dict:
        ((status, worker, attempts),) = self.rows(
            "SELECT status, worker, attempts FROM claps_clapjob WHERE id = %s", job_id
        )
        return {"status": status, "worker": worker, "attempts": attempts}

    def transitions(self, job_id: str) -> list[tuple[str, str]]:
        return self.rows(
            "SELECT status, worker FROM claps_transition WHERE job_id = %s ORDER BY id", job_id
        )

    def done(self, job_ids: list[str]) -> int:
        ((count,),) = self.rows(
            "SELECT count(*) FROM claps_clapjob WHERE status = 'done' AND id = ANY(%s)",
            [uuid.UUID(i) for i in job_ids],
        )
        return count


@pytest.fixture(scope="module")
def stack(cluster, kafka_broker):
    # Many jobs from one owner, all from 127.0.0.1, in the scaling test: no limit in the way.
    with pods.running(
        cluster, kafka_config(), CLAP_SUBMIT_RATE="100000/min", CLAP_ADDRESS_RATE=""
    ) as s:
        yield s


@pytest.fixture(scope="module")
def site(stack):
    return Site(stack.url)


@pytest.fixture(scope="module")
def db(stack):
    return Database(stack.database_url)


def running_on(db: Database, job_id: str) -> str:
    """Wait until a worker pod is performing the job; its pod name."""

    def worker():
        job = db.job(job_id)
        return job["status"] == "running" and job["worker"]

    return wait_for(worker, 120, f"job {job_id} running on a worker pod")


def finished(db: Database, job_id: str, timeout: float = 180) -> dict:
    wait_for(
        lambda: db.job(job_id)["status"] in ("done", "failed", "cancelled"),
        timeout,
        f"job {job_id} final",
    )
    return db.job(job_id)


def pod_names(stack) -> set[str]:
    return {p["metadata"]["name"] for p in stack.worker_pods()}


def test_the_overlays_pods_become_ready_on_the_node(stack):
    for deployment in pods.DEPLOYMENTS:
        d = stack.get("deployments", deployment)
        assert d["status"].get("readyReplicas") == d["spec"]["replicas"] >= 1, deployment
    for job in stack.get("jobs")["items"]:
        assert job["status"].get("succeeded") == 1, job["metadata"]["name"]
    for pod in stack.get("pods", selector="app.kubernetes.io/name=clapstream")["items"]:
        spec = pod["spec"]
        assert spec["nodeName"] == node.NAME
        assert spec["hostNetwork"] is True
        assert pod["status"]["hostIP"] == "127.0.0.1"
        (container,) = pod["status"]["containerStatuses"]
        assert container["image"].endswith("clapstream:0.1.0"), container["image"]


def test_a_job_submitted_to_the_web_pod_is_done_by_a_worker_pod_and_recorded(stack, site, db):
    job_id = site.submit(claps=3)
    job = finished(db, job_id)
    assert job["status"] == "done"
    assert job["worker"] in pod_names(stack)
    # The recorder pod (the only member of its group) wrote the job's history.
    history = db.transitions(job_id)
    assert ("done", job["worker"]) in history, history
    assert site.status(job_id) == "done"


def test_the_nightly_prune_runs_as_a_pod_and_removes_only_old_finished_jobs(stack, site, db):
    """The prune CronJob, started now rather than at night: its pod gets the settings,
    Secrets and mounts the overlay gives it, reaches the database and does its work."""
    old, recent = site.submit(claps=1), site.submit(claps=1)
    assert [finished(db, j)["status"] for j in (old, recent)] == ["done", "done"]
    db.execute(
        "UPDATE claps_clapjob SET created_at = created_at - interval '400 days',"
        " finished_at = finished_at - interval '400 days' WHERE id = %s",
        old,
    )
    name = f"clapstream-prune-now-{uuid.uuid4().hex[:6]}"
    stack.cluster.kubectl(
        "create", "job", name, "--from=cronjob/clapstream-prune", "-n", pods.NAMESPACE
    )

    def ended() -> dict | None:
        status = stack.get("jobs", name)["status"]
        return status if status.get("succeeded") or status.get("failed") else None

    status = wait_for(ended, 180, f"the Job {name} to end")
    assert status.get("succeeded") == 1, (status, pods.describe(stack))
    assert not db.exists(old)
    assert db.exists(recent)


def test_deleting_the_pod_during_a_job_loses_nothing(stack, site, db):
    job_id = site.submit(claps=LONG_JOB)
    victim = running_on(db, job_id)
    stack.cluster.kubectl("delete", "pod", victim, "-n", pods.NAMESPACE, "--wait=false")
    job = finished(db, job_id)
    assert job["status"] == "done", job
    # Its running clap finished, the rest were handed back and done by the new pod.
    assert job["worker"] != victim
    assert victim not in pod_names(stack)
    assert [s for s, _ in db.transitions(job_id)].count("done") == 1


def _scale(stack, minimum: int, maximum: int) -> None:
    patch = {"spec": {"minReplicaCount": minimum, "maxReplicaCount": maximum}}
    stack.cluster.kubectl(
        "patch", "scaledobject", pods.WORKER, "-n", pods.NAMESPACE, "--type=merge",
        "-p", json.dumps(patch),
    )  # fmt: skip


def test_a_scale_in_loses_nothing(stack, site, db):
    _scale(stack, 2, 2)
    wait_for(lambda: len(stack.ready_worker_pods()) == 2, 180, "two worker pods Ready")
    job_id = site.submit(claps=LONG_JOB)
    busy = running_on(db, job_id)
    # The ReplicaSet removes the pod with the lowest deletion cost first: the busy one.
    stack.cluster.kubectl(
        "annotate", "pod", busy, "-n", pods.NAMESPACE,
        "controller.kubernetes.io/pod-deletion-cost=-1000",
    )  # fmt: skip
    _scale(stack, 1, 1)
    wait_for(lambda: busy not in pod_names(stack), 120, f"the scale-in to remove {busy}")
    job = finished(db, job_id)
    assert job["status"] == "done", job
    assert job["worker"] != busy and job["worker"] in pod_names(stack)
    _scale(stack, 1, 4)


def test_the_workers_scale_out_on_lag_and_back_in(stack, site, db):
    scaled = stack.get("scaledobjects", pods.WORKER)["spec"]
    assert (scaled["minReplicaCount"], scaled["maxReplicaCount"]) == (1, 4)
    wait_for(lambda: len(stack.ready_worker_pods()) == 1, 180, "one worker pod")
    reader = OffsetReader(stack.kafka)

    timeline = Timeline(lambda: stack.sample(reader)).start()
    try:
        # About 200 s of work for one worker, submitted by four owners at once: a lag
        # of more than 4 x lagThreshold (20), so KEDA asks for all four pods.
        timeline.mark("submit")
        owners = [site, *(Site(stack.url) for _ in range(3))]
        with ThreadPoolExecutor(len(owners)) as pool:
            batches = pool.map(lambda owner: [owner.submit(claps=10) for _ in range(25)], owners)
        jobs = [job for batch in batches for job in batch]
        peak = wait_for(
            lambda: (n := len(stack.ready_worker_pods())) >= 3 and n,
            180,
            "KEDA to scale the workers out",
        )
        timeline.mark(f"{peak} worker pods")
        wait_for(lambda: db.done(jobs) == len(jobs), 400, "every job done", interval=2)
        timeline.mark("all done")
        wait_for(lambda: len(stack.worker_pods()) == 1, 180, "the workers back to one")
        timeline.mark("scaled in")
    finally:
        timeline.stop()
        reader.close()
        _save(timeline)
    assert max(s["hpa_desired"] or 0 for s in timeline.samples) == 4
    assert db.done(jobs) == len(jobs)


def _save(timeline: Timeline) -> None:
    title = f"Worker pods scaled by KEDA on lag (make e2e, {run_stamp()})"
    timeline.save(ARTIFACTS, "pods-timeline", title)
