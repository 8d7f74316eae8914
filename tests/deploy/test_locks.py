"""The locks the image and `make` install from match pyproject.toml: every direct
pin at its version, every other entry pulled in by something, and a hash on each."""

import re

import pytest

from tests.deploy.locks import LOCKS, normalized, project_pins, requirement_pins

LOCK_EXTRAS = {"runtime.lock": ("postgres",), "dev.lock": ("postgres", "dev")}


@pytest.mark.parametrize("lock", sorted(LOCK_EXTRAS))
def test_lock_pins_what_pyproject_pins(lock):
    pins = requirement_pins(lock)
    wanted = project_pins(*LOCK_EXTRAS[lock])
    assert {name: pins.get(name) for name in wanted} == wanted, f"regenerate: make lock ({lock})"


@pytest.mark.parametrize("lock", sorted(LOCK_EXTRAS))
def test_every_locked_requirement_is_needed_and_hashed(lock):
    text = (LOCKS / lock).read_text()
    entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    direct = set(project_pins(*LOCK_EXTRAS[lock]))
    for entry in entries:
        name = normalized(entry.split("==", 1)[0])
        assert "--hash=sha256:" in entry, name
        assert name in direct or "# via" in entry, f"{name}: nothing in pyproject needs it"
    assert f"--extra {' --extra '.join(LOCK_EXTRAS[lock])}" in text.splitlines()[1]


def test_dev_lock_runs_the_images_versions():
    """`make test` checks what the image runs: same version of every shared package."""
    runtime, dev = requirement_pins("runtime.lock"), requirement_pins("dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
