"""Property test: patching an epoch for changed users equals recompiling it (§5)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compiler_properties import UserSpec, build_directory, configs, user_specs

from infobarrier.core import patch as patch_module
from infobarrier.core.barriers import BarrierConfig
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.decisions import compatibility
from infobarrier.core.directory import make_user
from infobarrier.core.patch import patch_epoch


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
