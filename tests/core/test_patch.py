"""Property test: patching an epoch for changed users equals recompiling it (§5)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compiler_properties import (
    UserSpec,
    _compound,
    build_directory,
    configs,
    segment_filters,
    user_specs,
)

from infobarrier.core import patch as patch_module
from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.decisions import compatibility
from infobarrier.core.directory import make_user
from infobarrier.core.filters import Comparison, Expr, Op, matches, parse_filter
from infobarrier.core.patch import SegmentMatcher, guard_of, patch_epoch, user_values


def _changed(directory_specs: list[UserSpec], index: int, spec: UserSpec):  # type: ignore[no-untyped-def]
    specs = list(directory_specs)
    specs[index] = spec
    return specs


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(user_specs, min_size=1, max_size=7),
    config=configs(),
    edits=st.lists(st.tuples(st.integers(0, 6), user_specs), min_size=1, max_size=4),
    fold_limit=st.sampled_from([4096, 0]),
)
def test_patch_equals_recompile(
    specs: list[UserSpec],
    config: BarrierConfig,
    edits: list[tuple[int, UserSpec]],
    fold_limit: int,
) -> None:
    """With the changes kept in the overlay (4096) or folded into fresh arrays (0)."""
    before = build_directory(specs)
    epoch = compile_epoch(before, config)
    for index, spec in edits:
        specs = _changed(specs, index % len(specs), spec)
    after = build_directory(specs)
    changed = sorted({index % len(specs) for index, _ in edits})
    folded = fold_limit == 0
    saved = patch_module.OVERLAY_LIMIT
    patch_module.OVERLAY_LIMIT = fold_limit
    try:
        patched = patch_epoch(
            epoch,
            [(after.user(f"id-{i}"), after.member_of_values(f"id-{i}")) for i in changed],
        )
    finally:
        patch_module.OVERLAY_LIMIT = saved
    assert patched is not None
    assert (not patched.overlay) is folded
    fresh = compile_epoch(after, config)
    for i in range(len(specs)):
        assert patched.segments_of(i) == fresh.segments_of(i)
        assert patched.in_conflict(i) == fresh.in_conflict(i)
    assert np.array_equal(patched.usable_array(), fresh.usable)
    assert np.array_equal(patched.profile_array() > 0, fresh.profile_of > 0)
    for u, v in itertools.product(range(len(specs)), repeat=2):
        by_upn = patched.allowed_upn(patched.upns[u].upper(), patched.upns[v])
        assert by_upn is patched.allowed(u, v) is fresh.allowed(u, v)
        mine, theirs = compatibility(patched, u, v), compatibility(fresh, u, v)
        assert (mine.allowed, mine.code, mine.policy) == (
            theirs.allowed,
            theirs.code,
            theirs.policy,
        )


def test_unknown_user_or_new_upn_is_not_patched() -> None:
    directory = build_directory([])
    epoch = compile_epoch(directory, BarrierConfig())
    stranger = make_user("new@contoso.com")
    assert patch_epoch(epoch, [(stranger, [])]) is None


#: Values that share a prefix with a pattern without matching it (``sa*es``, ``tr*ing*``).
NEAR_MISSES = ["Salt", "sa", "S", "trade", "TRAIN", "tr", "smtp:", "u1@contoso.org"]
near_miss_specs = user_specs.flatmap(
    lambda spec: st.builds(
        dataclasses.replace,
        st.just(spec),
        department=st.sampled_from([spec.department, *NEAR_MISSES]),
        ext1=st.sampled_from([spec.ext1, *NEAR_MISSES]),
    )
)

#: Filters on the attributes those values are in, with patterns they nearly match.
PATTERNS = ["sa*es", "sa*", "s*t", "tr*ing*", "tr*", "SALES", "sa", "Salt*", "*t", "*"]
focused_filters = st.recursive(
    st.builds(
        Comparison,
        attribute=st.sampled_from(["Department", "ExtensionAttribute1"]),
        op=st.sampled_from(list(Op)),
        value=st.sampled_from(PATTERNS),
    ),
    _compound,
    max_leaves=4,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    filters=st.lists(st.one_of(segment_filters, focused_filters), min_size=1, max_size=8),
    spec=near_miss_specs,
)
def test_segment_matcher_equals_evaluating_every_filter(
    filters: list[Expr], spec: UserSpec
) -> None:
    """The guarded lookup tables find exactly the filters the evaluator says match."""
    directory = build_directory([spec])
    user = directory.user("id-0")
    values = user_values(user, directory.member_of_values("id-0"))

    def values_of(attribute: str) -> list[str]:
        return values.get(attribute, [])

    expected = tuple(k for k, expr in enumerate(filters) if matches(expr, values_of))
    assert SegmentMatcher.build(filters).segments(values) == expected


def test_guards_cover_the_usual_filters() -> None:
    """``-eq``, prefix ``-like`` and their ``-or``s need no evaluation; ``-and`` is checked."""
    sufficient = [
        "Department -eq 'Sales'",
        "ExtensionAttribute1 -like 'PRJ1-*'",
        "Department -eq 'Sales' -or ExtensionAttribute1 -like 'prj*'",
        "MemberOf -like 'traders@contoso.com'",
    ]
    for text in sufficient:
        guard = guard_of(parse_filter(text))
        assert guard is not None, text
        assert guard.sufficient, text
    checked = guard_of(parse_filter("Department -eq 'Sales' -and Company -ne 'X'"))
    assert checked is not None
    assert not checked.sufficient
    assert checked.exact == frozenset({("Department", "sales")})
    for text in ["Department -ne 'Sales'", "-not (Department -eq 'x')", "Company -like '*x'"]:
        assert guard_of(parse_filter(text)) is None, text
    assert guard_of(parse_filter("Department -eq 'a' -or Company -ne 'b'")) is None
