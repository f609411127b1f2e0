"""The cyclic garbage collector paused while a bulk import builds its rows.

A million-row import builds millions of rows, cells and users, none of which form cycles,
and the collector would scan them again and again as they pile up (it doubled the parse of
a million-row file). The collector is one per process, and a server runs imports on
several threads at once: the pause is counted, so the collector comes back on when the
last import that paused it is done, and only if it was on before the first
(docs/decisions.md, "The users CSV import path").
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """The collector off inside, back to how it was once no caller is inside any more."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
