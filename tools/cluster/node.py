"""One node for the local control plane: a kubelet built from the same Kubernetes
version, on the machine's containerd (tools/cluster/containerd.py), on loopback.

The node carries a taint that only the pods e2e overlay (kustomize/tests/pods-e2e)
tolerates, so other overlays applied to the same cluster stay objects without pods.
The kubelet uses the cgroupfs driver: it runs on hosts with cgroup v1 controllers (the
hybrid layout), which Kubernetes 1.35 and later refuse by default.
"""

import contextlib
import json
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

from tools.cluster import certs, pause
from tools.cluster.api import Api, condition
from tools.cluster.containerd import Containerd, NodeError, missing_programs
from tools.cluster.daemons import Daemons, _signal_group
from tools.ports import free_port

log = logging.getLogger(__name__)

NAME = "clapstream-node"
TAINT_KEY = "clapstream.dev/pods"
TAINT = {"key": TAINT_KEY, "value": "e2e", "effect": "NoSchedule"}
# The project's image as `make image` tags it, and as the pods e2e overlay names it.
IMAGE = os.environ.get("IMAGE", "clapstream:0.1.0")
# The kubelet evicts every pod and taints the node when free disk falls below this. It
# is an amount, not a share: 1 % of a 252 GB disk is 2.5 GB that are there to use, and
# at that threshold the e2e pods were evicted with gigabytes free.
EVICTION_DISK = "256Mi"
# What the node's first run takes on disk: the image unpacked in containerd (about
# 0.5 GB), etcd's and the pods' data and logs, with room to spare above EVICTION_DISK.
DISK_NEEDED = 2 * 1024**3


def image_ref(image: str = IMAGE) -> str:
    """podman's name for a short image name, and also Kubernetes': localhost/<name>."""
    return image if "/" in image else f"localhost/{image}"


def apiserver_flags(pki_dir: Path) -> list[str]:
    """The apiserver's client certificate toward kubelets (logs, exec, port-forward)."""
    pair = certs.Authority(pki_dir, "ca").issue(
        "apiserver-kubelet-client",
        "kube-apiserver-kubelet-client",
        organization="system:masters",
        client=True,
    )
    return [f"--kubelet-client-certificate={pair.cert}", f"--kubelet-client-key={pair.key}"]


