"""axe-core (npm, pinned in tests/browser/axe/package.json) in every page the browser
tests open: WCAG 2.1 A and AA, and a level-one heading on every page of the site."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.ci import IN_CI

AXE_DIR = Path(__file__).resolve().parents[1] / "browser" / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
EXTRA_RULES = {"page-has-heading-one": {"enabled": True}}
RUN = """async ([tags, rules]) => {
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags }, rules });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


def axe_source() -> str:
    """axe.min.js, installed from the lock file with `npm ci` on first use."""
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            if IN_CI:
                pytest.fail("npm is needed for the accessibility checks")
            pytest.skip("no npm to install axe-core")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci of axe-core failed:\n{done.stdout}{done.stderr}")
    return AXE_JS.read_text()


class Audit:
    """Runs axe in pages and keeps what it found, page by page."""

    def __init__(self, context):
        # An init script reaches every page and frame, past the site's CSP.
        context.add_init_script(script=axe_source())
        self.found: dict[str, list[dict]] = {}
        self.reported: dict[str, list[dict]] = {}

    def check(self, page, name: str, *, fail: bool = True) -> list[dict]:
        violations = page.evaluate(RUN, [TAGS, EXTRA_RULES])
        (self.found if fail else self.reported)[name] = violations
        return violations

    def failures(self) -> list[str]:
        return [
            f"{page}: {v['id']} ({v['impact']}) {v['help']}: {', '.join(v['nodes'][:3])}"
            for page, violations in self.found.items()
            for v in violations
        ]

    def save(self, path: Path) -> None:
        path.write_text(
            json.dumps({"checked": self.found, "reported only": self.reported}, indent=2)
        )
