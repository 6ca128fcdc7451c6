"""What the page tests share: Debian's Chromium, its flags, screenshots, axe-core's accessibility check, and
staff who log in through the login form (in a browser or over HTTP) to the app over a private knowledge base.

The ``browser`` fixture (tests/api/conftest.py) launches Chromium from here; axe-core comes from the npm
registry (``make setup`` installs it under var/node_modules) and is injected into the page under test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from api.settings import AppSettings
from knowledge.store import DocumentStore

if TYPE_CHECKING:  # conftest.py imports this module (the browser's flags): no import back at run time
    from .conftest import RunningApi

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


# -- staff logged in through the login form ----------------------------------------------------------------

LOGIN_CSRF = re.compile(r'action="/login"[^>]*>\s*<input type="hidden" name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class StaffApi:
    """The app over a private copy of the sample knowledge base, staff with a password, and an analyst's API key."""

    api: RunningApi
    password: str
    analyst_key: str

    @property
    def url(self) -> str:
        return self.api.url

    @property
    def settings(self) -> AppSettings:
        return self.api.settings

    def store(self) -> DocumentStore:
        """A connection to the app's document store; close it when done."""
        return DocumentStore.open(self.settings.store.url)

    def session(self, name: str, timeout_s: float = 180.0) -> tuple[httpx.Client, str]:
        """An HTTP client logged in as ``name`` through the login form, and its session's CSRF token."""
        http = httpx.Client(base_url=self.url, timeout=timeout_s, follow_redirects=False)
        token = LOGIN_CSRF.search(http.get("/login").text)
        assert token is not None
        form = {"name": name, "password": self.password, "csrf_token": token.group(1), "next": ""}
        assert http.post("/login", data=form).status_code == 303
        return http, http.get("/api/auth/me").json()["csrf_token"]


def logged_in_page(
    browser: Browser,
    url: str,
    name: str,
    password: str,
    timeout_ms: float,
    width: int = 1280,
    height: int = 900,
    **context: Any,
) -> Page:
    """A fresh browser that opened ``url``, was shown the login form (401), logged in as ``name`` and is back
    at ``url``; ``context`` goes to Playwright's new_context (e.g. accept_downloads)."""
    opened = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", **context).new_page()
    opened.context.set_default_timeout(timeout_ms)
    refused = opened.goto(url)
    assert refused is not None and refused.status == 401
    opened.get_by_label("用户名").fill(name)
    opened.get_by_label("密码").fill(password)
    opened.get_by_label("密码").press("Enter")
    opened.wait_for_url(re.compile(re.escape(url) + "$"))
    return opened
