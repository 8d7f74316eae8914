"""The generated wrapper modules and the cache key, without building anything."""

import pytest

from tools.cluster import build

KUBERNETES_GOMOD = """module k8s.io/kubernetes

go 1.24.0

require (
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
)
"""

KEDA_GOMOD = """module github.com/kedacore/keda/v2

replace (
\t// a pinned fork
\tgithub.com/example/a v0.1.0 => github.com/example/a v0.1.1-fix
\tgithub.com/example/local => ../local
)

replace github.com/example/b => github.com/example/b v1.2.3
"""


def test_each_staging_module_is_replaced_by_its_published_version():
    assert build.staging_replaces(KUBERNETES_GOMOD, "v1.34.4") == [
        "k8s.io/api => k8s.io/api v0.34.4",
        "k8s.io/client-go => k8s.io/client-go v0.34.4",
    ]


def test_a_gomod_without_staging_replaces_is_an_error():
    with pytest.raises(RuntimeError, match="staging"):
        build.staging_replaces("module k8s.io/kubernetes\n", "v1.34.4")


def test_module_replaces_are_copied_and_path_replaces_are_not():
    assert build.module_replaces(KEDA_GOMOD) == [
        "github.com/example/a v0.1.0 => github.com/example/a v0.1.1-fix",
        "github.com/example/b => github.com/example/b v1.2.3",
    ]


def test_the_wrapper_gomod_requires_the_version_with_its_replaces():
    wrapper = build.Wrapper(
        component="x",
        version="v1.2.3",
        module="clapstream.local/x",
        require="example.com/x",
        binaries={"x": "example.com/x/cmd/x"},
        ldflags="-s -w",
        replaces=lambda: ["example.com/y => example.com/y v0.2.3"],
    )
    assert wrapper.gomod() == (
        "module clapstream.local/x\n\ngo 1.24.0\n\nrequire example.com/x v1.2.3\n"
        "\nreplace (\n\texample.com/y => example.com/y v0.2.3\n)\n"
    )


def test_the_cache_is_keyed_by_version_and_checked_without_downloading(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAPSTREAM_CACHE", str(tmp_path))
    etcd = build.etcd_wrapper("v3.7.3")
    assert etcd.bin_dir == tmp_path / "etcd" / "v3.7.3" / "bin"
    assert not etcd.is_built()

    etcd.bin_dir.mkdir(parents=True)
    binary = etcd.bin_dir / "etcd"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    (etcd.bin_dir / ".stamp").write_text(etcd.fingerprint() + "\n")
    assert etcd.is_built()
    assert not build.etcd_wrapper("v3.7.2").is_built()
    assert build.etcd_wrapper("v3.7.2").fingerprint() != etcd.fingerprint()


def test_every_wrapper_builds_what_the_cluster_runs():
    names = {n for w in (build.kubernetes_wrapper(), build.keda_wrapper()) for n in w.binaries}
    assert {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet"} <= names
    assert {"keda-operator", "keda-adapter"} <= names
