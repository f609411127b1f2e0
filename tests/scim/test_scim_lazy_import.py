"""The SCIM protocol's libraries (scim2-models, scim2-server) are not imported with the
app: a server is ready to decide without them, and loads them once ready (or on the first
SCIM request, which then waits for them)."""

from __future__ import annotations

import subprocess
import sys


def test_the_app_imports_without_the_scim_libraries() -> None:
    probe = (
        "import sys\n"
        "import infobarrier.http.app\n"
        "from infobarrier.scim import routes\n"
        "heavy = ('scim2_models', 'scim2_server', 'infobarrier.scim.protocol')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "routes.preload().join()\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before, after = done.stdout.strip().splitlines()[-2:]
    assert before == "[]"
    assert after == "['infobarrier.scim.protocol', 'scim2_models', 'scim2_server']"
