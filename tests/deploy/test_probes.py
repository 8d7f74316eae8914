"""The exec probes are code: run each one, as the kubelet would, in the container's
environment against a fresh, a stale and a missing heartbeat file."""

import os
import subprocess
import sys
import time

import pytest

from tools.deploy.manifests import BASE, ROOT, container_env, one

HEARTBEAT_VARS = {
    "clapstream-worker": "WORKER_HEARTBEAT_FILE",
    "clapstream-recorder": "RECORDER_HEARTBEAT_FILE",
    "clapstream-sampler": "SAMPLER_HEARTBEAT_FILE",
}


def run_probe(command: list[str], env: dict[str, str]) -> int:
    if command[0] == "python":
        command = [sys.executable, *command[1:]]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        check=False,
        timeout=30,
    )
    return done.returncode


@pytest.mark.parametrize("name", sorted(HEARTBEAT_VARS))
def test_heartbeat_probes_tell_fresh_from_stale(name, built_all, tmp_path):
    objects = built_all[str(BASE.relative_to(ROOT))]
    (container,) = one(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"]
    env = container_env(container, objects)
    var = HEARTBEAT_VARS[name]
    heartbeat = tmp_path / "alive"
    env[var] = str(heartbeat)
    probes = {
        p: container[p]["exec"]["command"]
        for p in ("startupProbe", "readinessProbe", "livenessProbe")
        if p in container
    }
    assert {"readinessProbe", "livenessProbe"} <= set(probes)
    for probe, command in probes.items():
        heartbeat.touch()
        assert run_probe(command, env) == 0, f"{name} {probe}: fresh heartbeat refused"
        old = time.time() - 3600
        os.utime(heartbeat, (old, old))
        assert run_probe(command, env) == 1, f"{name} {probe}: hour-old heartbeat accepted"
        heartbeat.unlink()
        assert run_probe(command, env) == 1, f"{name} {probe}: missing heartbeat accepted"
