"""The web admin page at scale, in a real browser (``make bench-web``).

A generated tenant (``benchmarks.generate``, 100,000 users and 500 segments by default, seeded
in bulk and applied as ``benchmarks.server.seed`` does) is served by a real ``infobarrier
serve``; Debian's Chromium (Playwright, as the browser tests drive it) opens every page of the
navigation, as the page lists them, and times each to *interactive*: from the navigation to
``body[data-ready]`` (the view has drawn its data and answers input). Also timed: the
what-if preview of an edited draft, and a click on a matrix cell. The bytes the page fetched
from the API (``performance`` resource entries) are reported beside each time.

The seeded database is kept in ``--workdir`` (default ``/tmp/infobarrier-bench-web``) and
reused by the next run of the same size, since seeding 100k users takes minutes. With
``--baseline REV`` that revision's ``src/`` serves the same database first: it must be able
to open it (a newer checkout migrates the database when it starts, after which an older
revision refuses it: give such a baseline a fresh ``--workdir`` seeded at its schema). Screenshots
of each page go to ``docs/screenshots/scale-<page>.png`` with ``--screenshots``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.generate import TenantSpec, generate
from benchmarks.server import ACTOR, TENANT, seed
from infobarrier.core.barriers import Mode
from infobarrier.service.tokens import Role
from infobarrier.service.wiring import build

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"
RESULTS = Path(__file__).resolve().parent / "results"
CHROMIUM = Path(os.environ.get("INFOBARRIER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
Json = dict[str, Any]


def prepare(workdir: Path, users: int, segments: int) -> tuple[str, str]:
    """A database holding the tenant, applied, and an admin token: reused when present."""
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / f"web-{users}-{segments}.db"
    token_file = db.with_suffix(".token")
    db_url = f"sqlite:///{db}"
    if db.exists() and token_file.exists():
        return db_url, token_file.read_text().strip()
    db.unlink(missing_ok=True)
    start = time.perf_counter()
    tenant = generate(TenantSpec(users, segments, Mode.SINGLE_SEGMENT))
    services = build(db_url)
    seed(services, tenant)
    services.applications.apply(TENANT, ACTOR)
    _record, token = services.tokens.create(TENANT, Role.ADMIN, ACTOR, "web benchmark")
    services.store.dispose()
    token_file.write_text(token)
    print(f"seeded {users} users x {segments} segments in {time.perf_counter() - start:.0f} s")
    return db_url, token


def _fetched(page: Any) -> int:
    """Bytes of API answers this document fetched (decoded body sizes)."""
    return int(
        page.evaluate(
            "() => performance.getEntriesByType('resource')"
            ".filter(e => e.name.includes('/v1/'))"
            ".reduce((n, e) => n + (e.decodedBodySize || 0), 0)"
        )
    )


def _open(page: Any, url: str, timeout_s: float) -> float:
    """Seconds from navigating to ``url`` until the view is ready."""
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_selector("body[data-ready='true']", state="attached", timeout=timeout_s * 1000)
    return time.perf_counter() - start


def measure(base: str, token: str, *, timeout_s: float, screenshots: bool) -> list[Json]:
    """Open every page of the navigation; time each, and the what-if preview and a cell."""
    from playwright.sync_api import sync_playwright

    rows: list[Json] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.set_default_timeout(timeout_s * 1000)
        page.goto(f"{base}/")
        page.evaluate(
            "([tenant, token]) => sessionStorage.setItem('infobarrier.session', "
            "JSON.stringify({tenant, token, role: 'admin'}))",
            [TENANT, token],
        )
        # The first page also waits for the server to load the tenant (cold): not a figure.
        _open(page, f"{base}/web/overview", max(timeout_s, 900))
        slugs = page.eval_on_selector_all(
            "nav.sidenav a[data-nav]", "links => links.map(a => a.dataset.nav)"
        )
        for slug in slugs:
            row: Json = {"page": slug}
            try:
                row["interactive_s"] = _open(page, f"{base}/web/{slug}", timeout_s)
                row["api_bytes"] = _fetched(page)
                if slug == "matrix":
                    row.update(_matrix_click(page))
                if slug == "what-if":
                    row.update(_what_if_preview(page, timeout_s))
                if screenshots:
                    page.screenshot(path=str(SCREENSHOTS / f"scale-{slug}.png"))
            except Exception as err:  # a page that never gets ready is a figure too
                row["error"] = str(err).splitlines()[0]
            rows.append(row)
            print(json.dumps(row), flush=True)
        browser.close()
    return rows


def _matrix_click(page: Any) -> Json:
    """Seconds from a click on a cell (the fourth drawn) to its explanation, and how many
    elements the keyboard stops at in the grid."""
    cell = page.locator("#matrix-grid .cell").nth(3)
    name = f"{cell.get_attribute('data-a')} ↔ {cell.get_attribute('data-b')}"
    start = time.perf_counter()
    cell.click()
    page.wait_for_function(
        "name => (document.querySelector('#cell-detail .verdict-line') || false)"
        " && document.querySelector('#cell-detail h2').textContent === name",
        arg=name,
    )
    took = time.perf_counter() - start
    stops = page.evaluate(
        "() => [...document.querySelectorAll('#matrix-grid *')]"
        ".filter(e => e.tabIndex >= 0 && !e.disabled).length"
    )
    return {"cell_click_s": took, "tab_stops": stops}


_COMPUTED = (
    "() => /Compared with/.test((document.querySelector('#preview-status') || {}).textContent"
    " || '')"
)


def _what_if_preview(page: Any, timeout_s: float) -> Json:
    """Seconds until the first preview is shown (after the page is interactive), then from
    removing one policy from the draft to its preview."""
    start = time.perf_counter()
    page.wait_for_function(_COMPUTED, timeout=timeout_s * 1000)
    first = time.perf_counter() - start
    page.evaluate("() => { document.querySelector('#preview-status').textContent = ''; }")
    start = time.perf_counter()
    page.locator("#draft-table button", has_text=re.compile("^Remove$")).first.click()
    page.wait_for_function(_COMPUTED, timeout=timeout_s * 1000)
    return {"first_preview_s": first, "preview_s": time.perf_counter() - start}


def markdown(runs: dict[str, list[Json]], users: int, segments: int, load: str) -> str:
    """The figures as a table for benchmarks/README.md: each target side by side."""
    names = list(runs)
    lines = [
        f"{users:,} users × {segments} segments, Chromium at 1366×768, load average {load}",
        "",
        "| page | " + " | ".join(f"{n}: interactive (API bytes)" for n in names) + " | other |",
        "|---|" + "---:|" * len(names) + "---|",
    ]
    by_page = [{r["page"]: r for r in rows} for rows in runs.values()]
    pages = list(dict.fromkeys(p for rows in runs.values() for p in (r["page"] for r in rows)))
    for page in pages:
        cells, other = [], []
        for name, table in zip(names, by_page, strict=True):
            r = table.get(page, {})
            if "interactive_s" in r:
                cells.append(f"{r['interactive_s']:.2f} s ({r['api_bytes'] / 1e6:.2f} MB)")
            else:
                cells.append(f"error: {r.get('error', 'not measured')}"[:60])
            extra = []
            if "cell_click_s" in r:
                stops = r["tab_stops"]
                extra.append(
                    f"cell click {r['cell_click_s']:.2f} s, "
                    f"{stops:,} tab stop{'' if stops == 1 else 's'}"
                )
            if "preview_s" in r:
                extra.append(
                    f"first preview {r['first_preview_s']:.2f} s later, "
                    f"preview of an edit {r['preview_s']:.2f} s"
                )
            if extra:
                other.append(f"{name}: {'; '.join(extra)}")
        lines.append(f"| {page} | {' | '.join(cells)} | {'<br>'.join(other)} |")
    return "\n".join(lines)


def _source(rev: str, into: Path) -> Path:
    """``src/`` of git revision ``rev``, exported into ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.web [--users N] [--segments S] [--baseline REV] [--screenshots]
    [--port P]``."""
    from live_server import start_server, stop_server  # tests/ is on sys.path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--segments", type=int, default=500)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/infobarrier-bench-web"))
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per page")
    parser.add_argument(
        "--baseline", help="also measure this git revision's server and page, first"
    )
    parser.add_argument("--screenshots", action="store_true")
    parser.add_argument("--port", type=int, help="serve on this port (default: a free one)")
    args = parser.parse_args(argv)
    db_url, token = prepare(args.workdir, args.users, args.segments)
    targets: dict[str, Path | None] = {}
    if args.baseline:
        targets[args.baseline] = _source(args.baseline, args.workdir / "baseline")
    targets["this checkout"] = None
    runs: dict[str, list[Json]] = {}
    for name, src in targets.items():
        saved = os.environ.get("PYTHONPATH")
        if src is not None:
            os.environ["PYTHONPATH"] = str(src)
        try:
            process, base = start_server(
                db_url, args.workdir / "server.log", timeout=600, port=args.port
            )
        finally:
            if saved is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = saved
        try:
            print(f"-- {name}", flush=True)
            runs[name] = measure(
                base,
                token,
                timeout_s=args.timeout,
                screenshots=args.screenshots and src is None,
            )
        finally:
            stop_server(process)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    text = markdown(runs, args.users, args.segments, load)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "web.json").write_text(
        json.dumps(
            {"users": args.users, "segments": args.segments, "load": load, "runs": runs},
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
