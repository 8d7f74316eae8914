"""The whole system as pods on the local cluster's node: the pods e2e overlay
(kustomize/tests/pods-e2e) applied with what is chosen at run time.

What the overlay cannot know is filled in here: the broker's address, a private set
of topics and groups on it, a throw-away PostgreSQL on 127.0.0.1 shared by the web,
recorder and sampler pods (and the migrate Job), the web's port on the host's
network, and the Secrets. `running()` brings it all up and takes it down again.
"""

import contextlib
import dataclasses
import json
import logging
import secrets
import time
from collections.abc import Iterator

from streams.config import KafkaConfig
from streams.lag import OffsetReader
from tools.cluster.plane import Cluster, ClusterError
from tools.deploy.manifests import PODS_E2E, app_kafka_config, build, one
from tools.ports import free_port
from tools.postgres import temp_postgres
from tools.sandbox import private_kafka

log = logging.getLogger(__name__)

OVERLAY = PODS_E2E
NAMESPACE = "clapstream-pods"
WEB, WORKER, RECORDER, SAMPLER = (
    f"clapstream-{c}" for c in ("web", "worker", "recorder", "sampler")
)
DEPLOYMENTS = (WEB, WORKER, RECORDER, SAMPLER)
WORKER_SELECTOR = "app.kubernetes.io/component=worker"
API_PATHS = {
    "pods": "/api/v1",
    "deployments": "/apis/apps/v1",
    "jobs": "/apis/batch/v1",
    "horizontalpodautoscalers": "/apis/autoscaling/v2",
    "scaledobjects": "/apis/keda.sh/v1alpha1",
}
STRICT_APPLY = ("apply", "--server-side", "--force-conflicts", "--validate=strict")


@dataclasses.dataclass
class Stack:
    cluster: Cluster
    kafka: KafkaConfig
    database_url: str
    web_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def env(self) -> dict[str, str]:
        """Environment for local tools that talk to the same topics and database."""
        return {**self.kafka.to_env(), "DATABASE_URL": self.database_url}

    def get(self, kind: str, name: str = "", selector: str = "") -> dict | None:
        """An object of the namespace (None if there is none), or the list of a kind."""
        path = f"{API_PATHS[kind]}/namespaces/{NAMESPACE}/{kind}" + (f"/{name}" if name else "")
        return self.cluster.api().get(path, **({"labelSelector": selector} if selector else {}))

    def worker_pods(self) -> list[dict]:
        """The worker pods that exist and are not being deleted."""
        pods = self.get("pods", selector=WORKER_SELECTOR)["items"]
        return [p for p in pods if not p["metadata"].get("deletionTimestamp")]

    def ready_worker_pods(self) -> list[dict]:
        return [p for p in self.worker_pods() if pod_ready(p)]

    def sample(self, reader: OffsetReader) -> dict:
        """One point of the scaling chain (tools/cluster/timeline.py's series): the lag,
        the HPA's desired replicas, the Deployment's replicas, the worker pods Ready."""
        offsets = reader.offsets(self.kafka.worker_group, self.kafka.topics.jobs)
        hpa = self.get("horizontalpodautoscalers", WORKER) or {}
        return {
            "lag": sum(p.unread() for p in offsets),
            "hpa_desired": hpa.get("status", {}).get("desiredReplicas"),
            "replicas": self.get("deployments", WORKER)["spec"].get("replicas"),
            "worker_pods": len(self.ready_worker_pods()),
        }


def pod_ready(pod: dict) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c["type"] == "Ready":
            return c["status"] == "True"
    return False


