"""The package as users get it: the wheel, installed outside the checkout, run as a user would.

``python -m build --wheel`` builds from a copy of the files a build reads (``pyproject.toml``,
``README.md``, ``LICENSE``, ``src/``), so nothing the checkout happens to hold leaks in.
The wheel goes into a fresh virtualenv with ``pip install --no-deps``; the virtualenv sees
the dev environment's third-party packages through a path file, but not its editable
``infobarrier``, so ``infobarrier`` itself can only come from the wheel. Then
``infobarrier demo`` (migrations on a fresh SQLite database) and ``infobarrier serve
--demo`` (every page template, every static asset, the API) run from it.
"""

from __future__ import annotations

import re
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from live_server import start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "infobarrier"

pytestmark = pytest.mark.slow


@dataclass
class Installed:
    """A virtualenv outside the checkout with the wheel installed."""

    wheel: Path
    python: Path
    infobarrier: Path


def _run(
    args: list[str | Path], cwd: Path | str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env=env,
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src",
        source / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"),
    )
    dist = work / "dist"
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", dist, source])
    (wheel,) = dist.glob("infobarrier-*.whl")

    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    venv_site = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    # A plain path line: the dev site-packages' own .pth files (the editable install of
    # this checkout among them) are not processed, so only third-party packages show.
    dev_site = Path(sysconfig.get_paths()["purelib"])
    assert dev_site in [Path(p) for p in site.getsitepackages()]
    (venv_site / "dev-dependencies.pth").write_text(f"{dev_site}\n", encoding="utf-8")
    _run(
        [
            *(sys.executable, "-m", "pip", "--python", python, "install", "--quiet"),
            *("--no-deps", "--no-index", wheel),
        ]
    )
    return Installed(wheel, python, venv / "bin" / "infobarrier")


def test_the_wheel_holds_license_templates_assets_and_migrations(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert any(n.endswith("/licenses/LICENSE") for n in names), "LICENSE is not in the wheel"
    wanted = [
        p
        for p in PACKAGE.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and p.suffix != ".pyc"
        and not any(part.endswith(".egg-info") for part in p.parts)
    ]
    assert wanted
    missing = [str(p.relative_to(PACKAGE)) for p in wanted]
    missing = [m for m in missing if f"infobarrier/{m}" not in names]
    assert not missing, f"files of src/infobarrier not in the wheel: {missing}"


def test_the_package_is_imported_from_the_wheel_not_the_checkout(installed: Installed) -> None:
    where = _run(
        [installed.python, "-c", "import infobarrier; print(infobarrier.__file__)"], cwd="/"
    ).stdout.strip()
    assert not Path(where).resolve().is_relative_to(ROOT), where
    assert Path(where).resolve().is_relative_to(installed.python.parent.parent.resolve())


def test_demo_migrates_a_fresh_sqlite_database(installed: Installed, tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    out = _run(
        [installed.infobarrier, "--db", f"sqlite:///{db}", "demo"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": str(tmp_path)},
    ).stdout
    assert "Tenant abc" in out
    assert "BLOCKED" in out
    assert "ALLOWED" in out
    assert db.exists()
    again = _run(
        [installed.infobarrier, "--db", f"sqlite:///{db}", "--tenant", "abc", "status"],
        cwd=tmp_path,
    ).stdout
    assert "Completed" in again


@pytest.fixture(scope="module")
def server(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("wheel-serve")
    log = work / "server.log"
    process, base = start_server(
        f"sqlite:///{work / 'serve.db'}",
        log,
        demo=True,
        timeout=60,
        command=[str(installed.infobarrier)],
    )
    try:
        token = re.search(r"\(shown once\):\s*\n(ib_\S+)", log.read_text(errors="replace"))
        assert token, log.read_text(errors="replace")
        yield f"{base}|{token.group(1)}"
    finally:
        stop_server(process)


def test_serve_answers_the_web_page_and_every_static_asset(server: str) -> None:
    base, _token = server.split("|")
    home = httpx.get(f"{base}/", timeout=10)
    assert home.status_code == 200
    assert "text/html" in home.headers["content-type"]
    assert "Content-Security-Policy" in home.headers
    scripts = re.findall(r'src="(/web/static/[^"]+)"', home.text)
    assert scripts, home.text
    for page in ("overview", "matrix", "barriers", "what-if", "explain", "history"):
        answer = httpx.get(f"{base}/web/{page}", timeout=10)
        assert answer.status_code == 200, page
    static = PACKAGE / "web" / "static"
    assets = [p for p in static.rglob("*") if p.is_file()]
    assert assets
    for asset in assets:
        path = asset.relative_to(static).as_posix()
        answer = httpx.get(f"{base}/web/static/{path}", timeout=10)
        assert answer.status_code == 200, path
        assert answer.content == asset.read_bytes(), path


def test_serve_answers_the_api_from_the_migrated_database(server: str) -> None:
    base, token = server.split("|")
    headers = {"Authorization": f"Bearer {token}"}
    answer = httpx.post(
        f"{base}/v1/tenants/abc/decisions",
        json={
            "checks": [
                {"action": "call", "from": "v1-ra1@abc.example", "to": ["se1a@abc.example"]},
                {"action": "call", "from": "v1-ra1@abc.example", "to": ["se2a@abc.example"]},
            ]
        },
        headers=headers,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert [r["allowed"] for r in answer.json()["results"]] == [True, False]
    assert httpx.get(f"{base}/docs", timeout=10).status_code == 200
