"""The licensing findings an apply reports (``first_findings``) are the first of the
findings of the segmented users (``findings_of``) and their count (semantics §2)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infobarrier.core.licenses import CATALOG, LicenseBook, findings_of, first_findings

PARTS = [s.part_number for s in CATALOG]


@st.composite
def cases(draw: st.DrawFn) -> tuple[LicenseBook, list[str], list[str], list[int], int]:
    n = draw(st.integers(0, 12))
    ids = [f"id-{k}" for k in range(n)]
    upns = [f"user{k}@x.example" for k in range(n)]
    held = draw(
        st.dictionaries(
            st.sampled_from(ids) if ids else st.nothing(),
            st.frozensets(st.sampled_from(PARTS), max_size=3),
        )
    )
    book = LicenseBook({s.part_number: s for s in CATALOG}, held)
    segmented = sorted(draw(st.sets(st.integers(0, n - 1))) if n else [])
    return book, ids, upns, segmented, draw(st.integers(0, 14))


@given(cases())
def test_first_findings_are_the_findings_cut_at_the_limit(
    case: tuple[LicenseBook, list[str], list[str], list[int], int],
) -> None:
    book, ids, upns, segmented, limit = case
    expected = findings_of(book, ((ids[i], upns[i]) for i in segmented))
    found, total = first_findings(book, ids, upns, segmented, limit)
    assert found == expected[:limit]
    assert total == len(expected)
