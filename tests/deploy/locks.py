"""Reading the dependency locks (requirements/*.lock, generated from pyproject.toml)."""

import re
import tomllib

from tools.deploy.manifests import ROOT

LOCKS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)", re.MULTILINE)
REQUIREMENT = re.compile(r"([A-Za-z0-9._-]+)(?:\[[^]]+\])?==(\S+)")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_pins(lock: str) -> dict[str, str]:
    """name -> version of every requirement in a lock file."""
    text = (LOCKS / lock).read_text()
    return {normalized(name): version for name, version in PIN.findall(text)}


def project_pins(*extras: str) -> dict[str, str]:
    """name -> version of pyproject.toml's direct dependencies, with these extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    pins = {}
    for requirement in wanted:
        name, version = re.fullmatch(
            r"([A-Za-z0-9._-]+)(?:\[[^]]+\])?==(\S+)", requirement
        ).groups()
        pins[normalized(name)] = version
    return pins
