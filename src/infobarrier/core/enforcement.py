"""What an enforcer may record in its tenant's audit log (semantics §9).

An enforcer (a homeserver module, a gateway) that acts on the barrier outside infobarrier,
such as removing a member from a room, records what it did in the tenant's hash-chained
audit log. It may only record *enforcement* events: kinds under :data:`PREFIXES`, so an
enforcer token can never write an entry that looks like an administrator's (``policy.*``,
``application.*``, ``token.*`` ...). The detail is a small JSON object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from infobarrier.core.errors import InvalidInput, TooLarge

#: Kinds an enforcer may record start with one of these.
PREFIXES: Final = ("synapse.", "enforcement.")
#: Longest kind (characters).
MAX_KIND: Final = 64
#: Largest detail, as compact JSON (bytes of UTF-8).
MAX_DETAIL_BYTES: Final = 16 * 1024
#: Detail keys the service sets itself (an enforcer cannot give them).
RESERVED: Final = frozenset({"via"})

_KIND = re.compile(r"[a-z0-9][a-z0-9_.-]*\Z")


def check_event(kind: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    """The detail to record for an enforcement event, or :class:`InvalidInput` naming what
    is wrong (nothing is recorded)."""
    if not kind.startswith(PREFIXES):
        allowed = ", ".join(f"'{p}...'" for p in PREFIXES)
        raise InvalidInput(f"an enforcer may only record enforcement events ({allowed}): {kind!r}")
    if len(kind) > MAX_KIND:
        raise InvalidInput(f"an event kind has at most {MAX_KIND} characters")
    if not _KIND.match(kind) or kind.endswith("."):
        raise InvalidInput(
            f"an event kind is lower-case letters, digits, '_', '-' and '.': {kind!r}"
        )
    reserved = sorted(RESERVED & set(detail))
    if reserved:
        raise InvalidInput(f"detail key {reserved[0]!r} is set by the service, not given")
    size = len(json.dumps(detail, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_DETAIL_BYTES:
        raise TooLarge(
            f"an event's detail is {size} bytes of JSON: at most {MAX_DETAIL_BYTES} bytes"
        )
    return dict(detail)
