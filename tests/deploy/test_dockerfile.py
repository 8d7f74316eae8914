"""The image: hadolint-clean, multi-stage, slim and non-root, and in step with the
manifests that run it. (No container engine here: it is read, not built.)"""

import json
import re
import subprocess

import pytest

from tools.deploy.manifests import ROOT, containers, one, workloads

DOCKERFILE = ROOT / "Dockerfile"
BUILD_TOOLS = re.compile(
    r"\b(gcc|g\+\+|make|build-essential|libpq-dev|python3?-dev|apt-get install)\b"
)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        pending += stripped
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, *args = pending.split()
        logical.append((keyword.upper(), " ".join(args)))
        pending = ""
    return logical


def stages() -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for keyword, args in instructions():
        if keyword == "FROM":
            out.append([])
        if out:
            out[-1].append((keyword, args))
    return out


def test_hadolint_finds_nothing(hadolint):
    done = subprocess.run(
        [hadolint, "--no-color", "--format", "json", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(done.stdout or "[]") == [], done.stdout
    assert done.returncode == 0, done.stderr


def test_builder_stage_installs_the_project_into_a_venv():
    builder, *_ = stages()
    assert re.search(r"\bAS builder$", builder[0][1], re.IGNORECASE)
    runs = " ".join(args for keyword, args in builder if keyword == "RUN")
    # python3: Debian's own python3 (a locally built base) has no `python` command.
    assert "python3 -m venv /opt/venv" in runs
    # From the hash-pinned lock, and the build tools leave the runtime venv.
    assert (
        "pip install --require-hashes --no-deps --only-binary=:all: -r requirements/runtime.lock"
        in runs
    )
    assert "pip uninstall --yes setuptools pip" in runs
    assert (
        "DEBUG=false SECRET_KEY=build-only ALLOWED_HOSTS=build "
        "python manage.py collectstatic --noinput" in runs
    )


def test_final_stage_is_slim_and_has_no_build_tools():
    *_, final = stages()
    assert len(stages()) >= 2
    base_arg = re.search(r"ARG PYTHON_IMAGE=(\S+)", DOCKERFILE.read_text())[1]
    assert final[0][1] in {"${PYTHON_IMAGE}", base_arg}
    # Pinned by digest alone (the same bytes on every build), the tag it stands for
    # named beside it.
    assert re.fullmatch(r"(docker\.io/library/)?python@sha256:[0-9a-f]{64}", base_arg)
    assert re.search(r"# python:3\.11(\.\d+)?-slim(-\w+)?, by the digest", DOCKERFILE.read_text())
    for keyword, args in final:
        assert not (keyword == "RUN" and BUILD_TOOLS.search(args)), args
        assert not (keyword == "RUN" and "pip " in args), "install in the builder stage"
    copies = [args for keyword, args in final if keyword == "COPY"]
    assert "--from=builder /opt/venv /opt/venv" in copies


def test_final_stage_runs_as_the_manifests_numeric_user(built_all):
    *_, final = stages()
    (user,) = [args for keyword, args in final if keyword == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit()
    for obj, template in workloads(built_all["k8s"]):
        assert template["spec"]["securityContext"]["runAsUser"] == int(uid), obj["kind"]


def test_image_serves_the_ports_and_the_web_command_of_the_manifests(built_all):
    *_, final = stages()
    exposed = {int(p) for keyword, args in final if keyword == "EXPOSE" for p in args.split()}
    ports = {
        port["containerPort"]
        for _, template in workloads(built_all["k8s"])
        for c in containers(template["spec"])
        for port in c.get("ports", [])
    }
    assert exposed == ports == {8000, 9102}
    (cmd,) = [json.loads(args) for keyword, args in final if keyword == "CMD"]
    web = one(built_all["k8s"], "Deployment", "clapstream-web")
    assert cmd == web["spec"]["template"]["spec"]["containers"][0]["command"]
    env = " ".join(args for keyword, args in final if keyword == "ENV")
    assert "STATIC_ROOT=/app/staticfiles" in env  # where collectstatic put the files


@pytest.mark.parametrize(
    "kept_out", [".git", ".venv", "var", "tests", "tools", "k8s", "kustomize", ".env"]
)
def test_dockerignore_keeps_the_context_small_and_secret_free(kept_out):
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "an allow-list: exclude everything, then re-include"
    assert not any(
        line.lstrip("!").rstrip("/") == kept_out for line in lines if line.startswith("!")
    )
    included = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert {"manage.py", "pyproject.toml", "README.md", "streams", "webapp", "worker"} <= included
