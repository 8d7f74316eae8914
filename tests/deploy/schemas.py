"""Validating built objects: Kubernetes kinds against the Kubernetes OpenAPI schemas
(kubernetes-validate, offline), custom resources against their CRD's openAPIV3Schema."""

import copy
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

# The oldest Kubernetes the manifests promise to work on, and the newest schemas.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version() + ".0")


def kubernetes_errors(obj: dict) -> list[str]:
    """Strict validation (unknown fields are errors) against every supported version."""
    errors = []
    for version in KUBERNETES_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            errors.append(f"Kubernetes {version} has no {obj['apiVersion']} {obj['kind']}")
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path) or "(top)"
            errors.append(f"Kubernetes {version}: {where}: {exc.message}")
    return errors


class _CrdLoader(yaml.CSafeLoader):
    """The safe loader, reading a bare `=` (YAML 1.1's "value" type, in the
    prometheus-operator's enums of relabelling actions) as the string it is."""


_CrdLoader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)


def _closed(schema: dict) -> dict:
    """The schema with unknown fields rejected wherever the API server would prune
    them (an object with declared properties and no preserve-unknown-fields): a typo
    in a custom resource must fail here, not vanish silently in the cluster."""
    schema = copy.deepcopy(schema)

    def close(node: dict) -> None:
        for child in node.get("properties", {}).values():
            close(child)
        if isinstance(node.get("items"), dict):
            close(node["items"])
        if isinstance(node.get("additionalProperties"), dict):
            close(node["additionalProperties"])
        for key in ("allOf", "anyOf", "oneOf"):
            for child in node.get(key, []):
                close(child)
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False

    close(schema)
    return schema


class CrdSchemas:
    """(group/version, kind) -> a validator for that CRD version's schema."""

    def __init__(self, crd_files: list[Path], strimzi_version: str = ""):
        self.strimzi_version = strimzi_version
        self.validators: dict[tuple[str, str], jsonschema.Draft4Validator] = {}
        for path in crd_files:
            for crd in yaml.load_all(path.read_text(), Loader=_CrdLoader):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                spec = crd["spec"]
                for version in spec["versions"]:
                    if not version.get("served", True):
                        continue
                    schema = _closed(version["schema"]["openAPIV3Schema"])
                    api_version = f"{spec['group']}/{version['name']}"
                    # OpenAPI 3.0 schemas are JSON Schema draft 4 in substance.
                    self.validators[(api_version, spec["names"]["kind"])] = (
                        jsonschema.Draft4Validator(schema)
                    )

    def covers(self, obj: dict) -> bool:
        return (obj["apiVersion"], obj["kind"]) in self.validators

    def errors(self, obj: dict) -> list[str]:
        validator = self.validators[(obj["apiVersion"], obj["kind"])]
        return [
            f"{'.'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
            for e in validator.iter_errors(obj)
        ]
