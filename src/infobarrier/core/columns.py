"""A column store of the directory, so that a filter is evaluated as bitset algebra.

Each attribute a filter reads becomes a column: single-valued attributes an ``int32``
code per user into a vocabulary of case-folded values (code 0 is "missing or empty"),
multi-valued ones (``ProxyAddresses``, ``MemberOf``) a list of (user, item) pairs. A
comparison is then evaluated once per *distinct value*, never once per user, and
combined with numpy boolean masks (design.md, "Performance shape").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infobarrier.core.attributes import is_multi_valued
from infobarrier.core.directory import Directory, User
from infobarrier.core.filters.ast import And, Comparison, Expr, Not, Op
from infobarrier.core.filters.evaluate import wildcard_matcher

Mask = npt.NDArray[np.bool_]
Indices = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class SingleColumn:
    """Codes into ``vocabulary`` (folded values; ``vocabulary[0] == ""`` is "missing")."""

    codes: Indices
    vocabulary: list[str]
    lookup: dict[str, int]


@dataclass(frozen=True, slots=True)
class MultiColumn:
    """Pairs (owner user index, item index); each item has one or more folded names."""

    owners: Indices
    items: Indices
    item_names: list[tuple[str, ...]]


def as_mask(values: object) -> Mask:
    """View an array expression as a boolean mask (for the type checker)."""
    return np.asarray(values, dtype=np.bool_)


class DirectoryColumns:
    """Columns of one directory snapshot, built lazily per attribute."""

    def __init__(self, directory: Directory, users: Sequence[User] | None = None) -> None:
        self.directory = directory
        self.users: Sequence[User] = users if users is not None else list(directory.users())
        self.size = len(self.users)
        self._single: dict[str, SingleColumn] = {}
        self._multi: dict[str, MultiColumn] = {}

    def single(self, attribute: str) -> SingleColumn:
        """The column of a single-valued attribute."""
        column = self._single.get(attribute)
        if column is None:
            lookup: dict[str, int] = {"": 0}
            codes = np.fromiter(
                (
                    lookup.setdefault(u.attribute(attribute).casefold(), len(lookup))
                    for u in self.users
                ),
                dtype=np.int32,
                count=self.size,
            )
            vocabulary = [""] * len(lookup)
            for value, code in lookup.items():
                vocabulary[code] = value
            column = self._single[attribute] = SingleColumn(codes, vocabulary, lookup)
        return column

    def multi(self, attribute: str) -> MultiColumn:
        """The column of ``ProxyAddresses`` or ``MemberOf``."""
        column = self._multi.get(attribute)
        if column is None:
            column = self._multi[attribute] = (
                self._member_of() if attribute == "MemberOf" else self._proxy_addresses()
            )
        return column

    def _proxy_addresses(self) -> MultiColumn:
        lookup: dict[str, int] = {}
        owners: list[int] = []
        items: list[int] = []
        for i, user in enumerate(self.users):
            for address in user.proxy_addresses:
                owners.append(i)
                items.append(lookup.setdefault(address.casefold(), len(lookup)))
        names: list[tuple[str, ...]] = [("",)] * len(lookup)
        for value, code in lookup.items():
            names[code] = (value,)
        return MultiColumn(np.array(owners, np.int32), np.array(items, np.int32), names)

    def _member_of(self) -> MultiColumn:
        position = {u.id: i for i, u in enumerate(self.users)}
        owners: list[int] = []
        items: list[int] = []
        names: list[tuple[str, ...]] = []
        for g, group in enumerate(self.directory.groups()):
            names.append(tuple(n.casefold() for n in group.names()))
            for uid in group.members:
                idx = position.get(uid)
                if idx is not None:
                    owners.append(idx)
                    items.append(g)
        return MultiColumn(np.array(owners, np.int32), np.array(items, np.int32), names)

    # -- evaluation ------------------------------------------------------------
    def evaluate(self, expr: Expr) -> Mask:
        """The users matching a filter, as a boolean mask in ``users`` order."""
        if isinstance(expr, Comparison):
            return self._compare(expr)
        if isinstance(expr, Not):
            return ~self.evaluate(expr.operand)
        masks = [self.evaluate(o) for o in expr.operands]
        combine = np.logical_and if isinstance(expr, And) else np.logical_or
        result = masks[0].copy()
        for mask in masks[1:]:
            combine(result, mask, out=result)
        return result

    def _compare(self, comparison: Comparison) -> Mask:
        op, target = comparison.op, comparison.value
        negate = op in (Op.NE, Op.NOTLIKE)
        folded = target.casefold()
        predicate: Callable[[str], bool] = (
            folded.__eq__ if op in (Op.EQ, Op.NE) else wildcard_matcher(target)
        )
        if op in (Op.EQ, Op.NE) and target == "":
            hit = ~self._has_value(comparison.attribute)
        elif is_multi_valued(comparison.attribute):
            hit = self._multi_hit(self.multi(comparison.attribute), predicate)
        else:
            hit = self._single_hit(self.single(comparison.attribute), op, target, predicate)
        return ~hit if negate else hit

    def _has_value(self, attribute: str) -> Mask:
        if is_multi_valued(attribute):
            has = np.zeros(self.size, dtype=np.bool_)
            has[self.multi(attribute).owners] = True
            return has
        return as_mask(self.single(attribute).codes != 0)

    @staticmethod
    def _single_hit(
        column: SingleColumn, op: Op, target: str, predicate: Callable[[str], bool]
    ) -> Mask:
        if op in (Op.EQ, Op.NE):
            code = column.lookup.get(target.casefold())
            if code is None:
                return np.zeros(len(column.codes), dtype=np.bool_)
            return as_mask(column.codes == code)
        table = np.fromiter(
            (bool(v) and predicate(v) for v in column.vocabulary),
            dtype=np.bool_,
            count=len(column.vocabulary),
        )
        return as_mask(table[column.codes])

    def _multi_hit(self, column: MultiColumn, predicate: Callable[[str], bool]) -> Mask:
        table = np.fromiter(
            (any(n and predicate(n) for n in names) for names in column.item_names),
            dtype=np.bool_,
            count=len(column.item_names),
        )
        hit = np.zeros(self.size, dtype=np.bool_)
        if len(column.items):
            hit[column.owners[table[column.items]]] = True
        return hit
