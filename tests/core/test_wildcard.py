"""``-like`` matching (semantics §3) against an obviously-correct reference.

The engine's matcher (:func:`glob_match`) is a single left-to-right pass with no
backtracking; the reference below is the textbook dynamic program over (pattern
position, value position), and a second reference is :func:`fnmatch.fnmatchcase` with
every character but ``*`` escaped. Random patterns and values are drawn from a tiny
alphabet so that pieces overlap and repeat, which is where a greedy matcher goes wrong.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from hypothesis import given
from hypothesis import strategies as st

from infobarrier.core.filters.evaluate import folded_matcher, glob_match, wildcard_matcher


def dp_match(pattern: str, value: str) -> bool:
    """Reference: ``ok[i][j]`` says pattern[:i] matches value[:j]."""
    rows, cols = len(pattern) + 1, len(value) + 1
    ok = [[False] * cols for _ in range(rows)]
    ok[0][0] = True
    for i in range(1, rows):
        star = pattern[i - 1] == "*"
        for j in range(cols):
            if star:
                ok[i][j] = ok[i - 1][j] or (j > 0 and ok[i][j - 1])
            else:
                ok[i][j] = j > 0 and ok[i - 1][j - 1] and pattern[i - 1] == value[j - 1]
    return ok[-1][-1]


def fnmatch_reference(pattern: str, value: str) -> bool:
    """Reference: fnmatch with ``?`` and ``[`` made literal (``*`` is the only wildcard)."""
    escaped = "".join("[" + c + "]" if c in "?[" else c for c in pattern)
    return fnmatchcase(value, escaped)


PATTERNS = st.text(alphabet="ab*?[", max_size=10)
VALUES = st.text(alphabet="ab?[", max_size=14)


@given(PATTERNS, VALUES)
def test_glob_match_equals_the_dynamic_program(pattern: str, value: str) -> None:
    assert glob_match(pattern, value) == dp_match(pattern, value)


@given(PATTERNS, VALUES)
def test_glob_match_equals_fnmatch(pattern: str, value: str) -> None:
    assert glob_match(pattern, value) == fnmatch_reference(pattern, value)


@given(st.text(alphabet="aAbBß*", max_size=8), st.text(alphabet="aAbBßs", max_size=10))
def test_matchers_fold_case_like_the_reference(pattern: str, value: str) -> None:
    expected = dp_match(pattern.casefold(), value.casefold())
    assert wildcard_matcher(pattern)(value) == expected
    assert folded_matcher(pattern)(value.casefold()) == expected


def test_a_long_value_against_many_stars_is_decided() -> None:
    """The value that made the backtracking regex take 18 s: decided in one pass."""
    value = "sales " * 4000 + "emea"  # 24 KB, with no "desk": no match
    assert not wildcard_matcher("*sales*emea*desk*")(value)
    assert wildcard_matcher("*sales*emea*")(value)
    assert not glob_match("*a*a*a*a*a*a*a*a*b", "a" * 20000)
