"""The dependency direction webapp -> streams <- worker, and tooling kept apart:
streams imports neither side, worker never imports webapp, the worker process loads
no Django, and only the commands production runs are management commands."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"streams": {"webapp", "worker", "tools"}, "worker": {"webapp", "tools", "django"}}
PRODUCT = ("webapp", "worker", "streams")


def imported_packages(path: Path) -> set[str]:
    """The top-level package of every absolute import in a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_against_the_dependency_direction(package):
    modules = modules_of(package)
    assert modules, f"no modules found under {package}/"
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in modules
    }
    assert {path: names for path, names in wrong.items() if names} == {}


@pytest.mark.parametrize("package", PRODUCT)
def test_product_code_never_imports_the_tools(package):
    offenders = [
        str(path.relative_to(ROOT))
        for path in modules_of(package)
        if "tools" in imported_packages(path)
    ]
    assert offenders == []


def test_the_checker_sees_imports_of_every_form(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import webapp.claps\nfrom worker.app import Worker\nfrom . import near\n"
        "def f():\n    import django.conf\n"
    )
    assert imported_packages(module) == {"webapp", "worker", "django"}


def test_the_worker_process_loads_no_django():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import worker.app, worker.__main__"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    # importtime lines: "import time: self | cumulative | module", one per module.
    loaded = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()]
    assert "worker.app" in loaded
    assert [name for name in loaded if name.split(".")[0] in {"django", "webapp"}] == []


def test_management_commands_are_only_the_ones_production_runs():
    ours = {name for name, app in get_commands().items() if app.startswith("webapp.")}
    assert ours == {"ensure_topics", "record_events", "sample_streams", "prune_jobs"}
