"""Build the control plane's binaries from the Go module proxy, once per version.

None of these projects can be `go install`ed (their go.mod files carry replace
directives), so each is built through a small generated wrapper module. A stamp beside
the binaries records the wrapper's inputs; a second build with the same inputs is a no-op.
"""

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tools import commands
from tools.cluster import versions

log = logging.getLogger(__name__)

# Bump when the way of building changes, so cached binaries are rebuilt.
RECIPE = 1


# The oldest Go that builds the pinned Kubernetes (go 1.24) and KEDA (go 1.26), as
# their go.mod files say.
GO_MINIMUM = "1.26"


class BuildError(RuntimeError):
    pass


KUBE_PACKAGES = {
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
    "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
    # Not run by the control plane itself: built now so that adding a node later
    # finds its compile cache warm.
    "kubelet": "k8s.io/kubernetes/cmd/kubelet",
}
KEDA_PACKAGES = {
    "keda-operator": "github.com/kedacore/keda/v2/cmd/operator",
    "keda-adapter": "github.com/kedacore/keda/v2/cmd/adapter",
}
ETCD_MAIN = """package main

import (
\t"os"

\t"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
"""


@dataclass
class Wrapper:
    """A generated Go module that requires one upstream module and builds its commands."""

    component: str
    version: str
    module: str  # the wrapper's own module path
    require: str  # the upstream module
    binaries: dict[str, str]  # name -> package
    ldflags: str
    replaces: Callable[[], list[str]] = list  # read from upstream only when building
    main_go: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def bin_dir(self) -> Path:
        return versions.bin_dir(self.component, self.version)

    @property
    def src_dir(self) -> Path:
        return self.bin_dir.parent / "src"

    def gomod(self) -> str:
        text = f"module {self.module}\n\ngo 1.24.0\n\nrequire {self.require} {self.version}\n"
        if replaces := self.replaces():
            text += "\nreplace (\n" + "".join(f"\t{r}\n" for r in replaces) + ")\n"
        return text

    def fingerprint(self) -> str:
        """What the binaries depend on besides the pinned version (the go.mod is
        derived from it), so that checking the cache needs no download."""
        inputs = [RECIPE, self.require, self.version, self.binaries, self.ldflags, self.main_go]
        return hashlib.sha256(json.dumps([*inputs, _go_version()]).encode()).hexdigest()

    def is_built(self) -> bool:
        stamp = self.bin_dir / ".stamp"
        return (
            stamp.is_file()
            and stamp.read_text().strip() == self.fingerprint()
            and all(os.access(self.bin_dir / name, os.X_OK) for name in self.binaries)
        )


@cache
def _go_version() -> str:
    """The go command's version ("go1.26.8"), refused when older than GO_MINIMUM."""
    found = commands.run([go(), "env", "GOVERSION"], BuildError).stdout.strip()
    numbers = tuple(int(n) for n in re.findall(r"\d+", found)[:2])
    if numbers < tuple(int(n) for n in GO_MINIMUM.split(".")):
        raise BuildError(
            f"{go()} is {found}; the control plane and KEDA need Go {GO_MINIMUM} or later "
            "(https://go.dev/doc/install)"
        )
    return found


