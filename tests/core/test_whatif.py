"""``core.whatif.diff``: what an apply changes, each list bounded, the counts complete (§5)."""

from __future__ import annotations

from core_builders import allow, block, make_config, make_directory

from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.epoch import Epoch
from infobarrier.core.whatif import diff

SEGMENTS = {name: f"Department -eq '{name}'" for name in ("A", "B", "C", "D")}
USERS = {
    f"u{i}": {"department": name}
    for i, name in enumerate(["A", "A", "B", "B", "C", "C", "D", "D", "", ""])
}


def _first_apply_and_rewall() -> tuple[Epoch, Epoch]:
    directory = make_directory(USERS)
    before = compile_epoch(directory, BarrierConfig())
    walled = make_config(segments=SEGMENTS, policies={"A": block("B", "C"), "D": allow("D")})
    after = compile_epoch(directory, walled)
    return before, after


def test_a_first_apply_lists_every_change_within_the_limit() -> None:
    before, after = _first_apply_and_rewall()
    whatif = diff(before, after)
    assert len(whatif.users_changed) == whatif.totals.users_changed == 8
    blocked = {(p.a, p.b) for p in whatif.pairs_blocked}
    assert ("A", "B") in blocked
    assert ("A", "C") in blocked
    assert ("C", "D") in blocked  # D allows only itself
    assert whatif.totals.pairs_blocked == len(whatif.pairs_blocked)
    assert whatif.as_dict()["totals"] == {
        "users_changed": 8,
        "pairs_blocked": whatif.totals.pairs_blocked,
        "pairs_allowed": 0,
        "new_conflicts": 0,
        "resolved_conflicts": 0,
    }


def test_lists_stop_at_the_limit_and_the_totals_count_everything() -> None:
    before, after = _first_apply_and_rewall()
    full = diff(before, after)
    cut = diff(before, after, limit=2)
    assert cut.users_changed == full.users_changed[:2]
    assert cut.pairs_blocked == full.pairs_blocked[:2]
    assert cut.totals == full.totals
    assert full.totals.pairs_blocked > 2
