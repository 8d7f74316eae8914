"""Every overlay applied for real: server-side, strict field validation, no warnings.

The same apply refuses broken objects, which shows the check can fail.
"""

import copy
import json

import pytest

from tools.deploy.manifests import OVERLAYS, build, build_id, one

STRICT_APPLY = ["apply", "--server-side", "--field-manager=e2e", "--validate=strict"]


def warnings_in(stderr: str) -> list[str]:
    """kubectl prints each warning the API server sent as `Warning: ...` on stderr."""
    return [line for line in stderr.splitlines() if line.startswith("Warning:")]


@pytest.mark.parametrize("overlay", OVERLAYS, ids=build_id)
def test_overlay_applies_without_errors_or_warnings(cluster, overlay):
    done = cluster.kubectl(*STRICT_APPLY, "-k", str(overlay), check=False)
    assert done.returncode == 0, done.stderr
    assert warnings_in(done.stderr) == []
    assert done.stderr.strip() == ""

    objects = build(overlay)
    (namespace,) = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
    listed = cluster.kubectl("get", "-k", str(overlay), "-o", "json")
    stored = json.loads(listed.stdout)["items"]
    assert sorted((o["kind"], o["metadata"]["name"]) for o in stored) == sorted(
        (o["kind"], o["metadata"]["name"]) for o in objects
    )
    assert {o["metadata"].get("namespace") for o in stored if o["kind"] != "Namespace"} == {
        namespace
    }


REFUSALS = "clapstream-e2e-refusals"


@pytest.fixture(scope="module")
def refusals(cluster) -> str:
    """A namespace of its own, so that nothing but the broken field can be refused."""
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": REFUSALS}}
    cluster.api().apply(f"/api/v1/namespaces/{REFUSALS}", namespace)
    return REFUSALS


def broken_copy(kind: str, namespace: str) -> dict:
    """The dev overlay's worker object of that kind, renamed into `namespace`."""
    dev = next(o for o in OVERLAYS if o.name == "dev")
    obj = copy.deepcopy(one(build(dev), kind, "clapstream-worker"))
    obj["metadata"].update(name="clapstream-worker-broken", namespace=namespace)
    return obj


def apply_one(cluster, obj: dict):
    return cluster.kubectl(*STRICT_APPLY, "-f", "-", stdin=json.dumps(obj), check=False)


def assert_absent(cluster, kind: str, namespace: str):
    done = cluster.kubectl("get", kind, "clapstream-worker-broken", "-n", namespace, check=False)
    assert "NotFound" in done.stderr


def test_the_unbroken_copies_apply(cluster, refusals):
    """The control for the two refusals below: only the broken field differs."""
    for kind in ("Deployment", "ScaledObject"):
        done = apply_one(cluster, broken_copy(kind, refusals))
        assert done.returncode == 0, done.stderr
        assert warnings_in(done.stderr) == []
        cluster.kubectl("delete", kind, "clapstream-worker-broken", "-n", refusals)


def test_a_deployment_with_an_unknown_field_is_refused(cluster, refusals):
    broken = broken_copy("Deployment", refusals)
    broken["spec"]["template"]["spec"]["containers"][0]["replicaz"] = 3
    done = apply_one(cluster, broken)
    assert done.returncode != 0
    assert 'containers[name="worker"].replicaz: field not declared in schema' in done.stderr
    assert_absent(cluster, "deployment", refusals)


def test_a_scaledobject_against_kedas_schema_is_refused(cluster, refusals):
    broken = broken_copy("ScaledObject", refusals)
    broken["spec"]["minReplicaCount"] = "one"  # KEDA's CRD says int32
    done = apply_one(cluster, broken)
    assert done.returncode != 0
    assert "spec.minReplicaCount" in done.stderr
    assert_absent(cluster, "scaledobject", refusals)
