"""The node's container runtime: the machine's containerd with a configuration of the
cluster's own (root, state, socket and CNI configuration under the state directory),
runc through the cgroupfs driver, and the local pause image as the sandbox.

Every project pod uses the host's network, so the bridge network below exists only
because the kubelet reports a node Ready once the runtime has a valid CNI
configuration. Its range is the benchmarking block of RFC 2544 (outside the RFC 1918
private ranges) and nothing is ever routed to it: no masquerading, no gateway.
"""

import json
import shutil
import subprocess
from pathlib import Path

from tools import commands

CNI_BIN_DIRS = ("/usr/lib/cni", "/opt/cni/bin")
BRIDGE_SUBNET = "198.18.0.0/24"
NAMESPACE = "k8s.io"  # the CRI plugin's containerd namespace


class NodeError(RuntimeError):
    """The node cannot start here (what is missing, or what failed)."""


def cni_bin_dir() -> str:
    for candidate in CNI_BIN_DIRS:
        if Path(candidate, "bridge").exists() and Path(candidate, "loopback").exists():
            return candidate
    raise NodeError(
        "CNI plugins not found in /usr/lib/cni: apt-get install containernetworking-plugins"
    )


def missing_programs() -> list[str]:
    return [p for p in ("containerd", "containerd-shim-runc-v2", "ctr", "runc") if not which(p)]


def which(program: str) -> str | None:
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")


class Containerd:
    def __init__(self, state: Path):
        self.root = state / "containerd"
        self.socket = self.root / "run" / "containerd.sock"
        self.config = self.root / "config.toml"
        self.cni_conf_dir = self.root / "net.d"

    @property
    def endpoint(self) -> str:
        return f"unix://{self.socket}"

    def write_config(self, sandbox_image: str) -> Path:
        self.cni_conf_dir.mkdir(parents=True, exist_ok=True)
        (self.cni_conf_dir / "10-clapstream.conflist").write_text(
            json.dumps(cni_conflist(), indent=2)
        )
        runc = which("runc")
        if runc is None:
            raise NodeError("runc not found: apt-get install runc")
        self.config.write_text(
            config_toml(
                root=self.root / "lib",
                state=self.root / "run",
                socket=self.socket,
                sandbox_image=sandbox_image,
                runc=runc,
                cni_bin_dir=cni_bin_dir(),
                cni_conf_dir=self.cni_conf_dir,
            )
        )
        return self.config

    def argv(self) -> list[str]:
        return [which("containerd") or "containerd", "--config", str(self.config)]

    def ctr(self, *args: str, check: bool = True, timeout: float = 600) -> str:
        return commands.run(
            [which("ctr") or "ctr", "--address", str(self.socket), "-n", NAMESPACE, *args],
            NodeError,
            what=f"ctr {' '.join(args[:2])}",
            check=check,
            timeout=timeout,
        ).stdout

    def serving(self) -> bool:
        return (
            self.socket.exists()
            and subprocess.run(
                [which("ctr") or "ctr", "--address", str(self.socket), "version"],
                capture_output=True,
                check=False,
                timeout=10,
            ).returncode
            == 0
        )

    def images(self) -> set[str]:
        return set(self.ctr("images", "ls", "-q").split())

    def import_archive(self, tarball: Path) -> None:
        self.ctr("images", "import", str(tarball))

    def tasks(self) -> list[str]:
        """Ids of the containers with a task (a process) in the k8s.io namespace."""
        lines = self.ctr("tasks", "ls", "-q", check=False).split()
        return lines


def cni_conflist() -> dict:
    return {
        "cniVersion": "1.0.0",
        "name": "clapstream-unused",
        "plugins": [
            {
                "type": "bridge",
                "bridge": "clapstream0",
                "isGateway": False,
                "ipMasq": False,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": BRIDGE_SUBNET}]],
                },
            },
            {"type": "loopback"},
        ],
    }


def config_toml(
    *,
    root: Path,
    state: Path,
    socket: Path,
    sandbox_image: str,
    runc: str,
    cni_bin_dir: str,
    cni_conf_dir: Path,
) -> str:
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""\
version = 2
root = "{root}"
state = "{state}"
# Snapshotters this machine cannot or need not run.
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = "{socket}"

[ttrpc]
  address = "{socket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[{cri}]
  sandbox_image = "{sandbox_image}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  restrict_oom_score_adj = true

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  BinaryName = "{runc}"
  SystemdCgroup = false

[{cri}.cni]
  bin_dir = "{cni_bin_dir}"
  conf_dir = "{cni_conf_dir}"
  max_conf_num = 1
"""