def manifests(kafka: KafkaConfig, database_url: str, web_port: int, **settings) -> list[dict]:
    """The overlay's objects with this run's broker, topics, groups, port and Secrets;
    settings override entries of the ConfigMap (e.g. CLAP_WORK_MS)."""
    objects = build(OVERLAY)
    (config,) = (
        o
        for o in objects
        if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("clapstream-config")
    )
    config["data"].update(kafka.to_env(), **{k: str(v) for k, v in settings.items()})
    (trigger,) = one(objects, "ScaledObject", WORKER)["spec"]["triggers"]
    trigger["metadata"].pop("bootstrapServersFromEnv", None)
    trigger["metadata"].update(
        bootstrapServers=kafka.bootstrap_servers,
        topic=kafka.topics.jobs,
        consumerGroup=kafka.worker_group,
    )
    # On the host's network the web listens on a port of this run.
    (web,) = one(objects, "Deployment", WEB)["spec"]["template"]["spec"]["containers"]
    web["command"][web["command"].index("-p") + 1] = str(web_port)
    web["ports"][0]["containerPort"] = web_port
    objects += [
        _secret(
            "clapstream-app",
            {"secret-key": secrets.token_urlsafe(50), "metrics-token": secrets.token_urlsafe(24)},
        ),
        _secret("clapstream-database", {"url": database_url}),
    ]
    return objects


def _secret(name: str, data: dict[str, str]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "stringData": data,
    }


def apply(cluster: Cluster, objects: list[dict]) -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    listing = {"apiVersion": "v1", "kind": "List", "items": [namespace, *objects]}
    cluster.kubectl(*STRICT_APPLY, "-f", "-", stdin=json.dumps(listing))


def wait_ready(stack: Stack, timeout: float = 300) -> None:
    """The Jobs complete and every Deployment has all its pods Ready."""
    deadline = time.monotonic() + timeout
    for kind, name, condition in (
        *(("job", j, "condition=Complete") for j in _jobs(stack)),
        *(("deployment", d, "condition=Available") for d in DEPLOYMENTS),
    ):
        left = max(1, int(deadline - time.monotonic()))
        done = stack.cluster.kubectl(
            "wait", kind, name, "-n", NAMESPACE, f"--for={condition}", f"--timeout={left}s",
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise ClusterError(f"{kind} {name} not {condition}: {done.stderr}\n{describe(stack)}")


def _jobs(stack: Stack) -> list[str]:
    return [j["metadata"]["name"] for j in stack.get("jobs")["items"]]


# A node's taints and the conditions that hold (Ready, or a pressure that evicts pods).
NODE_STATE = (
    "{range .items[*]}{.metadata.name}: taints {.spec.taints[*].key}; "
    '{range .status.conditions[?(@.status=="True")]}{.type} {end}{"\\n"}{end}'
)


def describe(stack: Stack) -> str:
    """The pods and their states, the node's, and the namespace's warnings (an eviction
    says why), for an error message."""
    kubectl = stack.cluster.kubectl
    return "\n".join(
        (
            kubectl("get", "pods", "-n", NAMESPACE, "-o", "wide", check=False).stdout,
            kubectl("get", "nodes", "-o", f"jsonpath={NODE_STATE}", check=False).stdout,
            *kubectl(
                "get", "events", "-n", NAMESPACE, "--field-selector", "type=Warning",
                "--sort-by=.lastTimestamp", check=False,
            ).stdout.splitlines()[-20:],
        )
    )  # fmt: skip


@contextlib.contextmanager
def running(
    cluster: Cluster, base: KafkaConfig, timeout: float = 300, **settings
) -> Iterator[Stack]:
    """The system as pods, on private topics and a throw-away database, until exit."""
    with temp_postgres("clapstream-pods-") as postgres:
        try:
            partitions = app_kafka_config(build(OVERLAY)).topics.jobs_partitions
            kafka = private_kafka(base, partitions=partitions, prefix="pods")
            stack = Stack(cluster, kafka, postgres.url(), free_port())
            apply(cluster, manifests(kafka, stack.database_url, stack.web_port, **settings))
            wait_ready(stack, timeout)
            yield stack
        finally:
            delete(cluster)


def delete(cluster: Cluster, timeout: float = 120) -> None:
    """The namespace and every pod in it, gone (each pod's grace period honoured)."""
    cluster.kubectl("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=false")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = cluster.kubectl("get", "namespace", NAMESPACE, check=False)
        if done.returncode != 0:
            return
        time.sleep(1)
    log.warning("namespace %s still terminating after %.0f s", NAMESPACE, timeout)
