"""The profile table grown for new profiles equals the table computed from scratch (§6)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infobarrier.core.compiler import grow_profile_compat, profile_compat


@st.composite
def tables(draw: st.DrawFn) -> tuple[object, ...]:
    """Segments with a random relation, their singleton profiles, and extra combinations."""
    s_count = draw(st.integers(2, 6))
    cells = st.lists(st.booleans(), min_size=s_count * s_count, max_size=s_count * s_count)
    relation = np.array(draw(cells), dtype=np.bool_).reshape(s_count, s_count)
    opened = np.array(draw(st.lists(st.booleans(), min_size=s_count, max_size=s_count)))
    singles = [(), *((s,) for s in range(s_count))]
    combos = draw(
        st.lists(
            st.frozensets(st.integers(0, s_count - 1), min_size=2, max_size=s_count).map(
                lambda members: tuple(sorted(members))
            ),
            unique=True,
            max_size=6,
        )
    )
    profiles = tuple(singles + combos)
    kept = draw(st.integers(len(singles), len(profiles)))
    limit = draw(st.integers(1, 3))
    conflict = np.array([len(p) > limit for p in profiles], dtype=np.bool_)
    return s_count, relation, opened, profiles, kept, conflict


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=tables())
def test_grown_table_equals_recomputed(case: tuple[object, ...]) -> None:
    s_count, relation, opened, profiles, kept, conflict = case
    assert isinstance(s_count, int)
    assert isinstance(kept, int)
    assert isinstance(profiles, tuple)
    assert isinstance(relation, np.ndarray)
    assert isinstance(opened, np.ndarray)
    assert isinstance(conflict, np.ndarray)
    before = profile_compat(profiles[:kept], s_count, relation, opened, conflict[:kept])
    grown = grow_profile_compat(before, profiles, s_count, relation, opened, conflict)
    expected = profile_compat(profiles, s_count, relation, opened, conflict)
    assert np.array_equal(grown, expected)
