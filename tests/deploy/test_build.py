"""The kustomize tree: every kustomization builds, in the current kustomize style."""

import pytest
import yaml

from tools.deploy.manifests import (
    ALL_BUILDS,
    BASE,
    COMPONENTS,
    DEPLOYABLE,
    KUSTOMIZE,
    build_id,
    using,
)

DEPRECATED = {"bases", "commonLabels", "patchesStrategicMerge", "patchesJson6902", "vars"}
KUSTOMIZATION_FILES = sorted(
    [*BASE.glob("kustomization.yaml"), *KUSTOMIZE.rglob("kustomization.yaml")]
)


def load(path):
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("path", ALL_BUILDS, ids=build_id)
def test_kustomization_builds(path, objects):
    assert objects, f"{build_id(path)} produced nothing"


@pytest.mark.parametrize("path", DEPLOYABLE, ids=build_id)
def test_build_has_no_duplicate_objects(path, objects):
    keys = [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects]
    assert len(keys) == len(set(keys))
    assert all(o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace")


@pytest.mark.parametrize("kustomization", KUSTOMIZATION_FILES, ids=lambda p: build_id(p.parent))
def test_no_deprecated_kustomize_fields(kustomization):
    used = DEPRECATED & set(load(kustomization))
    assert not used, f"deprecated fields {sorted(used)}: use resources/patches/labels/replacements"


def test_base_has_one_object_per_file():
    for name in load(BASE / "kustomization.yaml")["resources"]:
        docs = [d for d in yaml.safe_load_all((BASE / name).read_text()) if d]
        assert len(docs) == 1, f"k8s/{name} holds {len(docs)} objects"


@pytest.mark.parametrize("component", COMPONENTS, ids=build_id)
def test_component_is_a_documented_component(component):
    kustomization = load(component / "kustomization.yaml")
    assert kustomization["kind"] == "Component"
    assert kustomization["apiVersion"] == "kustomize.config.k8s.io/v1alpha1"
    readme = component / "README.md"
    assert readme.exists() and readme.read_text().startswith(f"# {component.name}\n")


@pytest.mark.parametrize("component", COMPONENTS, ids=build_id)
def test_every_component_is_built_by_an_overlay_or_scenario(component):
    """So that every component is schema-checked and held to the invariants."""
    assert using(component.name), f"no overlay or scenario uses {build_id(component)}"
