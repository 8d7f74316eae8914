"""The sandbox ("pause") image, made locally: no registry serves registry.k8s.io/pause.

The pause program is Kubernetes' own (build/pause/linux/pause.c in the module the
control plane is built from), compiled static, and packed as the only file of a
single-layer OCI image archive that `ctr images import` accepts. Cached per version.
"""

import hashlib
import io
import json
import logging
import shutil
import subprocess
import tarfile
from pathlib import Path

from tools.cluster import build, versions

log = logging.getLogger(__name__)

# What containerd's sandbox_image names; only this machine ever resolves it.
IMAGE = "localhost/clapstream/pause:" + versions.KUBERNETES
_OCI = "application/vnd.oci.image"


def source(version: str = versions.KUBERNETES) -> Path:
    """pause.c from the module cache (downloaded through the module proxy if needed)."""
    kubernetes = Path(build.go_module("k8s.io/kubernetes", version)["Dir"])
    return kubernetes / "build" / "pause" / "linux" / "pause.c"


def archive(version: str = versions.KUBERNETES) -> Path:
    """The image archive, built unless cached."""
    directory = versions.bin_dir("pause", version)
    tarball = directory / "pause-image.tar"
    if tarball.is_file():
        return tarball
    if not shutil.which("gcc"):
        raise build.BuildError("gcc is needed to build the pause binary (apt-get install gcc)")
    directory.mkdir(parents=True, exist_ok=True)
    binary = directory / "pause"
    log.info("pause: compiling %s", source(version))
    subprocess.run(
        ["gcc", "-static", "-Os", "-Wall", "-Werror", f'-DVERSION="{version}"', "-o",
         str(binary), str(source(version))],
        check=True,
    )  # fmt: skip
    subprocess.run(["strip", str(binary)], check=False)
    partial = tarball.with_suffix(".partial")
    partial.write_bytes(oci_archive(binary.read_bytes(), IMAGE))
    partial.rename(tarball)
    return tarball


def _tar(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A reproducible tar: fixed owner and time stamps."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _blob(blobs: dict[str, tuple[bytes, int]], media_type: str, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    blobs[f"blobs/sha256/{digest}"] = (data, 0o644)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def oci_archive(pause: bytes, name: str) -> bytes:
    """An OCI image layout (as a tar) of one image whose only file is /pause."""
    layer = _tar({"pause": (pause, 0o755)})
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": ["/pause"], "User": "65535:65535"},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer).hexdigest()}"]},
    }
    blobs: dict[str, tuple[bytes, int]] = {}
    manifest = {
        "schemaVersion": 2,
        "mediaType": f"{_OCI}.manifest.v1+json",
        "config": _blob(blobs, f"{_OCI}.config.v1+json", json.dumps(config).encode()),
        "layers": [_blob(blobs, f"{_OCI}.layer.v1.tar", layer)],
    }
    descriptor = _blob(blobs, manifest["mediaType"], json.dumps(manifest).encode())
    descriptor["annotations"] = {
        "io.containerd.image.name": name,
        "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1],
    }
    index = {"schemaVersion": 2, "manifests": [descriptor]}
    return _tar(
        {
            "oci-layout": (json.dumps({"imageLayoutVersion": "1.0.0"}).encode(), 0o644),
            "index.json": (json.dumps(index).encode(), 0o644),
            **blobs,
        }
    )