def go() -> str:
    """go from PATH, else from GOROOT or the official installer's default location (a
    non-interactive shell may not have it on PATH)."""
    roots = (os.environ.get("GOROOT"), "/usr/local/go")
    for candidate in (shutil.which("go"), *(f"{root}/bin/go" for root in roots if root)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise BuildError("Go is needed here (https://go.dev/doc/install)")


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(GOFLAGS="-mod=mod", CGO_ENABLED="0", GOWORK="off")
    return env


def _nice() -> list[str]:
    return ["nice", "-n", "19"] if shutil.which("nice") else []


def go_module(module: str, version: str) -> dict:
    """`go mod download -json` of module@version, through the module proxy into the
    module cache: its Dir, GoMod and Sum."""
    with tempfile.TemporaryDirectory() as outside_any_module:
        out = commands.run(
            [go(), "mod", "download", "-json", f"{module}@{version}"],
            BuildError,
            what=f"downloading {module}@{version}",
            cwd=outside_any_module,
            env={**_go_env(), "GOFLAGS": ""},
        ).stdout
    return json.loads(out)


def module_gomod(module: str, version: str) -> str:
    """The upstream go.mod of module@version."""
    return Path(go_module(module, version)["GoMod"]).read_text()


def staging_replaces(kubernetes_gomod: str, version: str) -> list[str]:
    """k8s.io/kubernetes replaces its staging modules with ./staging paths; a wrapper
    points each at the published module of the matching v0 version instead."""
    staging_version = "v0." + version.removeprefix("v1.")
    names = re.findall(r"^\s*(k8s\.io/\S+)\s+=>\s+\./staging/", kubernetes_gomod, re.M)
    if not names:
        raise RuntimeError("no staging replaces found in k8s.io/kubernetes's go.mod")
    return [f"{name} => {name} {staging_version}" for name in names]


def module_replaces(gomod: str) -> list[str]:
    """Replace directives of an upstream go.mod that point at other modules (not paths)."""
    lines: list[str] = []
    block = re.search(r"^replace\s*\((.*?)^\)", gomod, re.M | re.S)
    candidates = block.group(1).splitlines() if block else []
    candidates += re.findall(r"^replace\s+([^(\n].*)$", gomod, re.M)
    for line in candidates:
        line = line.split("//")[0].strip()
        if "=>" in line and not line.split("=>")[1].strip().startswith(("./", "../", "/")):
            lines.append(line)
    return lines


def kubernetes_wrapper(version: str = versions.KUBERNETES) -> Wrapper:
    module = "k8s.io/kubernetes"
    return Wrapper(
        component="k8s",
        version=version,
        module="clapstream.local/kbuild",
        require=module,
        binaries=KUBE_PACKAGES,
        ldflags=f"-s -w -X k8s.io/component-base/version.gitVersion={version}",
        replaces=lambda: staging_replaces(module_gomod(module, version), version),
    )


def etcd_wrapper(version: str = versions.ETCD) -> Wrapper:
    module = "clapstream.local/etcdbuild"
    return Wrapper(
        component="etcd",
        version=version,
        module=module,
        require="go.etcd.io/etcd/server/v3",
        binaries={"etcd": module},
        ldflags="-s -w",
        main_go=ETCD_MAIN,
    )


def keda_wrapper(version: str = versions.KEDA) -> Wrapper:
    module = "github.com/kedacore/keda/v2"
    return Wrapper(
        component="keda",
        version=version,
        module="clapstream.local/kedabuild",
        require=module,
        binaries=KEDA_PACKAGES,
        ldflags=f"-s -w -X {module}/version.Version={version.removeprefix('v')}",
        replaces=lambda: module_replaces(module_gomod(module, version)),
    )


def _tools_go(packages: list[str]) -> str:
    imports = "".join(f'\t_ "{p}"\n' for p in packages)
    return f"//go:build tools\n\npackage tools\n\nimport (\n{imports})\n"


def build(wrapper: Wrapper) -> bool:
    """Build the wrapper's binaries unless the cache already holds them; True if built."""
    if wrapper.is_built():
        log.info("%s %s: cached in %s", wrapper.component, wrapper.version, wrapper.bin_dir)
        return False
    src = wrapper.src_dir
    src.mkdir(parents=True, exist_ok=True)
    (src / "go.mod").write_text(wrapper.gomod())
    (src / "go.sum").unlink(missing_ok=True)
    external = [p for p in wrapper.binaries.values() if p != wrapper.module]
    if wrapper.main_go:
        (src / "main.go").write_text(wrapper.main_go)
    if external:
        (src / "tools.go").write_text(_tools_go(external))
    env = _go_env()
    started = time.monotonic()
    subprocess.run([*_nice(), go(), "mod", "tidy"], cwd=src, env=env, check=True)
    wrapper.timings["tidy"] = time.monotonic() - started
    tmp = wrapper.bin_dir.with_name("bin.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, package in wrapper.binaries.items():
        log.info("%s %s: building %s", wrapper.component, wrapper.version, name)
        started = time.monotonic()
        subprocess.run(
            [
                *_nice(),
                go(),
                "build",
                "-trimpath",
                "-ldflags",
                wrapper.ldflags,
                "-o",
                str(tmp / name),
                package,
            ],
            cwd=src,
            env=env,
            check=True,
        )
        wrapper.timings[name] = time.monotonic() - started
        log.info("%s: %.0f s", name, wrapper.timings[name])
    (tmp / ".stamp").write_text(wrapper.fingerprint() + "\n")
    shutil.rmtree(wrapper.bin_dir, ignore_errors=True)
    tmp.rename(wrapper.bin_dir)
    return True


def wrappers() -> list[Wrapper]:
    return [etcd_wrapper(), kubernetes_wrapper(), keda_wrapper()]


def build_all() -> dict[str, dict[str, float]]:
    """Build what the cache lacks; the seconds each step took (nothing if all cached)."""
    timings = {}
    for wrapper in wrappers():
        if build(wrapper):
            timings[f"{wrapper.component} {wrapper.version}"] = wrapper.timings
    return timings


def bin_dirs() -> dict[str, Path]:
    """component -> its directory of binaries, building whatever is missing."""
    build_all()
    return {w.component: w.bin_dir for w in wrappers()}
