"""``scripts/system-deps``: what ``make test`` and ``make run`` find missing, in ``--check`` mode.

``--check`` only reports (it never installs), so these run safely on any machine and
change nothing on it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "system-deps"


def check(target: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "--check", target],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


def test_a_missing_chromium_is_named_with_the_package_to_install(tmp_path: Path) -> None:
    missing = tmp_path / "no-chromium"
    done = check("test", INFOBARRIER_CHROMIUM=str(missing))
    assert done.returncode == 1
    assert f"missing: no Chromium at {missing} for the browser tests" in done.stderr
    assert "make test would install: chromium" in done.stderr


def test_run_needs_no_browser_and_no_database(tmp_path: Path) -> None:
    done = check("run", INFOBARRIER_CHROMIUM=str(tmp_path / "no-chromium"))
    assert done.returncode == 0, done.stderr
    assert "chromium" not in done.stderr


def test_a_given_chromium_and_postgresql_server_need_nothing(tmp_path: Path) -> None:
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    done = check(
        "test", INFOBARRIER_CHROMIUM=str(browser), INFOBARRIER_TEST_PG_URL="postgresql://x"
    )
    assert done.returncode == 0, done.stderr
    assert "all present" in done.stdout


def test_an_unknown_target_is_refused() -> None:
    done = subprocess.run(
        [str(SCRIPT), "bench"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "usage:" in done.stderr
