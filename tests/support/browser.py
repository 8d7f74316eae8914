"""Headless Chromium for the browser tests: found on PATH, by CHROMIUM, or at Debian's
path. A run without it fails (CI installs it); it never skips silently."""

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.db import connection

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")


def find_chromium(candidates: tuple[str, ...] = CANDIDATES) -> str:
    """The Chromium executable; raises with what was tried when there is none."""
    named = os.environ.get("CHROMIUM")
    if named:
        found = shutil.which(named)
        if not found:
            raise FileNotFoundError(f"CHROMIUM={named} is not an executable")
        return found
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    raise FileNotFoundError(
        f"no Chromium found (tried {', '.join(candidates)}); install it or set CHROMIUM"
    )


def off_the_loop(query):
    """query() on a thread of its own, its result here. While a browser is open this
    thread runs Playwright's event loop, and Django refuses queries there (as it does
    in a Playwright handler)."""

    def run():
        try:
            return query()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()
