"""No secret value anywhere in the tree or in what it builds: secrets are referenced
(mounted files, secretKeyRef, TriggerAuthentication) and created outside it."""

import re

import pytest
import yaml

from tools.deploy.manifests import (
    ALL_BUILDS,
    BASE,
    DEPLOYABLE,
    KUSTOMIZE,
    ROOT,
    build_id,
    container_env,
    containers,
    name_of,
    of_kind,
    workloads,
)

SECRET_NAMES = re.compile(r"(SECRET|PASSWORD|TOKEN|DATABASE_URL|CREDENTIAL|PRIVATE_KEY)")


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_no_secret_carries_a_value(path, objects):
    for secret in of_kind(objects, "Secret"):
        assert not secret.get("data") and not secret.get("stringData"), name_of(secret)


def test_no_kustomization_generates_secrets():
    files = [*BASE.glob("kustomization.yaml"), *KUSTOMIZE.rglob("kustomization.yaml")]
    for kustomization in files:
        assert "secretGenerator" not in yaml.safe_load(kustomization.read_text()), kustomization


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_secret_settings_are_never_literals(path, objects):
    """SECRET_KEY, passwords, tokens, database URLs: only <NAME>_FILE paths or
    secretKeyRef, in env and in the ConfigMaps the pods read."""
    literal = []
    for obj, template in workloads(objects):
        for c in containers(template["spec"]):
            for var in c.get("env", []):
                secretish = SECRET_NAMES.search(var["name"]) and not var["name"].endswith("_FILE")
                if secretish and "secretKeyRef" not in var.get("valueFrom", {}):
                    literal.append(f"{name_of(obj)}: {var['name']}")
    for cm in of_kind(objects, "ConfigMap"):
        for key in cm.get("data", {}):
            if SECRET_NAMES.search(key) and not key.endswith("_FILE"):
                literal.append(f"{name_of(cm)}: {key}")
    assert not literal


def referenced_secrets(objects: list[dict]) -> set[str]:
    names = set()
    for _, template in workloads(objects):
        for volume in template["spec"].get("volumes", []):
            if "secret" in volume:
                names.add(volume["secret"]["secretName"])
        for c in containers(template["spec"]):
            for var in c.get("env", []):
                if "secretKeyRef" in var.get("valueFrom", {}):
                    names.add(var["valueFrom"]["secretKeyRef"]["name"])
    for auth in of_kind(objects, "TriggerAuthentication"):
        names |= {ref["name"] for ref in auth["spec"].get("secretTargetRef", [])}
    for ingress in of_kind(objects, "Ingress"):
        names |= {tls["secretName"] for tls in ingress["spec"].get("tls", [])}
    return names


@pytest.mark.parametrize("path", DEPLOYABLE, ids=build_id)
def test_every_secret_an_overlay_needs_is_documented(path, objects):
    """Nothing in the tree creates them, so docs/deploy.md must say how."""
    docs = (ROOT / "docs" / "deploy.md").read_text()
    needed = referenced_secrets(objects)
    assert needed
    assert not {name for name in needed if f"`{name}`" not in docs and f" {name} " not in docs}


FILE_SETTINGS = re.compile(r"_FILE$|^KAFKA_SSL_CA_LOCATION$")


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_every_file_a_setting_names_is_mounted(path, objects):
    """A <NAME>_FILE setting (or the Kafka CA bundle) names a file on a volume its
    container mounts, and SASL comes with its user name: settings are read at start-up
    by every process, so a missing one stops it (the nightly prune too)."""
    problems = []
    for obj, template in workloads(objects):
        for container in containers(template["spec"]):
            env = container_env(container, objects)
            mounts = [m["mountPath"].rstrip("/") + "/" for m in container.get("volumeMounts", [])]
            where = f"{name_of(obj)} ({container['name']})"
            for name, value in env.items():
                if FILE_SETTINGS.search(name) and value and not value.startswith(tuple(mounts)):
                    problems.append(f"{where}: {name}={value} is on no volume it mounts")
            sasl = env.get("KAFKA_SECURITY_PROTOCOL", "").startswith("SASL")
            if sasl and "KAFKA_SASL_USERNAME" not in env:
                problems.append(f"{where}: SASL without KAFKA_SASL_USERNAME")
    assert not problems, "\n".join(problems)
