"""Every page of the admin, for everyone: axe-core, a phone's width, the keyboard, offline docs.

The pages are the app's own list (``infobarrier.web.PAGES``: the side navigation renders it,
less the pages reached by a link, ``UNLISTED``; the first test checks this), so a page added
to the app is checked here without touching this file. axe-core is the copy that
``axe-playwright-python`` ships.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from web_support import WebServer, chromium_context, goto, new_tab, serve_demo, sign_in

from infobarrier.web import PAGES, UNLISTED

web_server = pytest.fixture(scope="module")(serve_demo)
browser_context = pytest.fixture(scope="module")(chromium_context)

#: A laptop and a phone (CSS pixels).
VIEWPORTS = {"1366x768": (1366, 768), "390x844": (390, 844)}
#: What must never be found (axe-core's impact levels).
BLOCKING = ("critical", "serious")


@pytest.fixture
def page(browser_context: Any, web_server: WebServer) -> Iterator[Any]:
    """A new tab: a session of its own (sessionStorage is per tab)."""
    yield from new_tab(browser_context)


def blocking(page: Any) -> list[str]:
    """axe-core's critical and serious violations on the page, one line each."""
    results = Axe().run(page)
    return [
        f"{v['impact']} {v['id']}: {v['help']} at "
        + json.dumps([n["target"] for n in v["nodes"]][:5])
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


def overflowing(page: Any) -> list[str]:
    """Tables (and the page itself) wider than the viewport."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const out = [];
          if (document.documentElement.scrollWidth > width + 1) {
            out.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
            const wide = [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > width + 1);
            for (const e of wide.slice(0, 5)) out.push(`  ${e.tagName}.${e.className}#${e.id}`);
          }
          for (const t of document.querySelectorAll('table')) {
            const r = t.getBoundingClientRect();
            if (r.width && r.right > width + 1)
              out.push(`${t.id || t.className}: right ${r.right} > ${width}`);
          }
          return out;
        }"""
    )


def test_the_navigation_lists_every_page(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server)
    slugs = page.eval_on_selector_all("nav.sidenav a[data-nav]", "a => a.map(x => x.dataset.nav)")
    assert slugs == [s for s in PAGES if s not in UNLISTED]


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_sign_in_page_has_no_serious_violation(page: Any, web_server: WebServer, size: str) -> None:
    page.set_viewport_size(dict(zip(("width", "height"), VIEWPORTS[size], strict=True)))
    page.goto(f"{web_server.base}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert blocking(page) == []
    assert overflowing(page) == []


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize("slug", list(PAGES))
def test_page_has_no_serious_violation_and_fits(
    page: Any, web_server: WebServer, slug: str, size: str
) -> None:
    page.set_viewport_size(dict(zip(("width", "height"), VIEWPORTS[size], strict=True)))
    sign_in(page, web_server)
    goto(page, web_server, slug)
    assert blocking(page) == [], slug
    assert (found := overflowing(page)) == [], "\n".join([slug, *found])


def test_matrix_is_one_tab_stop_with_arrow_keys(page: Any, web_server: WebServer) -> None:
    sign_in(page, web_server)
    goto(page, web_server, "matrix")
    grid = page.get_by_role("grid")
    stops = page.evaluate(
        "() => [...document.querySelectorAll('#matrix-grid *')]"
        ".filter(e => e.tabIndex >= 0 && !e.disabled).length"
    )
    assert stops == 1
    grid.focus()
    active = page.locator("#matrix-grid [aria-selected='true'], #matrix-grid .cell-active")
    first = grid.get_attribute("aria-activedescendant")
    page.keyboard.press("ArrowRight")
    second = grid.get_attribute("aria-activedescendant")
    assert first != second
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#cell-detail h2")).to_contain_text("↔")
    assert active.count() >= 0


def test_api_docs_work_offline(page: Any, web_server: WebServer) -> None:
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(web_server.base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{web_server.base}/docs")
    # A 1.5 MB script and the whole OpenAPI document: slow on a loaded machine.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("infobarrier", timeout=60_000)
    expect(page.locator(".opblock").first).to_be_visible()
    assert outside == []
