"""promtool (Debian's prometheus package) and the component's alerting rules."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULE = ROOT / "kustomize" / "components" / "monitoring" / "prometheusrule.yaml"
RULES_FILE = "clapstream-rules.yaml"  # the name the unit tests' rule_files use


def promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        pytest.fail("promtool is not on PATH: install Debian's prometheus package")
    return found


def run(*args: str, stdin: bytes | None = None, cwd: Path | None = None):
    return subprocess.run(
        [promtool(), *args], input=stdin, capture_output=True, check=False, cwd=cwd
    )


def rule_groups() -> dict:
    """The PrometheusRule's spec: a Prometheus rules file as it is."""
    return yaml.safe_load(RULE.read_text())["spec"]


def alerts(groups: dict) -> list[dict]:
    return [rule for group in groups["groups"] for rule in group["rules"] if "alert" in rule]


def write_rules(directory: Path, groups: dict) -> Path:
    path = directory / RULES_FILE
    path.write_text(yaml.safe_dump(groups))
    return path
