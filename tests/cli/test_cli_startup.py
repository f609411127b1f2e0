"""The CLI starts light: the heavy modules (the store, numpy, the settings, the HTTP
adapter, Rich's progress bar) are imported by the commands that use them, not by every
process (start-up was most of a one-question ``check``; benchmarks/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

#: Modules no command line pays for before it runs a command that needs them.
HEAVY = (
    "sqlalchemy",
    "numpy",
    "fastapi",
    "infobarrier.http",
    "infobarrier.store.database",
    "infobarrier.service.wiring",
    "rich.progress",
)


def _imported_after(code: str) -> list[str]:
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_imports_none_of_the_heavy_modules() -> None:
    assert _imported_after("import infobarrier.cli.main") == []


def test_version_and_help_run_without_them() -> None:
    code = (
        "import contextlib, io\n"
        "from infobarrier.cli.main import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert run(['--version']) == 0\n"
        "    assert run(['check', '--help']) == 0"
    )
    assert _imported_after(code) == []


def test_check_batch_does_not_import_the_http_adapter(tmp_path: Path) -> None:
    """``check --batch`` answers with the shared encoder (``core.answers``), not through
    the HTTP package."""
    folder = tmp_path
    db = f"sqlite:///{folder / 'cli.db'}"
    checks = folder / "checks.jsonl"
    checks.write_text('{"action": "chat", "from": "a@x.example", "to": ["b@x.example"]}\n')
    code = (
        "import contextlib, io\n"
        "from infobarrier.cli.main import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert run(['--db', {db!r}, 'tenants', 'create', 't']) == 0\n"
        f"    assert run(['--db', {db!r}, '--tenant', 't', 'check', '--batch', {str(checks)!r}])"
        " == 0\n"
        "import sys\n"
        "assert 'infobarrier.core.answers' in sys.modules\n"
    )
    imported = _imported_after(code)
    assert "infobarrier.http" not in imported
    assert "sqlalchemy" in imported  # the probe saw a command that did run
