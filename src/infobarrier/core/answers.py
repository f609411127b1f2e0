"""The batch verdict encoder shared by ``POST /decisions``, the AuthZEN routes and
``check --batch``: a batch of checks answered and written as JSON (semantics §10).

It lives in the core (pure, no I/O) so that every adapter imports it without importing
another adapter (the CLI never imports the HTTP package). A batch of 1,000 one-pair checks
is the workload of a chat or calling platform asking about many conversations at once.
Building a verdict and its JSON per check cost ~18 µs; here the body is read by
:func:`~infobarrier.core.contract.read_body` (the one parser), and each one-pair answer is
two cached JSON fragments of its *profile pair* around the two UPNs, the fragments cut from
:meth:`~infobarrier.core.contract.Verdict.as_dict`; a user who may not communicate at all
(disabled, in conflict, hidden in Legacy mode) has their refusal's fragments cached the
same way (:func:`user_fragments`). Anything else (several recipients, an unknown user, the
same user twice, a malformed action) goes through
:func:`~infobarrier.core.decisions.answer`, the general path, so the answers are the same
objects either way (a property test compares them). A batch of one action given as
columns is answered by ``core.answer_columns``, with these same fragments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import orjson

from infobarrier.core.codes import VerdictCode
from infobarrier.core.contract import Action, Check, Verdict
from infobarrier.core.decisions import (
    FoldedOpenings,
    Openings,
    answer,
    blocking_user,
    explain_profiles,
    user_verdict,
)
from infobarrier.core.epoch import Epoch, Lineage, LineageCache
from infobarrier.core.exceptions import ASK as EXCEPTION_ASK
from infobarrier.core.packed import PackedStrings, UpnIndex

#: The JSON fragments of each profile pair's verdict, per lineage (profile numbers and UPNs
#: mean the same across its patches); at most ``limit`` pairs, the setting
#: ``verdict_fragments_kept``.
FRAGMENTS: LineageCache[int, tuple[str, str]] = LineageCache(100_000)

#: Per lineage: the fragments of a user's own refusal (:func:`user_fragments`).
USER_FRAGMENTS: LineageCache[tuple[int, VerdictCode, int], tuple[str, str]] = LineageCache(100_000)

#: Per lineage: whether every UPN is its own JSON string body, and whether every UPN is
#: its own folded form (:func:`plain_upns`, :func:`folded_upns`).
_UPN_FORM: WeakKeyDictionary[Lineage, tuple[bool, bool]] = WeakKeyDictionary()

#: The actions a one-pair check may name, by value (``add_team_member`` is read apart).
ONE_PAIR = {a.value: a for a in Action if a is not Action.ADD_TEAM_MEMBER}

#: What a folded cache holds for a pair an exception may open (``core.exceptions.ASK``).
ASK = EXCEPTION_ASK

#: The bytes a plain UPN may hold (printable ASCII but the quote and the backslash), and
#: the newline that ends each packed string.
_PLAIN_BYTES = bytes(c for c in range(32, 127) if c not in b'"\\') + b"\n"

#: Stands for the pair in the JSON of a verdict that :func:`fragments` splits.
_PAIR = '"pair":null'


#: How a verdict's JSON text starts, allowing or not (``Verdict.as_dict`` puts ``allowed``
#: first; anything else is ``{"error": ...}``).
ALLOWED, DENIED = '{"allowed":true', '{"allowed":false'


@dataclass(frozen=True, slots=True)
class Wrapping:
    """Each answer written inside an object of the caller's in the same go as the answer
    itself: ``permit + verdict + close`` for a verdict that allows, ``deny + verdict +
    close`` for one that does not, ``other(text)`` for any other answer (an error).

    The AuthZEN evaluations write each decision ``{"decision": ..., "context": verdict}``
    this way (docs/authzen.md, "Evaluations"): a one-pair answer is one string built from
    its cached fragments, instead of the verdict's text built, then copied into a second
    string, and a second list of them kept (docs/decisions.md, "Evaluations written in
    one go"). The core knows nothing of the caller's objects: ``other`` is the caller's
    (an error's status is an HTTP matter).
    """

    permit: str
    deny: str
    close: str
    other: Callable[[str], str]

    def wrap(self, text: str) -> str:
        """One answer's JSON text (a verdict or ``{"error": ...}``) wrapped."""
        if text.startswith(ALLOWED):
            return self.permit + text + self.close
        if text.startswith(DENIED):
            return self.deny + text + self.close
        return self.other(text)


def _string(text: str) -> str:
    """``text`` as a JSON string (plain ASCII UPNs need no encoder)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    return orjson.dumps(text).decode()


def fragments(verdict: Verdict) -> tuple[str, str]:
    """:meth:`Verdict.as_dict` of a verdict without ``pair`` as JSON, split where the pair
    goes: ``head + '"a","b"' + tail`` is the verdict's JSON with ``pair`` ``["a", "b"]``."""
    text = orjson.dumps(verdict.as_dict()).decode()
    head, tail = text.split(_PAIR, 1)  # inside a JSON string a quote is escaped
    return head + '"pair":[', "]" + tail


def plain_upns(epoch: Epoch) -> bool:
    """Whether every UPN of the epoch is its own JSON string body (checked once per lineage:
    patches keep UPNs)."""
    return _upn_form(epoch)[0]


def folded_upns(epoch: Epoch) -> bool:
    """Whether every UPN of the epoch is its own folded form, so that a UPN found in
    ``upn_index`` as given is the stored one (once per lineage). For ASCII UPNs folding
    is lower-casing (``core.limits``)."""
    return _upn_form(epoch)[1]


def _upn_form(epoch: Epoch) -> tuple[bool, bool]:
    """Both facts about the epoch's UPNs, from their bytes, newline-terminated (the packed
    form's own bytes when packed)."""
    found = _UPN_FORM.get(epoch.lineage)
    if found is None:
        upns = epoch.upns
        if isinstance(upns, PackedStrings):
            data = upns.data
        else:
            data = "".join(f"{upn}\n" for upn in upns).encode("utf-8", "surrogatepass")
        plain = _plain_bytes(data, len(upns))
        found = (plain, plain and data.lower() == data)
        _UPN_FORM[epoch.lineage] = found
    return found


def _plain_bytes(data: bytes, count: int) -> bool:
    """Whether ``count`` newline-terminated strings packed in ``data`` are each their own
    JSON string body: printable ASCII without a quote or a backslash (what
    :func:`plain_upns` asks of the joined strings, without decoding a million of them).
    One ``translate`` in C deletes every such byte and the newlines: nothing may be left
    (numpy comparisons over the bytes took 10% of a 100k-check batch at 1M users)."""
    return data.count(b"\n") == count and not data.translate(None, _PLAIN_BYTES)


def answer_json(
    epoch: Epoch,
    checks: Sequence[Check],
    *,
    people_search_restriction: bool,
    openings: Openings | None = None,
) -> bytes:
    """``{"results": [...]}`` for these checks against one epoch, in order.

    With ``openings`` (active wall-crossing exceptions, semantics §11), a pair the table
    blocks is first looked up among them, and one they open takes the general path;
    allowed pairs never look, so the fast path for them is unchanged.
    """
    parts = answer_parts(
        epoch, checks, people_search_restriction=people_search_restriction, openings=openings
    )
    return ('{"results":[' + ",".join(parts) + "]}").encode()


def answer_parts(
    epoch: Epoch,
    checks: Sequence[Check],
    *,
    people_search_restriction: bool,
    openings: Openings | None = None,
    wrapping: Wrapping | None = None,
) -> list[str]:
    """Each check's answer as its JSON text, in order: a verdict object, or
    ``{"error": ...}`` in its place (``answer_json`` joins them); with ``wrapping``, each
    written inside the caller's object (the AuthZEN routes' decisions, :class:`Wrapping`).
    """
    base = FRAGMENTS.of(epoch)
    cache: dict[int, Any] = base
    plain = plain_upns(epoch)
    index: Callable[[str], int | None] = epoch.upn_index.get
    fold_index = epoch.index_of
    upns, width = epoch.upns, len(epoch.profiles)
    if isinstance(epoch.upn_index, UpnIndex):  # a stored epoch: plain reads for a big batch
        index = epoch.upn_index.getter(2 * len(checks))
    if isinstance(upns, PackedStrings):
        upns = upns.for_reads(2 * len(checks))
    keys = epoch.keys if not epoch.overlay else None
    key = epoch.key
    opens = folded = None
    named: dict[int, Any] = {}
    people = 0
    count = 1 << 62  # no key reaches it without exceptions
    if openings is not None:
        # The exceptions folded into the profile numbering: a pair no exception can open
        # is one cache read, as without them (§11).
        folded = openings.folded(epoch)
        keys, width, cache = folded.keys, folded.width, folded.fragments
        named, people, count = folded.named, folded.people, folded.count
    parts: list[str] = []
    append = parts.append
    wrap = wrapping is not None
    permit = deny = close = ""
    if wrapping is not None:
        permit, deny, close = wrapping.permit, wrapping.deny, wrapping.close
    for check in checks:
        action, sender, to = ONE_PAIR.get(check["action"]), check["from"], check["to"]
        if (
            action is not None
            and len(to) == 1
            and (people_search_restriction or action is not Action.SEARCH)
        ):
            u = index(sender)  # a UPN given as stored; index_of also folds
            if u is None:
                u = fold_index(sender)
            v = index(to[0])
            if v is None:
                v = fold_index(to[0])
            if u is not None and v is not None and u != v:
                if keys is not None:
                    k, m = keys[u], keys[v]
                else:
                    k, m = key(u), key(v)
                found: Any = None
                if k < 0 or m < 0:  # a user who may not communicate at all (§6)
                    blocking = blocking_user(epoch, u, v)
                    if blocking is not None:
                        found = user_fragments(epoch, *blocking)
                else:
                    if k >= count or m >= count:  # named by an exception of two users
                        if k < count:
                            m -= count  # only one side named: no such exception opens it
                        elif m < count:
                            k -= count
                    pair = k * width + m
                    found = cache.get(pair)
                    if found is None:
                        if folded is None:
                            found = FRAGMENTS.put(
                                cache, pair, fragments(explain_profiles(epoch, k, m))
                            )
                        else:
                            found = folded_fragment(epoch, folded, base, pair)
                    if found[0] is ASK:  # (ASK, answer, touched, k, m): may be opened
                        if found[2] or u * people + v in named:
                            assert openings is not None
                            if opens is None:
                                opens = openings.opener(epoch)
                            if opens(u, v, found[3], found[4], action) is not None:
                                result = answer(
                                    epoch, check, people_search_restriction=True, openings=openings
                                )
                                text = orjson.dumps(result.as_dict()).decode()
                                append(wrapping.wrap(text) if wrapping is not None else text)
                                continue
                        found = found[1]
                if found is not None:
                    if wrap:  # a cached verdict is never an error
                        head = found[0]
                        if plain:
                            append(
                                f"{permit if head.startswith(ALLOWED) else deny}{head}"
                                f'"{upns[u]}","{upns[v]}"{found[1]}{close}'
                            )
                        else:
                            append(
                                f"{permit if head.startswith(ALLOWED) else deny}{head}"
                                f"{_string(upns[u])},{_string(upns[v])}{found[1]}{close}"
                            )
                    elif plain:  # one string built in one go: the head, "a","b", the tail
                        append(f'{found[0]}"{upns[u]}","{upns[v]}"{found[1]}')
                    else:
                        append(f"{found[0]}{_string(upns[u])},{_string(upns[v])}{found[1]}")
                    continue
        result = answer(
            epoch, check, people_search_restriction=people_search_restriction, openings=openings
        )
        text = orjson.dumps(result.as_dict()).decode()
        append(wrapping.wrap(text) if wrapping is not None else text)
    return parts


def user_fragments(epoch: Epoch, x: int, code: VerdictCode) -> tuple[str, str]:
    """The fragments of :func:`~infobarrier.core.decisions.user_verdict`: the refusal that
    user ``x``'s own state (``code``) gives any pair. Kept per lineage by user, code and
    profile, all that the verdict reads (a UPN, a profile's segments and the mode mean
    the same across a lineage), so a patch that enables the user or moves them finds
    another entry. Without it every such pair took the general path, ~8 µs: 4% of a
    generated tenant's pairs, a third of a batch's time."""
    kept = USER_FRAGMENTS.of(epoch)
    key = (x, code, epoch.profile(x))
    found = kept.get(key)
    if found is None:
        found = USER_FRAGMENTS.put(kept, key, fragments(user_verdict(epoch, x, code, None)))
    return found


def base_fragment(
    epoch: Epoch, base: dict[int, tuple[str, str]], k: int, m: int
) -> tuple[str, str]:
    """The fragments of profiles ``k`` and ``m`` (cached per lineage)."""
    pair = k * len(epoch.profiles) + m
    found = base.get(pair)
    if found is None:
        found = FRAGMENTS.put(base, pair, fragments(explain_profiles(epoch, k, m)))
    return found


def folded_fragment(
    epoch: Epoch, folded: FoldedOpenings, base: dict[int, tuple[str, str]], pair: int
) -> Any:
    """What ``folded.fragments`` keeps for a pair of folded keys: the base pair's fragments,
    or ``(ASK, fragments, touched, k, m)`` when an exception may open the pair (bounded
    like the fragments)."""
    k, m, may, touched = folded.split(pair)
    found: Any = base_fragment(epoch, base, k, m)
    if may:
        found = (ASK, found, touched, k, m)
    kept = folded.fragments
    if len(kept) >= FRAGMENTS.limit:
        kept.clear()
    kept[pair] = found
    return found


__all__ = [
    "ALLOWED",
    "ASK",
    "DENIED",
    "FRAGMENTS",
    "ONE_PAIR",
    "USER_FRAGMENTS",
    "Wrapping",
    "answer_json",
    "answer_parts",
    "base_fragment",
    "folded_fragment",
    "folded_upns",
    "fragments",
    "plain_upns",
    "user_fragments",
]
