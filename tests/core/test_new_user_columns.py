"""``core.new_users``: the columns a first import inserts are those of the users
:func:`check_user` passes, built the slow way (docs/decisions.md, "The users CSV import
path")."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from infobarrier.core.directory import User, UserType, check_user, fold
from infobarrier.core.errors import InvalidInput
from infobarrier.core.new_users import _attributes_json, new_users

_TEXT = st.text(
    st.one_of(
        st.sampled_from('ab"\\{}/,:\x00\t\n\u00e9\u2028\U0001f600 '),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=6,
)


@settings(max_examples=800, deadline=None)
@given(
    st.integers(0, 5).flatmap(
        lambda n: st.dictionaries(
            st.sampled_from(["Department", "Company", "Co", "Description", 'Odd"{x}']),
            st.lists(st.one_of(st.just(""), _TEXT), min_size=n, max_size=n),
            max_size=4,
        )
    )
)
def test_attribute_json_is_orjson_of_each_users_dict(columns: dict[str, list[str]]) -> None:
    n = len(next(iter(columns.values()))) if columns else 3
    got = _attributes_json(columns, n)
    if any("\x00" in v for c in columns.values() for v in c):
        assert got is None
        return
    rows = zip(*columns.values(), strict=True) if columns else [()] * n
    assert got == [
        orjson.dumps({k: v for k, v in zip(columns, row, strict=True) if v}).decode()
        for row in rows
    ]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(
            _TEXT,  # display name
            st.one_of(st.just(""), st.just("m@t.example"), _TEXT.map(lambda t: t + "@x")),
            st.booleans(),
            st.sampled_from(list(UserType)),
            st.sampled_from([None, True, False]),
            st.lists(_TEXT, max_size=3).map(tuple),
            st.one_of(st.just(""), _TEXT),
        ),
        max_size=5,
    )
)
def test_new_users_are_the_users_check_user_passes(rows: list[tuple]) -> None:  # type: ignore[type-arg]
    n = len(rows)
    upns = [f"u{k}@t.example" if k % 2 else f"\u00c9{k}@t.example" for k in range(n)]
    ids = [f"id-{k}" for k in range(n)]
    names, mails, on, kinds, hidden, proxies, dept = (
        (list(c) for c in zip(*rows, strict=True)) if rows else ([],) * 7
    )
    built = new_users(
        ids,
        upns,
        display_names=names,
        mails=mails,
        enabled=on,
        user_types=kinds,
        hidden=hidden,
        proxy_addresses=[tuple(p for p in ps if p) for ps in proxies],
        attributes={"Department": dept},
    )
    expected: list[User] = []
    try:
        for k in range(n):
            user = User(
                ids[k],
                upns[k],
                names[k] or upns[k].split("@")[0],
                mails[k],
                on[k],
                kinds[k],
                hidden[k],
                attributes={"Department": dept[k]} if dept[k] else {},
                proxy_addresses=tuple(p for p in proxies[k] if p),
            )
            if check_user(user) != user:
                raise InvalidInput("changed")
            expected.append(user)
    except InvalidInput:
        assert built is None
        return
    assert built is not None
    assert built.users() == expected
    assert built.upn_keys == [fold(u) for u in upns]


def test_a_lone_surrogate_is_left_to_the_reference() -> None:
    assert _attributes_json({"Department": ["a", "\ud800"]}, 2) is None
