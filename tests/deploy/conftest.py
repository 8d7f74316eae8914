"""Session fixtures of the deploy tests: every kustomization built once, and the
schemas and linters downloaded once (then cached outside the repository)."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.deploy.schemas import CrdSchemas
from tools.deploy import fetch
from tools.deploy.manifests import ALL_BUILDS, ManifestError, build, build_id


def _try_build(path):
    try:
        return build(path)
    except ManifestError as exc:
        return exc


@pytest.fixture(scope="session")
def built_all() -> dict:
    """build id -> its objects, or the ManifestError saying why it did not build."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        outputs = pool.map(_try_build, ALL_BUILDS)
        return {build_id(p): out for p, out in zip(ALL_BUILDS, outputs, strict=True)}


@pytest.fixture
def objects(request, built_all) -> list[dict]:
    """The objects of the kustomization the test is parametrized with (`path`)."""
    out = built_all[build_id(request.getfixturevalue("path"))]
    if isinstance(out, ManifestError):
        raise out
    return out


@pytest.fixture(scope="session")
def keda_crds() -> list:
    """KEDA's and the prometheus-operator's CRDs (both from the Go module proxy)."""
    return [*fetch.keda_crds(), *fetch.prometheus_operator_crds()]


@pytest.fixture(scope="session", params=fetch.STRIMZI_VERSIONS, ids=lambda v: f"strimzi-{v}")
def crd_schemas(request, keda_crds) -> CrdSchemas:
    """KEDA's CRDs with those of one supported Strimzi release (each test using this
    runs once per release)."""
    return CrdSchemas([*keda_crds, *fetch.strimzi_crds(request.param)], request.param)


@pytest.fixture(scope="session")
def hadolint() -> str:
    return fetch.hadolint()
