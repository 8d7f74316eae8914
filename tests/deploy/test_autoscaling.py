"""The worker autoscaling agrees with the app's own Kafka settings, and never asks
for more workers than clap.jobs has partitions."""

import pytest
import yaml

from tools.deploy.manifests import (
    DEPLOYABLE,
    app_kafka_config,
    build_id,
    container_env,
    of_kind,
    one,
    using,
)

WORKER = "clapstream-worker"


def worker_container(objects):
    (container,) = one(objects, "Deployment", WORKER)["spec"]["template"]["spec"]["containers"]
    return container


def scaled_objects(objects):
    return [o for o in of_kind(objects, "ScaledObject") if o["metadata"]["name"] == WORKER]


def hpas(objects):
    return [
        o for o in of_kind(objects, "HorizontalPodAutoscaler") if o["metadata"]["name"] == WORKER
    ]


@pytest.mark.parametrize("path", DEPLOYABLE, ids=build_id)
def test_exactly_one_autoscaler_owns_the_workers(path, objects):
    assert len(scaled_objects(objects)) + len(hpas(objects)) == 1
    # A `replicas` in the Deployment would reset the count on every apply.
    assert "replicas" not in one(objects, "Deployment", WORKER)["spec"]


@pytest.mark.parametrize("path", DEPLOYABLE, ids=build_id)
def test_workers_never_outnumber_the_partitions(path, objects):
    partitions = app_kafka_config(objects).topics.jobs_partitions
    ceilings = [s["spec"]["maxReplicaCount"] for s in scaled_objects(objects)]
    ceilings += [h["spec"]["maxReplicas"] for h in hpas(objects)]
    floors = [s["spec"]["minReplicaCount"] for s in scaled_objects(objects)]
    floors += [h["spec"]["minReplicas"] for h in hpas(objects)]
    assert ceilings and all(
        1 <= f <= c <= partitions for f, c in zip(floors, ceilings, strict=True)
    )
    for topic in of_kind(objects, "KafkaTopic"):
        if topic["spec"]["topicName"] == app_kafka_config(objects).topics.jobs:
            assert topic["spec"]["partitions"] == partitions


KEDA_BUILDS = using("keda-kafka-autoscaling")


@pytest.mark.parametrize("path", KEDA_BUILDS, ids=build_id)
def test_keda_trigger_asks_about_the_workers_group_and_topic(path, objects):
    kafka = app_kafka_config(objects)
    (scaled,) = scaled_objects(objects)
    assert scaled["spec"]["scaleTargetRef"]["name"] == WORKER
    (trigger,) = scaled["spec"]["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "kafka"
    assert meta["consumerGroup"] == kafka.worker_group == "clap-workers"
    assert meta["topic"] == kafka.topics.jobs == "clap.jobs"
    # The broker address comes from the worker's own environment, whatever sets it.
    env = container_env(worker_container(objects), objects)
    assert env[meta["bootstrapServersFromEnv"]] == kafka.bootstrap_servers
    assert "bootstrapServers" not in meta
    assert meta["lagThreshold"] == "10"
    assert meta["activationLagThreshold"] == "0"
    assert meta["offsetResetPolicy"] == "earliest"
    # Idle consumers beyond the partition count would be pointless.
    assert meta["allowIdleConsumers"] == "false"


@pytest.mark.parametrize("path", KEDA_BUILDS, ids=build_id)
def test_keda_scales_up_fast_and_down_calmly(path, objects):
    (scaled,) = scaled_objects(objects)
    behavior = scaled["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 300
    fallback = scaled["spec"]["fallback"]["replicas"]
    assert scaled["spec"]["minReplicaCount"] <= fallback <= scaled["spec"]["maxReplicaCount"]


@pytest.mark.parametrize("path", KEDA_BUILDS, ids=build_id)
def test_keda_uses_the_apps_kafka_credentials(path, objects):
    """With SASL_SSL the trigger authenticates like the app does, from the same Secret;
    without it, KEDA is given no credentials it would not use."""
    env = container_env(worker_container(objects), objects)
    (trigger,) = scaled_objects(objects)[0]["spec"]["triggers"]
    if env["KAFKA_SECURITY_PROTOCOL"] != "SASL_SSL":
        assert "authenticationRef" not in trigger
        assert not of_kind(objects, "TriggerAuthentication")
        return
    assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert trigger["metadata"]["sasl"] == "scram_sha512"
    assert trigger["metadata"]["tls"] == "enable"
    auth = one(objects, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    refs = {r["parameter"]: (r["name"], r["key"]) for r in auth["spec"]["secretTargetRef"]}
    assert set(refs) == {"username", "password", "ca"}
    (secret,) = {name for name, _ in refs.values()}
    username = next(
        e for e in worker_container(objects)["env"] if e["name"] == "KAFKA_SASL_USERNAME"
    )
    assert username["valueFrom"]["secretKeyRef"] == {"name": secret, "key": refs["username"][1]}


HPA_BUILDS = using("hpa-prometheus")


@pytest.mark.parametrize("path", HPA_BUILDS, ids=build_id)
def test_hpa_reads_the_lag_metric_the_adapter_rule_serves(path, objects):
    kafka = app_kafka_config(objects)
    (hpa,) = hpas(objects)
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "External"
    name = metric["external"]["metric"]["name"]
    assert name == "clapstream_consumergroup_total_lag"
    assert metric["external"]["metric"]["selector"]["matchLabels"] == {"group": kafka.worker_group}
    assert metric["external"]["target"] == {"type": "AverageValue", "averageValue": "10"}
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300

    rules = one(objects, "ConfigMap", "clapstream-prometheus-adapter-rules")
    (rule,) = yaml.safe_load(rules["data"]["config.yaml"])["externalRules"]
    assert rule["seriesQuery"].startswith(f"{name}{{")
    assert rule["name"]["as"] == name
    # Each web replica exports the same group lag: never sum them.
    assert rule["metricsQuery"].startswith("max(") and "by (group)" in rule["metricsQuery"]
