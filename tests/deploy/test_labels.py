"""The standard app.kubernetes.io labels on every object, set through `labels`."""

import pytest

from tools.deploy.manifests import (
    DEPLOYABLE,
    STANDARD_LABELS,
    VERSION_LABEL,
    build_id,
    name_of,
    workloads,
)


@pytest.mark.parametrize("path", DEPLOYABLE, ids=build_id)
def test_every_object_has_the_standard_labels(path, objects):
    missing = {
        name_of(o): [
            k
            for k in [*STANDARD_LABELS, VERSION_LABEL]
            if not o["metadata"].get("labels", {}).get(k)
        ]
        for o in objects
    }
    assert not {k: v for k, v in missing.items() if v}
    assert {o["metadata"]["labels"]["app.kubernetes.io/part-of"] for o in objects} == {"clapstream"}
    assert len({o["metadata"]["labels"]["app.kubernetes.io/instance"] for o in objects}) == 1


@pytest.mark.parametrize("path", DEPLOYABLE, ids=build_id)
def test_pods_carry_the_labels_and_selectors_stay_stable(path, objects):
    """Pod templates get name, instance, component and part-of; the version is kept
    off templates and selectors, so a release neither re-rolls nor breaks them."""
    for obj, template in workloads(objects):
        labels = template["metadata"]["labels"]
        assert all(labels.get(k) for k in STANDARD_LABELS), name_of(obj)
        assert VERSION_LABEL not in labels, name_of(obj)
        selector = obj["spec"].get("selector", {}).get("matchLabels", {})
        assert VERSION_LABEL not in selector and "app.kubernetes.io/instance" not in selector
        assert all(labels.get(k) == v for k, v in selector.items()), name_of(obj)
        for claim in obj["spec"].get("volumeClaimTemplates", []):
            assert VERSION_LABEL not in claim["metadata"].get("labels", {}), name_of(obj)