class Node:
    def __init__(self, state: Path, daemons: Daemons):
        self.state = state
        self.daemons = daemons
        self.runtime = Containerd(state)
        self.kubelet_dir = state / "kubelet"
        self.ports_file = state / "node-ports.json"

    # -- up ------------------------------------------------------------------

    def up(self, kubelet_bin: Path, server: str, pki_dir: Path, api: Api, wait, alive) -> None:
        """wait and alive: the control plane's wait_until and daemon check."""
        if os.geteuid() != 0:
            raise NodeError("the node (kubelet and containerd) needs root")
        if missing := missing_programs():
            raise NodeError(
                f"missing {', '.join(missing)}: apt-get install containerd runc "
                "containernetworking-plugins"
            )
        check_disk(self.state)
        sandbox = pause.archive()
        self.runtime.write_config(pause.IMAGE)
        self.daemons.start("containerd", self.runtime.argv())
        wait(self.runtime.serving, 60, "containerd", alive("containerd"))
        if pause.IMAGE not in self.runtime.images():
            self.runtime.import_archive(sandbox)
        self.load_image()
        self._start_kubelet(kubelet_bin, server, pki_dir)
        wait(
            lambda: condition(api.get(f"/api/v1/nodes/{NAME}"), "Ready") == "True",
            120,
            f"node {NAME} Ready",
            alive("kubelet"),
        )
        # The kubelet refuses a loopback node IP and reports no address, so pods on the
        # host's network would have no IP (and probes no host). Given here, it stays:
        # the kubelet never sets the addresses it could not validate.
        api.request(
            "PATCH",
            f"/api/v1/nodes/{NAME}/status",
            # No Hostname address: the API server would dial the node by that name.
            {"status": {"addresses": [{"type": "InternalIP", "address": "127.0.0.1"}]}},
            content_type="application/merge-patch+json",
        )  # fmt: skip

    def load_image(self, image: str = IMAGE) -> bool:
        """The project's image from podman's store into containerd's k8s.io namespace
        (skipped when the same image is there already); False if podman lacks it."""
        ref = image_ref(image)
        found = subprocess.run(
            ["podman", "image", "inspect", "--format", "{{.Id}}", ref],
            capture_output=True,
            text=True,
            check=False,
        )
        if found.returncode != 0:
            log.warning("no image %s in podman (make image): pods of it cannot start", ref)
            return False
        image_id = found.stdout.strip()
        stamp = self.runtime.root / f"imported-{image_id}"
        if stamp.exists() and ref in self.runtime.images():
            return True
        tarball = self.runtime.root / "image.tar"
        log.info("loading %s into containerd", ref)
        subprocess.run(
            ["podman", "save", "--quiet", "--format", "docker-archive", "-o", str(tarball), ref],
            check=True,
        )
        try:
            self.runtime.import_archive(tarball)
        finally:
            tarball.unlink(missing_ok=True)
        stamp.touch()
        return True

    def _start_kubelet(self, kubelet_bin: Path, server: str, pki_dir: Path) -> None:
        pki = self.kubelet_dir / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        client = certs.Authority(pki_dir, "ca").issue(
            "kubelet", f"system:node:{NAME}", organization="system:nodes", client=True
        )
        kubeconfig = self.kubelet_dir / "kubeconfig"
        kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "local",
                            "cluster": {
                                "server": server,
                                "certificate-authority": str(pki_dir / "ca.crt"),
                            },
                        }
                    ],
                    "users": [
                        {
                            "name": NAME,
                            "user": {
                                "client-certificate": str(client.cert),
                                "client-key": str(client.key),
                            },
                        }
                    ],
                    "contexts": [{"name": "local", "context": {"cluster": "local", "user": NAME}}],
                    "current-context": "local",
                }
            )
        )
        kubeconfig.chmod(0o600)
        port, healthz = free_port(), free_port()
        self.ports_file.write_text(json.dumps({"kubelet": port, "kubelet_healthz": healthz}))
        config = self.kubelet_dir / "config.yaml"
        config.write_text(json.dumps(kubelet_config(self, port, healthz, pki_dir), indent=2))
        self.daemons.start(
            "kubelet",
            [
                str(kubelet_bin),
                f"--config={config}",
                f"--kubeconfig={kubeconfig}",
                f"--root-dir={self.kubelet_dir / 'root'}",
                f"--cert-dir={pki}",
                f"--hostname-override={NAME}",
                "--node-ip=127.0.0.1",
                "--v=1",
            ],
        )

    # -- down and status -----------------------------------------------------

    def down(self) -> list[str]:
        """Stop the kubelet, then every container of the node, then containerd, and
        release what they mounted under the state directory; the daemons stopped."""
        stopped = []
        kubelet = self.daemons.get("kubelet")
        if kubelet:
            self.daemons.stop(kubelet)
            stopped.append("kubelet")
        containerd = self.daemons.get("containerd")
        if containerd and containerd.alive():
            for task in self.runtime.tasks():
                self.runtime.ctr("tasks", "kill", "--signal", "SIGKILL", task, check=False)
            deadline = time.monotonic() + 15
            while self.runtime.tasks() and time.monotonic() < deadline:
                time.sleep(0.2)
        for pid in self.shims():
            _signal_group(pid, 9)
        if containerd:
            self.daemons.stop(containerd)
            stopped.append("containerd")
        unmount_under(self.state)
        return stopped

    def shims(self) -> list[int]:
        """The runc shims this containerd started (they run in sessions of their own);
        they are told its socket's address on their command line."""
        found = []
        address = str(self.runtime.socket).encode()
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            with contextlib.suppress(OSError):
                argv = cmdline.read_bytes().split(b"\0")
                if b"containerd-shim" in argv[0] and address in argv:
                    found.append(int(cmdline.parent.name))
        return found

    def where(self) -> dict[str, str]:
        ports = json.loads(self.ports_file.read_text()) if self.ports_file.exists() else {}
        return {
            "containerd": f"{self.runtime.endpoint} (node {NAME})",
            "kubelet": f"https://127.0.0.1:{ports.get('kubelet', '?')}, "
            f"healthz http://127.0.0.1:{ports.get('kubelet_healthz', '?')}/healthz",
        }


def kubelet_config(node: Node, port: int, healthz: int, pki_dir: Path) -> dict:
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": "127.0.0.1",
        "port": port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": healthz,
        "cgroupDriver": "cgroupfs",
        "containerRuntimeEndpoint": node.runtime.endpoint,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki_dir / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "registerWithTaints": [TAINT],
        "failSwapOn": False,
        "resolvConf": "/etc/resolv.conf",
        "clusterDomain": "cluster.local",
        # A shared machine: evict for nothing but real exhaustion.
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": EVICTION_DISK,
            "imagefs.available": EVICTION_DISK,
            "nodefs.inodesFree": "1%",
        },
        "imageGCHighThresholdPercent": 99,
        "imageGCLowThresholdPercent": 98,
        "nodeStatusReportFrequency": "10s",
        "shutdownGracePeriod": "0s",
    }


def check_disk(state: Path, needed: int = DISK_NEEDED) -> None:
    """Refuse to start a node that would soon evict its pods for want of disk."""
    free = shutil.disk_usage(state).free
    if free < needed:
        raise NodeError(
            f"{free / 1024**3:.1f} GiB free on the disk of {state}; the node needs "
            f"{needed / 1024**3:.0f} GiB for the image and its pods, or the kubelet "
            "evicts them and taints the node (DiskPressure)"
        )


def unmount_under(directory: Path) -> None:
    """Unmount whatever is mounted below directory, deepest first."""
    prefix = str(directory.resolve()) + "/"
    mounts = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mounts").read_text().splitlines():
            target = line.split()[1].replace("\\040", " ")
            if target.startswith(prefix):
                mounts.append(target)
    for target in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True, check=False)
