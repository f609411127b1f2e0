"""Search (§7): the index agrees with a plain scan, also after users change (stale)."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infobarrier.core import search as search_module
from infobarrier.core.barriers import BarrierConfig, PolicyState
from infobarrier.core.compiler import compile_epoch
from infobarrier.core.decisions import compatibility
from infobarrier.core.directory import Directory, User, make_user
from infobarrier.core.patch import patch_epoch
from infobarrier.core.search import SearchIndex, sort_key, words_of

WORDS = ["Ann", "anna", "Bob", "bo", "Zoë", "O'Hara", "Research", "sales"]
DEPTS = ["Sales", "Research", ""]

people = st.lists(
    st.tuples(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
        st.sampled_from(DEPTS),
        st.booleans(),
    ),
    min_size=1,
    max_size=12,
)


def naive(directory: Directory, epoch, actor: int, prefix: str, limit: int) -> list[str]:  # type: ignore[no-untyped-def]
    users = [directory.user(uid) for uid in epoch.user_ids]
    hits = [
        u
        for i, u in enumerate(users)
        if i != actor
        and any(w.startswith(prefix.casefold()) for w in words_of(u))
        and compatibility(epoch, actor, i).allowed
    ]
    return [u.upn for u in sorted(hits, key=sort_key)[:limit]]


def tenant(specs: list[tuple[str, str, bool]]) -> tuple[Directory, BarrierConfig]:
    directory = Directory(
        make_user(f"u{i}@x.example", display_name=name, Department=dept, account_enabled=on)
        for i, (name, dept, on) in enumerate(specs)
    )
    config = (
        BarrierConfig()
        .new_segment("Sales", "Department -eq 'Sales'")
        .new_segment("Research", "Department -eq 'Research'")
        .new_policy("wall", "Sales", blocked=["Research"], state=PolicyState.ACTIVE)
    )
    return directory, config


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=people,
    prefix=st.sampled_from(["a", "an", "B", "zo", "o'", "u1", "x.ex", "res", "z"]),
    limit=st.integers(1, 5),
    changes=st.lists(st.tuples(st.integers(0, 11), st.sampled_from(WORDS), st.sampled_from(DEPTS))),
    dense=st.sampled_from([0, 4096]),
)
def test_index_agrees_with_a_scan(
    specs: list[tuple[str, str, bool]],
    prefix: str,
    limit: int,
    changes: list[tuple[int, str, str]],
    dense: int,
) -> None:
    """Both ways of walking the matches: sorting them (sparse) or a display-order walk."""
    directory, config = tenant(specs)
    epoch = compile_epoch(directory, config)
    index = SearchIndex.build([directory.user(u) for u in epoch.user_ids])
    changed: list[User] = []
    for k, name, dept in changes:
        old = directory.user(epoch.user_ids[k % len(specs)])
        new = dataclasses.replace(old, display_name=name, attributes={"Department": dept})
        directory.put_user(new)
        changed.append(new)
    if changed:
        patched = patch_epoch(epoch, [(u, []) for u in changed])
        assert patched is not None
        epoch = patched
        index = index.with_stale(epoch.upn_index[u.upn] for u in changed)
    saved, search_module.DENSE = search_module.DENSE, dense
    try:
        results = [
            index.search(epoch, lambda i: directory.user(epoch.user_ids[i]), a, prefix, limit)
            for a in range(len(specs))
        ]
    finally:
        search_module.DENSE = saved
    for actor, found in enumerate(results):
        got = [directory.user(epoch.user_ids[i]).upn for i in found]
        assert got == naive(directory, epoch, actor, prefix, limit)
