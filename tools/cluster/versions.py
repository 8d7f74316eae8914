"""Pinned versions of everything the local control plane builds, and where it caches them."""

from pathlib import Path

from tools.broker.jars import cache_home

KUBERNETES = "v1.34.4"
ETCD = "v3.7.3"
KEDA = "v2.21.0"


def bin_dir(component: str, version: str) -> Path:
    """Builds live outside the repository, one directory per component and version."""
    return cache_home() / component / version / "bin"
