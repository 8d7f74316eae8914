"""The end-to-end tests: a real control plane (tools/cluster) for the session.

`make e2e` runs them; `make test` deselects them (marker `e2e`), since the first run
builds Kubernetes, etcd and KEDA from source (cached after that).
"""

import shutil
from pathlib import Path

import pytest

from tools.cluster.daemons import group_members
from tools.cluster.plane import Cluster

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def cluster():
    """A fresh cluster of its own (own state directory and ports) for the session; its
    logs stay in test-artifacts/e2e-cluster/logs."""
    state = ARTIFACTS / "e2e-cluster"
    Cluster(state).down()  # whatever an interrupted run left behind
    shutil.rmtree(state, ignore_errors=True)
    c = Cluster(state, tied=True)
    c.up()
    records = c.daemons.records()
    try:
        yield c
    finally:
        c.down()
        left = {r.name: group_members(r.pid) for r in records if group_members(r.pid)}
        assert not left, f"processes left behind by `down`: {left}"
