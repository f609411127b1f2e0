"""The import's garbage-collector pause is counted across threads (service/gc_pause.py)."""

from __future__ import annotations

import gc
import threading

from infobarrier.service.gc_pause import gc_paused


def test_the_collector_comes_back_when_the_last_pause_ends() -> None:
    """Two imports overlapping in a server's threads: the first to finish does not turn
    the collector back on under the other; the last one does."""
    assert gc.isenabled()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with gc_paused():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second() -> None:
        first_in.wait(10)
        with gc_paused():
            second_in.set()
            first_out.wait(10)
            seen.append(gc.isenabled())  # the first has finished, this one has not
        seen.append(gc.isenabled())

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [False, True]
    assert gc.isenabled()


def test_a_collector_left_off_by_the_caller_stays_off() -> None:
    gc.disable()
    try:
        with gc_paused(), gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_comes_back_after_an_error() -> None:
    try:
        with gc_paused():
            raise ValueError("refused")
    except ValueError:
        pass
    assert gc.isenabled()
