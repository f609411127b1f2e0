"""Directory search with the barrier applied (semantics §7, ``search``).

A sorted index of every word of each user's display name, plus the UPN and the mail,
answers "which users have a word starting with this prefix" by bisection. Candidates are
walked in display-name order in chunks, blocked users are removed with one vectorised
compatibility check per chunk, and the walk stops once ``limit`` users are found. Users
changed since the index was built are *stale*: they are checked directly on each query,
so the index is patched as cheaply as the epoch is.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from infobarrier.core.decisions import compatible_many
from infobarrier.core.directory import User
from infobarrier.core.epoch import Epoch

#: The highest code point: ``prefix + TOP`` sorts after every word with that prefix.
TOP = "\U0010ffff"
CHUNK = 256
#: A prefix matching more words than this walks users in order instead of sorting matches.
DENSE = 4096
#: Users looked at per step of that walk.
WALK = 8192


def words_of(user: User) -> set[str]:
    """The folded words a search prefix may match: display-name words, UPN, mail."""
    words = {w.casefold() for w in user.display_name.split()}
    words.add(user.upn.casefold())
    if user.mail:
        words.add(user.mail.casefold())
    return words


def sort_key(user: User) -> tuple[str, str]:
    """Search results are ordered by display name, then UPN."""
    return user.display_name.casefold(), user.upn.casefold()


@dataclass(frozen=True, slots=True)
class SearchIndex:
    """Words sorted with their owners (epoch indices), and each user's display-name rank."""

    words: list[str]
    owners: npt.NDArray[np.int32]
    rank: npt.NDArray[np.int64]
    by_rank: npt.NDArray[np.int64]
    stale: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def build(cls, users: Sequence[User]) -> SearchIndex:
        """Index users given in epoch order."""
        pairs = sorted((w, i) for i, u in enumerate(users) for w in words_of(u))
        words = [w for w, _ in pairs]
        owners = np.fromiter((i for _, i in pairs), dtype=np.int32, count=len(pairs))
        order = sorted(range(len(users)), key=lambda i: sort_key(users[i]))
        by_rank = np.array(order, dtype=np.int64)
        rank = np.empty(len(users), dtype=np.int64)
        rank[by_rank] = np.arange(len(users), dtype=np.int64)
        return cls(words, owners, rank, by_rank)

    def _dense(
        self, lo: int, hi: int, actor: int, stale: npt.NDArray[np.int32] | None
    ) -> Iterator[npt.NDArray[np.int64]]:
        """Matches of a short prefix (many words): walk users in display-name order instead
        of sorting every match, marking the matches in a mask first."""
        hit = np.zeros(len(self.rank), dtype=np.bool_)
        hit[self.owners[lo:hi]] = True
        hit[actor] = False
        if stale is not None:
            hit[stale] = False
        order = self.by_rank
        for start in range(0, len(order), WALK):
            window = order[start : start + WALK]
            yield window[hit[window]]

    def with_stale(self, indices: Iterable[int]) -> SearchIndex:
        """The same index, with these users to be checked directly from now on."""
        return SearchIndex(
            self.words, self.owners, self.rank, self.by_rank, self.stale | frozenset(indices)
        )

    def search(
        self,
        epoch: Epoch,
        user_at: Callable[[int], User],
        actor: int,
        prefix: str,
        limit: int,
        *,
        restricted: bool = True,
        opened: Callable[[int], bool] | None = None,
    ) -> list[int]:
        """Epoch indices of the first ``limit`` matching users ``actor`` may find.

        ``opened(i)``: whether a wall-crossing exception lets ``actor`` find user ``i``
        whom the barrier blocks (semantics §11); asked only for blocked users.
        """
        folded = prefix.strip().casefold()
        lo = bisect.bisect_left(self.words, folded)
        hi = bisect.bisect_left(self.words, folded + TOP, lo)
        stale = np.fromiter(self.stale, dtype=np.int32) if self.stale else None
        if hi - lo > DENSE:
            candidates = self._dense(lo, hi, actor, stale)
        else:
            found = np.unique(self.owners[lo:hi])
            if stale is not None:
                found = found[~np.isin(found, stale)]
            found = found[found != actor]
            candidates = iter([found[np.argsort(self.rank[found], kind="stable")]])
        chosen: list[int] = []
        for block in candidates:
            for start in range(0, len(block), CHUNK):
                chunk = block[start : start + CHUNK].astype(np.intp)
                if restricted:
                    keep = compatible_many(epoch, np.full(len(chunk), actor, np.intp), chunk)
                    if opened is not None:
                        for k in np.flatnonzero(~keep):
                            keep[k] = opened(int(chunk[k]))
                    chunk = chunk[keep]
                chosen.extend(int(i) for i in chunk[: limit - len(chosen)])
                if len(chosen) >= limit:
                    break
            if len(chosen) >= limit:
                break
        for i in sorted(self.stale):  # changed since the build: checked as they are now
            matches = any(w.startswith(folded) for w in words_of(user_at(i)))
            reachable = epoch.allowed(actor, i) or (opened is not None and opened(i))
            if i != actor and matches and (not restricted or reachable):
                chosen.append(i)
        chosen.sort(key=lambda i: sort_key(user_at(i)))
        return chosen[:limit]

    def lookup(
        self, user_at: Callable[[int], User], prefixes: Sequence[str], limit: int
    ) -> list[int]:
        """Epoch indices of the first ``limit`` users, in display-name order, for whom every
        prefix (folded) starts a word: the admin page's picker, with no barrier. The first
        prefix is looked up by bisection; only its matches are read for the others."""

        def fits(i: int) -> bool:
            words = words_of(user_at(i))
            return all(any(w.startswith(p) for w in words) for p in prefixes)

        lo = bisect.bisect_left(self.words, prefixes[0])
        hi = bisect.bisect_left(self.words, prefixes[0] + TOP, lo)
        found = np.unique(self.owners[lo:hi])
        if self.stale:
            found = found[~np.isin(found, np.fromiter(self.stale, dtype=np.int32))]
        chosen: list[int] = []
        for i in found[np.argsort(self.rank[found], kind="stable")].tolist():
            if len(prefixes) == 1 or fits(i):
                chosen.append(i)
                if len(chosen) >= limit:
                    break
        chosen.extend(i for i in sorted(self.stale) if fits(i))  # checked as they are now
        chosen.sort(key=lambda i: sort_key(user_at(i)))
        return chosen[:limit]
