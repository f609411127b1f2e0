"""Helpers of the browser tests: the server handle, API calls, signing in, screenshots."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

CHROMIUM = Path(os.environ.get("INFOBARRIER_CHROMIUM", "/usr/bin/chromium"))
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
#: Screenshots of each page, linked from the README; overwritten by every run.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1360, "height": 900}


@dataclass
class WebServer:
    """A running ``infobarrier serve --demo`` and tokens of tenant ``abc`` by role."""

    base: str
    db_url: str
    tokens: dict[str, str]

    def api(self, role: str = "admin") -> httpx.Client:
        """The JSON API of tenant ``abc`` as ``role``."""
        return httpx.Client(
            base_url=f"{self.base}/v1/tenants/abc",
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
            timeout=30,
        )


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of an answer that must have ``status``."""
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


def screenshot(page: Any, name: str) -> None:
    """Write ``docs/screenshots/<name>.png`` (the whole page)."""
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def ready(page: Any) -> None:
    """Wait until the page's script has loaded its data."""
    page.wait_for_selector("body[data-ready='true']", state="attached")


def sign_in(page: Any, server: WebServer, role: str = "admin", tenant: str = "abc") -> None:
    """Sign in through the form and land on the overview."""
    page.goto(f"{server.base}/")
    page.get_by_label("Tenant").fill(tenant)
    page.get_by_label("Token").fill(server.tokens[role])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/web/overview")
    ready(page)


def goto(page: Any, server: WebServer, slug: str) -> None:
    """Open a page of the admin (signed in already) and wait for its data."""
    page.goto(f"{server.base}/web/{slug}")
    ready(page)
