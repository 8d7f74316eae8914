"""The alerting rules pass promtool, and promtool's unit tests (the YAML files here)
fire each alert on a synthetic series and keep it quiet on a healthy one."""

import re
import shutil
from pathlib import Path

import pytest
import yaml

from tests.monitoring import promtool
from tests.monitoring.promtool import ROOT, alerts, rule_groups, write_rules

HERE = Path(__file__).resolve().parent
UNIT_TESTS = sorted(HERE.glob("*_alerts.yaml"))
OPERATIONS = ROOT / "docs" / "operations.md"


def _unit_test(directory: Path, groups: dict):
    write_rules(directory, groups)
    for test in UNIT_TESTS:
        shutil.copy(test, directory)
    return promtool.run("test", "rules", *(t.name for t in UNIT_TESTS), cwd=directory)


def test_rules_pass_promtool_check(tmp_path):
    done = promtool.run("check", "rules", str(write_rules(tmp_path, rule_groups())))
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    assert f"SUCCESS: {len(alerts(rule_groups()))} rules found" in done.stdout.decode()


def test_promtool_unit_tests_pass(tmp_path):
    done = _unit_test(tmp_path, rule_groups())
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


def test_every_alert_is_tested_firing_and_quiet():
    firing, quiet = set(), set()
    for path in UNIT_TESTS:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test["alert_rule_test"]:
                (firing if case["exp_alerts"] else quiet).add(case["alertname"])
    names = {rule["alert"] for rule in alerts(rule_groups())}
    assert names - firing == set(), "alerts no unit test sees firing"
    assert names - quiet == set(), "alerts no unit test sees quiet"


def test_the_unit_tests_notice_a_broken_rule(tmp_path):
    """Not vacuous: alerts that fire at once, without their `for`, fail the tests."""
    groups = rule_groups()
    for rule in alerts(groups):
        rule.pop("for", None)
    done = _unit_test(tmp_path, groups)
    assert done.returncode != 0
    assert "FAILED" in done.stdout.decode() + done.stderr.decode()


@pytest.mark.parametrize("rule", alerts(rule_groups()), ids=lambda rule: rule["alert"])
def test_every_alert_explains_itself_and_links_its_runbook(rule):
    annotations = rule["annotations"]
    assert annotations["summary"] and annotations["description"]
    assert rule["labels"]["severity"] in {"warning", "critical"}
    anchor = annotations["runbook_url"].removeprefix("docs/operations.md#")
    assert anchor == rule["alert"].lower()
    headings = re.findall(r"^#+ (.+)$", OPERATIONS.read_text(), flags=re.MULTILINE)
    assert rule["alert"] in headings, f"docs/operations.md has no section {rule['alert']}"
    section = OPERATIONS.read_text().split(f"# {rule['alert']}\n", 1)[1].split("\n#", 1)[0]
    assert "Look at" in section and "Do" in section, "a runbook says what to look at and do"
