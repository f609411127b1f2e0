"""``core.packed.UpnIndex``: folded UPN -> user, by binary search over the users' order by
folded UPN, whether the users come sorted (as a store lists them) or not, and whether their
folded UPNs are given or folded here (a property against a plain dict)."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import infobarrier.core.packed as packed_module
from infobarrier.core.directory import fold
from infobarrier.core.packed import PackedStrings, UpnIndex

locals_ = st.text(alphabet="abcAB.-éÉßẞ", min_size=1, max_size=6)
upn_lists = st.lists(
    st.builds(lambda local, host: f"{local}@{host}.example", locals_, st.sampled_from("xyZ")),
    max_size=30,
    unique_by=fold,
)


@given(upns=upn_lists, presorted=st.booleans(), give_folded=st.booleans())
def test_upn_index_finds_every_user_and_nobody_else(
    upns: list[str], presorted: bool, give_folded: bool
) -> None:
    if presorted:
        upns = sorted(upns, key=fold)
    packed = PackedStrings.pack(upns)
    folded = [fold(u) for u in upns] if give_folded else None
    index = UpnIndex.build(packed, folded)
    expected = {fold(u): i for i, u in enumerate(upns)}
    assert sorted(index.order.tolist()) == list(range(len(upns)))
    assert [fold(upns[i]) for i in index.order.tolist()] == sorted(expected)
    for key, i in expected.items():
        assert index.get(key) == i
    assert index.get("nobody@nowhere.example") is None


ascii_locals = st.text(alphabet="abcABZ.-_\n", min_size=1, max_size=6)
any_upns = st.lists(
    st.one_of(
        st.builds(lambda local: f"{local}@x.example", ascii_locals),
        st.builds(lambda local: f"{local}@x.example", locals_),
    ),
    max_size=30,
)


@given(upns=any_upns, pack=st.booleans())
def test_the_whole_index_as_a_dict_is_every_folded_upn(upns: list[str], pack: bool) -> None:
    """``as_dict`` (one ``lower`` of the packed bytes when every UPN is ASCII, else a fold
    per user) against the plain dict, with mixed case, non-ASCII letters, newlines inside a
    string and two spellings of one UPN (the later user wins, as in a dict)."""
    strings = PackedStrings.pack(upns) if pack else upns
    index = UpnIndex(np.arange(len(upns), dtype=np.int32), strings)
    expected: dict[str, int] = {}
    for i, upn in enumerate(upns):
        expected[fold(upn)] = i
    assert index.as_dict() == expected
    assert list(index.as_dict()) == list(expected)


@given(
    st.lists(st.text(alphabet="ab\u00e9\n\u4e2d", max_size=5), max_size=40),
    st.randoms(use_true_random=False),
    st.integers(1, 8),
)
def test_pack_ordered_is_the_pack_of_the_strings_in_that_order(
    strings: list[str], rng: random.Random, block: int
) -> None:
    order = list(range(len(strings)))
    rng.shuffle(order)
    packed_module._BLOCK, saved = block, packed_module._BLOCK  # several blocks, small ones
    try:
        got = PackedStrings.pack_ordered(strings, np.array(order, dtype=np.intp))
    finally:
        packed_module._BLOCK = saved
    expected = PackedStrings.pack([strings[i] for i in order])
    assert got.data == expected.data
    assert np.array_equal(got.offsets, expected.offsets)
    assert list(got) == [strings[i] for i in order]


@given(st.integers(0, 6).flatmap(lambda w: st.lists(st.text("ab", min_size=w, max_size=w))))
def test_pack_ordered_of_strings_of_one_length(strings: list[str]) -> None:
    order = list(reversed(range(len(strings))))
    got = PackedStrings.pack_ordered(strings, np.array(order, dtype=np.intp))
    expected = PackedStrings.pack([strings[i] for i in order])
    assert got.data == expected.data
    assert np.array_equal(got.offsets, expected.offsets)


@given(
    st.lists(st.integers(min_value=-1, max_value=600), max_size=60),
    st.randoms(use_true_random=False),
    st.booleans(),
)
def test_keys_by_upn_is_each_users_entry_with_one_int_per_profile(
    entries: list[int], rng: random.Random, packed_index: bool
) -> None:
    """``keys_by_upn`` against the plain comprehension it replaced, for a dict index in any
    order and for an :class:`UpnIndex`."""
    from array import array

    from infobarrier.core.epoch import keys_by_upn

    upns = [f"u{i}@x.example" for i in range(len(entries))]
    keys = array("i", entries)
    if packed_index:
        index: dict[str, int] | UpnIndex = UpnIndex.build(PackedStrings.pack(upns))
        plain = dict(UpnIndex.build(upns).as_dict())
    else:
        order = list(range(len(upns)))
        rng.shuffle(order)
        index = plain = {upns[i]: i for i in order}
    got = keys_by_upn(index, keys, 601)
    assert got == {u: keys[i] for u, i in plain.items()}
    assert list(got) == list(plain)
    shared: dict[int, int] = {}
    for value in got.values():
        assert shared.setdefault(value, id(value)) == id(value)  # one int object per profile


@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=30, unique=True))
def test_getter_and_for_reads_answer_as_get_and_getitem(names: list[str]) -> None:
    """The plain dict ``get`` and decoded list handed to a big batch answer as the packed
    forms do, and a small batch keeps the packed forms (nothing decoded)."""
    upns = [f"{n}@x.example" for n in names]
    packed = PackedStrings.pack(upns)
    packed._list = None
    index = UpnIndex.build(packed)
    small, big = index.getter(10), index.getter(packed_module.LOOKUPS_BEFORE_DICT + 1)
    assert small == index.get  # the bound method: no dict built
    assert index._dict is not None or len(upns) == 0
    for upn in upns:
        assert small(fold(upn)) == big(fold(upn)) == index.get(fold(upn))
    assert big("nobody@x.example") is None
    fresh = PackedStrings.pack(upns)
    fresh._list = None
    assert fresh.for_reads(10) is fresh
    assert fresh._list is None
    decoded = fresh.for_reads(packed_module.LOOKUPS_BEFORE_DICT + 1)
    assert isinstance(decoded, list)
    assert list(decoded) == [fresh[i] for i in range(len(upns))] == upns
