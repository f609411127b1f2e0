"""Fixtures and import paths for the core tests.

``tests/`` (for ``reference_model``) and ``tests/core/`` (for ``core_builders``) are put
on ``sys.path`` so the suites run with or without ``PYTHONPATH`` and before the package
is installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for _path in (_HERE, _HERE.parent, _HERE.parent.parent / "src"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
