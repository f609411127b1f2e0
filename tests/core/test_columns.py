"""A column encoded from a list of values (``core.columns.encode``, what ``apply`` reads
into) names each user's folded value, with ``""`` as code 0 (docs/architecture.md,
"Performance shape")."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from infobarrier.core.columns import DirectoryColumns, MultiColumn, encode, groups_compared
from infobarrier.core.filters.ast import Comparison, Op

#: Values that fold to one another ("SALES", "sales", "ß"/"SS") and the empty value.
values = st.lists(
    st.sampled_from(["", "Sales", "SALES", "sales", "ß", "SS", "ss", "x"]) | st.text()
)


@given(values)
def test_each_code_names_the_folded_value(found: list[str]) -> None:
    column = encode(found, len(found))
    assert len(column.codes) == len(found)
    assert [column.vocabulary[c] for c in column.codes.tolist()] == [v.casefold() for v in found]
    assert column.vocabulary[0] == ""
    assert len(set(column.vocabulary)) == len(column.vocabulary)
    assert column.lookup == {v: c for c, v in enumerate(column.vocabulary)}


def test_an_empty_column_has_only_the_missing_value() -> None:
    column = encode([], 0)
    assert len(column.codes) == 0
    assert column.vocabulary == [""]


@st.composite
def memberships(draw: st.DrawFn) -> tuple[int, MultiColumn]:
    """Up to 30 users in up to 60 groups named ``g0``..: enough groups that a comparison
    naming one reads only its members, and a ``-like`` naming many reads every pair."""
    size = draw(st.integers(1, 30))
    groups = draw(st.integers(1, 60))
    pairs = draw(
        st.lists(st.tuples(st.integers(0, size - 1), st.integers(0, groups - 1)), unique=True)
    )
    owners = np.array([u for u, _ in pairs], dtype=np.int32)
    items = np.array([g for _, g in pairs], dtype=np.int32)
    return size, MultiColumn(owners, items, [(f"g{k}",) for k in range(groups)])


@given(memberships(), st.integers(0, 70), st.sampled_from([Op.EQ, Op.LIKE, Op.NE]))
def test_multi_valued_comparisons_read_the_pairs_of_the_matching_items(
    built: tuple[int, MultiColumn], named: int, op: Op
) -> None:
    size, column = built
    value = f"g{named}" + ("*" if op is Op.LIKE else "")
    columns = DirectoryColumns.prebuilt(size, {}, {"MemberOf": column})
    got = columns.evaluate(Comparison("MemberOf", op, value)).tolist()
    matching = {
        k
        for k, (name,) in enumerate(column.item_names)
        if (name.startswith(value[:-1]) if op is Op.LIKE else name == value)
    }
    member = [False] * size
    for u, g in zip(column.owners.tolist(), column.items.tolist(), strict=True):
        member[u] = member[u] or g in matching
    assert got == ([not m for m in member] if op is Op.NE else member)


@given(
    memberships(),
    st.lists(
        st.tuples(st.integers(0, 70), st.sampled_from([Op.EQ, Op.NE, Op.LIKE, Op.NOTLIKE])),
        min_size=1,
        max_size=3,
    ),
)
def test_the_groups_no_comparison_names_change_no_answer(
    built: tuple[int, MultiColumn], compared: list[tuple[int, Op]]
) -> None:
    """``MemberOf`` over only the memberships of the groups ``groups_compared`` keeps
    gives every comparison's answer over all memberships (what ``apply`` reads)."""
    size, column = built
    comparisons = [
        Comparison("MemberOf", op, f"g{k}" + ("*" if op in (Op.LIKE, Op.NOTLIKE) else ""))
        for k, op in compared
    ]
    wanted = groups_compared(comparisons)
    assert wanted is not None
    kept = np.array([wanted(names) for names in column.item_names], dtype=np.bool_)
    keep = kept[column.items] if len(column.items) else np.zeros(0, dtype=np.bool_)
    fewer = MultiColumn(column.owners[keep], column.items[keep], column.item_names)
    every = DirectoryColumns.prebuilt(size, {}, {"MemberOf": column})
    some = DirectoryColumns.prebuilt(size, {}, {"MemberOf": fewer})
    for comparison in comparisons:
        assert every.evaluate(comparison).tolist() == some.evaluate(comparison).tolist()


def test_a_comparison_with_no_group_needs_every_group() -> None:
    assert groups_compared([Comparison("MemberOf", Op.EQ, "")]) is None
    assert groups_compared([Comparison("Department", Op.EQ, "")]) is not None
