"""Support of the browser tests: a real ``infobarrier serve --demo``, Debian's Chromium,
signing in, screenshots.

No browser is ever downloaded (``playwright install`` is never run): the tests launch the
system's ``/usr/bin/chromium`` (``INFOBARRIER_CHROMIUM`` overrides the path). When it is
missing the tests fail, saying how to install it; ``make test`` installs it (scripts/system-deps).

The fixtures are plain generator functions that the test module turns into fixtures (a
``conftest.py`` here would shadow ``tests/http``'s ``from conftest import ...``).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from infobarrier.service.tokens import Role
from infobarrier.service.wiring import build
from live_server import start_server, stop_server

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


def _demo_token(log: Path) -> str | None:
    """The admin token ``serve --demo`` prints once."""
    found = re.search(r"\(shown once\):\s*\n(ib_\S+)", log.read_text(errors="replace"))
    return found.group(1) if found else None


def serve_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """``infobarrier serve --demo`` (tenant ``abc``, applied) on a free port.

    The admin token is the one ``serve --demo`` prints; auditor and enforcer tokens are
    created in the same database while it runs.
    """
    workdir = tmp_path_factory.mktemp("web")
    db_url = f"sqlite:///{workdir / 'web.db'}"
    log = workdir / "server.log"
    process, base = start_server(db_url, log, demo=True, timeout=60)
    try:
        admin = _demo_token(log)  # printed before the server starts listening
        if admin is None:
            raise RuntimeError(f"serve --demo printed no token: {log.read_text(errors='replace')}")
        services = build(db_url)
        tokens = {"admin": admin}
        for role in (Role.AUDITOR, Role.ENFORCER):
            _record, plain = services.tokens.create("abc", role, "web tests")
            tokens[role.value] = plain
        services.store.dispose()
        yield WebServer(base, db_url, tokens)
    finally:
        stop_server(process)


def chromium_context() -> Iterator[Any]:
    """Debian's Chromium, headless, with a fresh user-data directory."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Debian's Chromium at {CHROMIUM}: "
            "install it with `apt-get install -y chromium` (`make test` does this as root), "
            "or point INFOBARRIER_CHROMIUM at a Chromium binary",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        pytest.fail(
            "the browser tests need the playwright package: pip install -e '.[dev]'",
            pytrace=False,
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="infobarrier-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
            locale="en-US",
            timezone_id="UTC",
            reduced_motion="reduce",
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()


def new_tab(browser_context: Any) -> Iterator[Any]:
    """A new tab, so a session of its own (sessionStorage is per tab); any script error
    on the page fails the test."""
    tab = browser_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield tab
    finally:
        tab.close()
    assert not errors, f"script errors on the page: {errors}"
