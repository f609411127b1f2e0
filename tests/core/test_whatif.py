"""``core.whatif.diff``: what an apply changes, each list bounded, the counts complete (§5)."""

from __future__ import annotations

import pytest
from core_builders import allow, block, make_config, make_directory
from hypothesis import given, settings
from hypothesis import strategies as st

from infobarrier.core.barriers import BarrierConfig, Mode
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.epoch import Epoch
from infobarrier.core.whatif import diff, user_changes

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


# -- every user, against a user-by-user reference -------------------------------------------
_NAMES = ("A", "B", "C")
_MODES = (Mode.SINGLE_SEGMENT, Mode.MULTI_SEGMENT)


@st.composite
def _two_epochs(draw: st.DrawFn) -> tuple[Epoch, Epoch]:
    """Two epochs over one random directory: random segments (some overlapping, so users
    may be in several or in conflict) and modes, before and after."""
    departments = st.sampled_from(["A", "B", "C", "AB", ""])
    users = {
        f"u{i}": {"department": d}
        for i, d in enumerate(draw(st.lists(departments, min_size=1, max_size=12)))
    }
    directory = make_directory(users)

    def config() -> BarrierConfig:
        chosen = draw(st.lists(st.sampled_from(_NAMES), unique=True, max_size=3))
        segments = {n: f"Department -like '*{n}*'" for n in chosen}
        return make_config(mode=draw(st.sampled_from(_MODES)), segments=segments)

    return compile_epoch(directory, config()), compile_epoch(directory, config())


@given(_two_epochs())
@settings(max_examples=60, deadline=None)
def test_user_changes_and_counts_match_a_user_by_user_comparison(
    epochs: tuple[Epoch, Epoch],
) -> None:
    before, after = epochs
    expected = [
        (after.upns[i], before.segments_of(i), after.segments_of(i))
        for i in range(len(after))
        if before.segments_of(i) != after.segments_of(i)
    ]
    assert [(c.upn, c.before, c.after) for c in user_changes(before, after)] == expected
    whatif = diff(before, after, limit=2)
    assert whatif.totals.users_changed == len(expected)
    assert [(c.upn, c.before, c.after) for c in whatif.users_changed] == expected[:2]
    appeared = [i for i in range(len(after)) if after.in_conflict(i) and not before.in_conflict(i)]
    gone = [i for i in range(len(after)) if before.in_conflict(i) and not after.in_conflict(i)]
    assert whatif.totals.new_conflicts == len(appeared)
    assert whatif.totals.resolved_conflicts == len(gone)
    assert whatif.resolved_conflicts == [after.upns[i] for i in gone[:2]]


@st.composite
def _with_new_users(draw: st.DrawFn) -> tuple[Epoch, Epoch, Epoch, list[tuple[int, ...]]]:
    """Two epochs over one random directory whose last users are new (a vendor's
    accounts); ``before`` compiled also without them, and their segments under it."""
    departments = st.sampled_from(["A", "B", "C", "AB", ""])
    listed = draw(st.lists(departments, min_size=1, max_size=12))
    new = draw(st.integers(min_value=0, max_value=len(listed)))
    users = {f"u{i}": {"department": d} for i, d in enumerate(listed)}
    old = dict(list(users.items())[: len(users) - new])

    def config() -> BarrierConfig:
        chosen = draw(st.lists(st.sampled_from(_NAMES), unique=True, max_size=3))
        segments = {n: f"Department -like '*{n}*'" for n in chosen}
        return make_config(mode=draw(st.sampled_from(_MODES)), segments=segments)

    first, second = config(), config()
    whole = compile_epoch(make_directory(users), first)
    without = compile_epoch(make_directory(old), first)
    added = [whole.profiles[whole.profile(i)] for i in range(len(old), len(users))]
    return whole, without, compile_epoch(make_directory(users), second), added


@given(_with_new_users())
@settings(max_examples=60, deadline=None)
def test_new_users_given_by_their_segments_diff_as_if_compiled_in(
    epochs: tuple[Epoch, Epoch, Epoch, list[tuple[int, ...]]],
) -> None:
    whole, without, after, added = epochs
    assert diff(without, after, limit=3, added=added) == diff(whole, after, limit=3)


def test_new_users_must_line_up_with_the_end_of_after() -> None:
    before, after = _first_apply_and_rewall()
    with pytest.raises(ValueError, match="same directory"):
        diff(before, after, added=[()])
