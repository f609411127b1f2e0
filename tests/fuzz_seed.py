"""The seed of this run's fuzzing tests (tests/fuzz, the stateful HTTP run).

Random per run, printed in pytest's header (tests/conftest.py); set
``INFOBARRIER_FUZZ_SEED`` to repeat a run exactly.
"""

from __future__ import annotations

import os
import random

SEED = int(os.environ.get("INFOBARRIER_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
