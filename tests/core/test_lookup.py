"""The admin picker's lookup through the search index equals a scan of every user."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from infobarrier.core.directory import User, make_user
from infobarrier.core.search import SearchIndex

WORD = st.text(alphabet="abAB", min_size=1, max_size=3)


def scan(users: list[User], prefixes: list[str], limit: int) -> list[str]:
    """The reference: every user, every word, sorted by display name then UPN."""
    hits = []
    for u in users:
        words = [w.casefold() for w in (*u.display_name.split(), u.upn, u.mail) if w]
        if all(any(w.startswith(p) for w in words) for p in prefixes):
            hits.append((u.display_name.casefold(), u.upn.casefold(), u.upn))
    return [h[2] for h in sorted(hits)[:limit]]


@settings(max_examples=200, deadline=None)
@given(
    names=st.lists(st.lists(WORD, min_size=1, max_size=3), min_size=1, max_size=25),
    changed=st.dictionaries(st.integers(0, 24), st.lists(WORD, min_size=1, max_size=3)),
    prefixes=st.lists(st.text(alphabet="ab", min_size=1, max_size=2), min_size=1, max_size=2),
    limit=st.integers(1, 8),
)
def test_lookup_matches_a_scan(
    names: list[list[str]], changed: dict[int, list[str]], prefixes: list[str], limit: int
) -> None:
    users = [make_user(f"u{k}@x.example", display_name=" ".join(n)) for k, n in enumerate(names)]
    index = SearchIndex.build(users)
    stale = {k: v for k, v in changed.items() if k < len(users)}
    for k, words in stale.items():  # renamed since the index was built
        users[k] = make_user(users[k].upn, id=users[k].id, display_name=" ".join(words))
    index = index.with_stale(stale)
    found = index.lookup(lambda i: users[i], prefixes, limit)
    assert [users[i].upn for i in found] == scan(users, prefixes, limit)
