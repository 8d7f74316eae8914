"""What a real cluster would trip over, per overlay: addresses other namespaces must
resolve, Jobs a re-apply must not change, the ingress controller the web pods admit,
and the autoscaling numbers the dashboard shows."""

import os
import re
from unittest import mock

import pytest

from streams.keda import scaling_from_env
from tools.deploy.manifests import (
    DEPLOYABLE,
    OVERLAYS,
    VERSION_LABEL,
    app_config,
    build_id,
    container_env,
    environment,
    of_kind,
    one,
    using,
)

KEDA_BUILDS = using("keda-kafka-autoscaling")


def _worker_env(objects):
    worker = one(objects, "Deployment", "clapstream-worker")
    return container_env(worker["spec"]["template"]["spec"]["containers"][0], objects)


def _unresolvable(servers: str, namespace: str) -> list[str]:
    """The broker addresses KEDA's operator, in its own namespace, cannot resolve as
    meant: a short Service name, or a Service of another namespace than the pods'."""
    problems = []
    for server in servers.split(","):
        host, _, port = server.rpartition(":")
        in_cluster = re.fullmatch(r"[a-z0-9-]+\.([a-z0-9-]+)\.svc(\.cluster\.local)?", host)
        if not (host and port.isdigit()) or "." not in host:
            problems.append(f"{server}: a short name resolves only in the pods' own namespace")
        elif in_cluster and in_cluster[1] != namespace:
            problems.append(f"{server} is not in {namespace}")
    return problems


@pytest.mark.parametrize("path", KEDA_BUILDS, ids=build_id)
def test_addresses_keda_resolves_are_fully_qualified(path, objects):
    """KEDA's operator resolves the brokers from its own namespace: a short Service
    name (or one of another namespace) fails there, and the workers stay at the
    fallback."""
    scaled = one(objects, "ScaledObject", "clapstream-worker")
    (trigger,) = scaled["spec"]["triggers"]
    meta = trigger["metadata"]
    servers = meta.get("bootstrapServers") or _worker_env(objects)[meta["bootstrapServersFromEnv"]]
    assert _unresolvable(servers, scaled["metadata"]["namespace"]) == []


def test_the_address_check_catches_a_short_name_and_another_namespace():
    dev = "clapstream-dev"
    assert _unresolvable("clapstream-kafka-bootstrap.clapstream-dev.svc:9092", dev) == []
    assert _unresolvable("kafka.example.org:9093", dev) == []
    assert len(_unresolvable("clapstream-kafka-bootstrap:9092", dev)) == 1
    assert len(_unresolvable("clapstream-kafka-bootstrap.other.svc:9092", dev)) == 1


@pytest.mark.parametrize("path", OVERLAYS, ids=build_id)
def test_each_release_runs_jobs_of_its_own(path, objects):
    """A Job's pod template is immutable: applying a new image to a Job of the same
    name fails. Each release's Jobs carry the release in their name, which follows
    the image tag and the version label, and may add a settings revision (a settings
    change within a release needs new Jobs too); a finished Job stays (a TTL would
    make a GitOps tool create it again on every sync)."""
    release, suffix = environment(path)["release"], environment(path)["jobSuffix"]
    assert re.fullmatch(re.escape(release.replace(".", "-")) + r"(-s[0-9]+)?", suffix)
    jobs = of_kind(objects, "Job")
    assert {j["metadata"]["name"] for j in jobs} == {
        f"clapstream-migrate-{suffix}",
        f"clapstream-topics-{suffix}",
    }
    for obj in jobs:  # pod names and hostnames derive from it (a warning otherwise)
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", obj["metadata"]["name"])
    for obj in jobs:
        assert obj["metadata"]["labels"][VERSION_LABEL] == release
        assert "ttlSecondsAfterFinished" not in obj["spec"]
        (container,) = obj["spec"]["template"]["spec"]["containers"]
        assert container["image"].rsplit(":", 1)[1] == release, container["image"]
    web = one(objects, "Deployment", "clapstream-web")
    assert web["spec"]["template"]["spec"]["containers"][0]["image"].endswith(f":{release}")


@pytest.mark.parametrize("path", OVERLAYS, ids=build_id)
def test_ingress_class_and_controller_are_the_overlays(path, objects):
    settings = environment(path)
    ingress = one(objects, "Ingress", "clapstream-web")
    assert ingress["spec"]["ingressClassName"] == settings["ingressClass"]
    policy = one(objects, "NetworkPolicy", "clapstream-web")
    admitted = policy["spec"]["ingress"][0]["from"][0]
    assert admitted["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": settings["ingressControllerNamespace"]
    }
    assert admitted["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": settings["ingressControllerName"]
    }
    # The settings are read by the build, never sent to the cluster.
    names = {o["metadata"]["name"] for o in of_kind(objects, "ConfigMap")}
    assert not any(n.startswith("clapstream-environment") for n in names)


def test_dev_admits_the_traefik_of_k3d():
    settings = environment(next(p for p in OVERLAYS if p.name == "dev"))
    assert (settings["ingressClass"], settings["ingressControllerNamespace"]) == (
        "traefik",
        "kube-system",
    )


@pytest.mark.parametrize("path", KEDA_BUILDS, ids=build_id)
def test_dashboard_shows_the_scaledobjects_numbers(path, objects):
    """The web pods (the Streams dashboard) read the autoscaling numbers from the same
    settings the ScaledObject is built from."""
    scaled = one(objects, "ScaledObject", "clapstream-worker")
    web = one(objects, "Deployment", "clapstream-web")
    env = container_env(web["spec"]["template"]["spec"]["containers"][0], objects)
    with mock.patch.dict(os.environ, env, clear=True):
        shown = scaling_from_env(int(env["CLAP_JOBS_PARTITIONS"]))
    spec = scaled["spec"]
    (trigger,) = spec["triggers"]
    assert shown.min_replicas == spec["minReplicaCount"]
    assert shown.max_replicas == spec["maxReplicaCount"]
    assert shown.lag_threshold == int(trigger["metadata"]["lagThreshold"])
    assert shown.activation_lag_threshold == int(trigger["metadata"]["activationLagThreshold"])


def test_prod_keeps_two_workers(built_all):
    scaled = one(built_all["kustomize/overlays/prod"], "ScaledObject", "clapstream-worker")
    assert scaled["spec"]["minReplicaCount"] == 2


@pytest.mark.parametrize("path", DEPLOYABLE, ids=build_id)
def test_no_persistent_database_connections(path, objects):
    """The site gives connections back when a request ends: the settings refuse persistence."""
    assert app_config(objects).get("DATABASE_CONN_MAX_AGE", "0") == "0"
