"""A column encoded from a list of values (``core.columns.encode``, what ``apply`` reads
into) names each user's folded value, with ``""`` as code 0 (docs/architecture.md,
"Performance shape")."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infobarrier.core.columns import encode

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
