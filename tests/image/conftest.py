"""Running the built image (`make image-test` builds it first): podman with the
project's containers.conf, every container on the host network, read-only, as the
manifests' user, with no capabilities."""

import os
import shutil
import time
import uuid
from pathlib import Path

import pytest

from tests.support.ci import IN_CI
from tools import commands
from tools.deploy.manifests import ROOT

IMAGE = os.environ.get("IMAGE", "clapstream:0.1.0")
APP_UID = "10001:10001"


def _engine() -> str:
    found = shutil.which("podman")
    if found:
        return found
    if IN_CI:
        pytest.fail("podman is missing: CI must run the image tests (.ci/run installs it)")
    pytest.skip("no container engine here (podman)")


class Engine:
    def __init__(self, podman: str):
        self.env = {
            **os.environ,
            "CONTAINERS_CONF": str(ROOT / "tools" / "image" / "containers.conf"),
        }
        self.base = [podman, "--runtime", "runc"]
        self.names: list[str] = []

    def __call__(self, *args: str, check: bool = True, timeout: float = 120):
        return commands.run(
            [*self.base, *args],
            AssertionError,
            what=f"podman {' '.join(args[:3])}",
            check=check,
            env=self.env,
            timeout=timeout,
        )

    def run(self, name: str, env: dict[str, str], *command: str, data: Path | None = None):
        """A detached container as the pods run it: read-only root, /tmp a tmpfs, uid
        10001, all capabilities dropped; `data` (if any) mounted at /data."""
        full = f"clapstream-test-{name}-{uuid.uuid4().hex[:6]}"
        args = ["run", "--detach", "--name", full, "--network", "host", "--read-only"]
        args += ["--tmpfs", "/tmp", "--user", APP_UID, "--cap-drop", "ALL"]
        args += ["--security-opt", "no-new-privileges"]
        if data is not None:
            args += ["--volume", f"{data}:/data"]
        for key, value in env.items():
            args += ["--env", f"{key}={value}"]
        self(*args, IMAGE, *command)
        self.names.append(full)
        return full

    def once(self, env: dict[str, str], *command: str, data: Path | None = None):
        """Run a command to its end in a container like the others; its result."""
        name = self.run("once", env, *command, data=data)
        self("wait", name, timeout=300)
        return self.state(name), self.logs(name)

    def state(self, name: str) -> dict:
        out = self("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name).stdout
        status, code = out.split()
        return {"status": status, "exit_code": int(code)}

    def logs(self, name: str) -> str:
        done = self("logs", name, check=False)
        return done.stdout + done.stderr

    def stop(self, name: str, grace: int) -> tuple[float, dict]:
        """SIGTERM, then SIGKILL after `grace` seconds (as the kubelet does)."""
        started = time.monotonic()
        self("stop", "--time", str(grace), name, timeout=grace + 60)
        return time.monotonic() - started, self.state(name)

    def remove_all(self) -> None:
        for name in self.names:
            self("rm", "--force", name, check=False)


@pytest.fixture(scope="session")
def engine():
    podman = Engine(_engine())
    if podman("image", "exists", IMAGE, check=False).returncode != 0:
        pytest.fail(f"image {IMAGE} is not built: run `make image` (or `make image-test`)")
    yield podman
    podman.remove_all()


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """A host directory the containers' user may write (the SQLite database)."""
    path = tmp_path / "data"
    path.mkdir()
    path.chmod(0o777)
    return path
