"""Whether the suite runs in CI, which installs every tool the tests need: a missing
one fails its tests there, where elsewhere it skips them."""

import os

IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")
