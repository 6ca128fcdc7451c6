"""What the page tests share: Debian's Chromium, its flags, screenshots, and axe-core's accessibility check.

The ``browser`` fixture (tests/api/conftest.py) launches Chromium from here; axe-core comes from the npm
registry (``make setup`` installs it under var/node_modules) and is injected into the page under test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE = ROOT / "var" / "node_modules" / "axe-core" / "axe.min.js"
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium"
)


def axe_findings(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, of the given impacts (id, impact, help, targets)."""
    # a missing axe-core is a broken setup, not a reason to skip the check: fail and say how to fix it
    assert AXE.is_file(), f"axe-core is missing at {AXE}: run make setup (npm install --prefix var axe-core)"
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]],
        }
        for violation in result["violations"]
        if violation["impact"] in impacts
    ]
