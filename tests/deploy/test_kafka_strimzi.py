"""The in-cluster Kafka (Strimzi) has the topics the app expects, and the app talks
to it."""

import pytest

from streams.topics import topic_specs
from tools.deploy.manifests import app_kafka_config, build_id, of_kind, one, using

STRIMZI_BUILDS = using("kafka-strimzi")


@pytest.mark.parametrize("path", STRIMZI_BUILDS, ids=build_id)
def test_kafka_topics_are_the_ones_ensure_topics_creates(path, objects):
    kafka = app_kafka_config(objects)
    cluster = one(objects, "Kafka", "clapstream")["metadata"]["name"]
    declared = {
        t["spec"]["topicName"]: t
        for t in of_kind(objects, "KafkaTopic")
        if t["metadata"]["labels"]["strimzi.io/cluster"] == cluster
    }
    wanted = {spec.name: spec for spec in topic_specs(kafka)}
    assert (
        set(declared)
        == set(wanted)
        == {"clap.jobs", "clap.events", "clap.jobs.dlq", "clap.control"}
    )
    for name, spec in wanted.items():
        topic = declared[name]["spec"]
        assert topic["partitions"] == spec.partitions, name
        assert topic["replicas"] == kafka.topics.replication_factor, name
        assert {k: str(v) for k, v in topic["config"].items()} == spec.config, name
    assert declared["clap.jobs"]["spec"]["partitions"] == 12
    assert declared["clap.events"]["spec"]["partitions"] == 12
    assert declared["clap.jobs.dlq"]["spec"]["partitions"] == 1
    assert "compact" in declared["clap.control"]["spec"]["config"]["cleanup.policy"]


@pytest.mark.parametrize("path", STRIMZI_BUILDS, ids=build_id)
def test_app_uses_the_in_cluster_kafka(path, objects):
    cluster = one(objects, "Kafka", "clapstream")
    assert cluster["apiVersion"] == "kafka.strimzi.io/v1"  # Strimzi 1.x serves nothing else
    (plain,) = [lst for lst in cluster["spec"]["kafka"]["listeners"] if not lst["tls"]]
    # Fully qualified: KEDA's operator resolves it from its own namespace.
    namespace = cluster["metadata"]["namespace"]
    bootstrap = f"{cluster['metadata']['name']}-kafka-bootstrap.{namespace}.svc:{plain['port']}"
    assert app_kafka_config(objects).bootstrap_servers == bootstrap
    pools = [
        p
        for p in of_kind(objects, "KafkaNodePool")
        if p["metadata"]["labels"]["strimzi.io/cluster"] == cluster["metadata"]["name"]
    ]
    roles = {role for p in pools for role in p["spec"]["roles"]}
    assert roles == {"controller", "broker"}
