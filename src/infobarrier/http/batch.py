"""``POST /decisions``' hot path: a batch of checks parsed, answered and written as JSON.

A batch of 1,000 one-pair checks is the workload of a chat or calling platform asking
about many conversations at once (benchmarks/README.md targets 200,000 decisions per
second over HTTP).
Building a request object, a verdict dict and its JSON per check cost ~18 µs; here a
valid body is parsed by ``orjson`` and checked by hand against the same shape as
:class:`~infobarrier.http.schemas.DecisionsBody`, and each one-pair answer is two cached
JSON fragments of its *profile pair* around the two UPNs. Anything else (several
recipients, an unknown user, the same user twice, a disabled user, a malformed action)
goes through :func:`~infobarrier.service.decisions.answer_in`, the general path, so the
answers are the same objects either way (a property test compares them).
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from infobarrier.core.decisions import Action, explain_profiles
from infobarrier.core.epoch import Epoch
from infobarrier.core.patch import keep_across_patches
from infobarrier.service.decisions import CheckRequest, answer_in

#: One check as parsed: action, sender, recipients.
Check = tuple[str, str, list[str]]

#: ``DecisionsBody``'s limits (schemas.py), checked here without pydantic.
MAX_CHECKS, MAX_ACTION, MAX_UPN, MAX_TO = 100_000, 32, 320, 10_000

#: Profile pairs whose JSON is kept per epoch (bounded like ``core.decisions``' cache).
CACHE_LIMIT = 100_000

# Both depend only on profile pairs and UPNs, which a patch keeps.
keep_across_patches("verdict_json", "plain_upns")

_ONE_PAIR = {a.value: a for a in Action if a is not Action.ADD_TEAM_MEMBER}


def parse_checks(body: bytes) -> list[Check] | None:
    """The checks of a body that is exactly ``DecisionsBody``; ``None`` for anything else.

    ``None`` sends the body to pydantic, which names what is wrong (a 422): this parser
    only has to accept nothing that pydantic would refuse.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict or len(data) != 1:
        return None
    items = data.get("checks")
    if type(items) is not list or len(items) > MAX_CHECKS:
        return None
    checks: list[Check] = []
    for item in items:
        if type(item) is not dict or len(item) != 3:
            return None
        action, sender, to = item.get("action"), item.get("from"), item.get("to")
        if (
            type(action) is not str
            or not 0 < len(action) <= MAX_ACTION
            or type(sender) is not str
            or not 0 < len(sender) <= MAX_UPN
            or type(to) is not list
            or len(to) > MAX_TO
            or not ((len(to) == 1 and type(to[0]) is str) or all(type(x) is str for x in to))
        ):
            return None
        checks.append((action, sender, to))
    return checks


def _string(text: str) -> str:
    """``text`` as a JSON string (plain ASCII UPNs need no encoder)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    return orjson.dumps(text).decode()


def _fragments(epoch: Epoch, k: int, m: int) -> tuple[str, str]:
    """The JSON of a verdict between profiles ``k`` and ``m``, split around ``pair``."""
    allowed, code, reason, policy, segment = explain_profiles(epoch, k, m)
    head = orjson.dumps({"allowed": allowed, "reason": reason, "code": code}).decode()
    tail = orjson.dumps({"policy": policy, "segment": segment}).decode()
    return head[:-1] + ',"pair":[', "]," + tail[1:]


def _plain_upns(epoch: Epoch) -> bool:
    """Whether every UPN of the epoch is its own JSON string body (checked once per epoch;
    patches keep UPNs, so they share the answer)."""
    found: bool | None = epoch.derived.get("plain_upns")
    if found is None:
        text = "".join(epoch.upns)
        found = text.isascii() and text.isprintable() and '"' not in text and "\\" not in text
        epoch.derived["plain_upns"] = found
    return found


def answer_json(epoch: Epoch, checks: Sequence[Check], *, people_search_restriction: bool) -> bytes:
    """``{"results": [...]}`` for these checks against one epoch, in order."""
    cache: dict[int, tuple[str, str]] | None = epoch.derived.get("verdict_json")
    if cache is None:
        cache = epoch.derived["verdict_json"] = {}
    plain = _plain_upns(epoch)
    index, fold_index = epoch.upn_index.get, epoch.index_of
    upns, width = epoch.upns, len(epoch.profiles)
    keys = epoch.keys if not epoch.overlay else None
    key = epoch.key
    parts: list[str] = []
    append = parts.append
    for action_text, sender, to in checks:
        action = _ONE_PAIR.get(action_text)
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
                if k >= 0 and m >= 0:
                    pair = k * width + m
                    found = cache.get(pair)
                    if found is None:
                        found = _fragments(epoch, k, m)
                        if len(cache) < CACHE_LIMIT:
                            cache[pair] = found
                    if plain:  # one string built in one go: the head, "a","b", the tail
                        append(f'{found[0]}"{upns[u]}","{upns[v]}"{found[1]}')
                    else:
                        append(f"{found[0]}{_string(upns[u])},{_string(upns[v])}{found[1]}")
                    continue
        answer = answer_in(
            epoch,
            CheckRequest(action_text, sender, to),
            people_search_restriction=people_search_restriction,
        )
        append(orjson.dumps(answer).decode())
    return ('{"results":[' + ",".join(parts) + "]}").encode()


__all__ = ["Check", "answer_json", "parse_checks"]
