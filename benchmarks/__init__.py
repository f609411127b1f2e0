"""Benchmarks of the infobarrier engine against the naive reference model (``make bench``).

Importing this package puts the repository's ``src`` (first) and ``tests`` (last, for
``reference_model``) on ``sys.path``, so the benchmarks run without an install.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_src, _tests = str(ROOT / "src"), str(ROOT / "tests")
if _src not in sys.path:
    sys.path.insert(0, _src)
if _tests not in sys.path:
    sys.path.append(_tests)
