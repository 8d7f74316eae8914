"""The node's generated parts, checked without root or a runtime: the pause image
archive, containerd's configuration, the CNI configuration and the kubelet's."""

import hashlib
import io
import ipaddress
import json
import shutil
import tarfile
import tomllib
from pathlib import Path

import pytest

from tools.cluster import containerd, node, pause


def members(archive: bytes) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {m.name: (m, tar.extractfile(m).read()) for m in tar.getmembers()}


def test_the_pause_archive_is_an_oci_layout_of_one_image_whose_entrypoint_is_pause():
    archive = pause.oci_archive(b"\x7fELF-pause", "localhost/x/pause:v1")
    files = members(archive)
    assert json.loads(files["oci-layout"][1]) == {"imageLayoutVersion": "1.0.0"}
    (descriptor,) = json.loads(files["index.json"][1])["manifests"]
    assert descriptor["annotations"]["io.containerd.image.name"] == "localhost/x/pause:v1"

    def blob(d: dict) -> bytes:
        data = files["blobs/sha256/" + d["digest"].removeprefix("sha256:")][1]
        assert hashlib.sha256(data).hexdigest() == d["digest"].removeprefix("sha256:")
        assert len(data) == d["size"]
        return data

    manifest = json.loads(blob(descriptor))
    config = json.loads(blob(manifest["config"]))
    (layer_descriptor,) = manifest["layers"]
    layer = blob(layer_descriptor)
    assert config["rootfs"]["diff_ids"] == [f"sha256:{hashlib.sha256(layer).hexdigest()}"]
    assert config["config"]["Entrypoint"] == ["/pause"]
    (info, data) = members(layer)["pause"]
    assert data == b"\x7fELF-pause" and info.mode == 0o755
    # Reproducible: the same binary gives the same image.
    assert pause.oci_archive(b"\x7fELF-pause", "localhost/x/pause:v1") == archive


def test_containerd_runs_runc_through_cgroupfs_with_the_local_sandbox_image(tmp_path: Path):
    text = containerd.config_toml(
        root=tmp_path / "lib",
        state=tmp_path / "run",
        socket=tmp_path / "run" / "containerd.sock",
        sandbox_image=pause.IMAGE,
        runc="/usr/sbin/runc",
        cni_bin_dir="/usr/lib/cni",
        cni_conf_dir=tmp_path / "net.d",
    )
    config = tomllib.loads(text)
    assert config["version"] == 2
    assert config["root"] == str(tmp_path / "lib") and config["state"] == str(tmp_path / "run")
    assert config["grpc"]["address"] == str(tmp_path / "run" / "containerd.sock")
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["sandbox_image"] == pause.IMAGE
    assert cri["stream_server_address"] == "127.0.0.1"
    runc = cri["containerd"]["runtimes"]["runc"]
    assert runc["runtime_type"] == "io.containerd.runc.v2"
    assert runc["options"] == {"BinaryName": "/usr/sbin/runc", "SystemdCgroup": False}
    assert cri["cni"]["conf_dir"] == str(tmp_path / "net.d")


def test_the_cni_bridge_is_outside_the_private_ranges_and_routes_nothing():
    conflist = containerd.cni_conflist()
    bridge, loopback = conflist["plugins"]
    assert (bridge["type"], loopback["type"]) == ("bridge", "loopback")
    assert bridge["isGateway"] is False and bridge["ipMasq"] is False
    ((subnet,),) = bridge["ipam"]["ranges"]
    network = ipaddress.ip_network(subnet["subnet"])
    rfc1918 = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
    assert not any(network.overlaps(private) for private in rfc1918)
    assert not network.is_global  # nor anybody's real addresses


def test_the_kubelet_serves_on_loopback_with_cgroupfs_and_its_taint(tmp_path: Path):
    n = node.Node(tmp_path, daemons=None)
    config = node.kubelet_config(n, port=10250, healthz=10248, pki_dir=tmp_path)
    assert config["address"] == config["healthzBindAddress"] == "127.0.0.1"
    assert config["readOnlyPort"] == 0
    assert config["cgroupDriver"] == "cgroupfs"
    assert config["containerRuntimeEndpoint"] == f"unix://{tmp_path}/containerd/run/containerd.sock"
    assert config["authentication"]["anonymous"]["enabled"] is False
    assert config["authorization"]["mode"] == "Webhook"
    assert config["registerWithTaints"] == [node.TAINT]


def test_the_kubelet_evicts_for_disk_at_an_amount_not_a_share_of_the_disk(tmp_path: Path):
    config = node.kubelet_config(node.Node(tmp_path, daemons=None), 10250, 10248, tmp_path)
    eviction = config["evictionHard"]
    assert eviction["nodefs.available"] == eviction["imagefs.available"] == node.EVICTION_DISK
    assert not node.EVICTION_DISK.endswith("%")


def test_a_node_without_disk_for_its_pods_refuses_to_start_and_says_why(tmp_path: Path):
    free = shutil.disk_usage(tmp_path).free
    node.check_disk(tmp_path, needed=free // 2)
    with pytest.raises(containerd.NodeError, match=r"GiB free on the disk of .*DiskPressure"):
        node.check_disk(tmp_path, needed=free + 2**40)
