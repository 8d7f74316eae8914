"""Every built object against its schema: Kubernetes kinds against the Kubernetes
OpenAPI schemas, KEDA and Strimzi resources against those projects' own CRDs."""

import copy

import pytest

from tests.deploy.schemas import kubernetes_errors
from tools.deploy.fetch import KEDA_VERSION, PROMETHEUS_OPERATOR_VERSION
from tools.deploy.manifests import ALL_BUILDS, build_id, name_of, one

CUSTOM_GROUPS = {"keda.sh", "kafka.strimzi.io", "monitoring.coreos.com"}


def is_custom(obj: dict) -> bool:
    return obj["apiVersion"].split("/")[0] in CUSTOM_GROUPS


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_kubernetes_objects_match_the_kubernetes_schemas(path, objects):
    errors = {name_of(o): kubernetes_errors(o) for o in objects if not is_custom(o)}
    assert not {k: v for k, v in errors.items() if v}


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_custom_resources_match_their_crds(path, objects, crd_schemas):
    custom = [o for o in objects if is_custom(o)]
    unknown = [f"{o['apiVersion']} {name_of(o)}" for o in custom if not crd_schemas.covers(o)]
    served_by = (
        f"KEDA {KEDA_VERSION}, Strimzi {crd_schemas.strimzi_version}, "
        f"prometheus-operator {PROMETHEUS_OPERATOR_VERSION}"
    )
    assert not unknown, f"no CRD ({served_by}) serves these"
    errors = {name_of(o): crd_schemas.errors(o) for o in custom}
    assert not {k: v for k, v in errors.items() if v}


def test_crd_validation_rejects_typos_and_wrong_types(built_all, crd_schemas):
    """The CRD check is not vacuous: a misspelt field and a wrong type both fail."""
    objects = built_all["kustomize/overlays/dev"]
    scaled = copy.deepcopy(one(objects, "ScaledObject", "clapstream-worker"))
    scaled["spec"]["pollingInteval"] = 15
    assert any("pollingInteval" in e for e in crd_schemas.errors(scaled))
    topic = copy.deepcopy(one(objects, "KafkaTopic", "clap-jobs"))
    topic["spec"]["partitions"] = "twelve"
    assert crd_schemas.errors(topic)
    prod = built_all["kustomize/overlays/prod"]
    monitor = copy.deepcopy(one(prod, "PodMonitor", "clapstream-web"))
    monitor["spec"]["podMetricsEndpoints"][0]["bearerTokenScret"] = {}
    assert any("bearerTokenScret" in e for e in crd_schemas.errors(monitor))
    rule = copy.deepcopy(one(prod, "PrometheusRule", "clapstream"))
    rule["spec"]["groups"][0]["rules"][0]["for"] = "ten minutes"
    assert crd_schemas.errors(rule)


def test_kubernetes_validation_rejects_unknown_fields(built_all):
    deployment = copy.deepcopy(one(built_all["k8s"], "Deployment", "clapstream-web"))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    assert kubernetes_errors(deployment)
