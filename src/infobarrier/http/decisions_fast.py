"""The usual ``POST /decisions`` body decoded straight into columns.

A chat or calling platform asks about a thousand pairs at once, each check ``{"action":
..., "from": a, "to": [b]}``. Parsed into dicts by ``orjson`` and read check by check
(``core.contract.read_body``), every check costs a dict, a list and a pass through the
reader; here ``msgspec`` decodes the body into slotted structs that the collector does not
track, and the UPNs are read out column by column into a
:class:`~infobarrier.core.answer_columns.OnePairBatch`, which ``core.answer_columns``
answers with array operations (docs/decisions.md, "Batches answered as columns").

This is only a shortcut: :func:`one_pair_batch` answers ``None`` for any body it does not
vouch for (an unknown field, a check of several recipients or none, a value of another
type, a field out of its bounds, more checks than a request may hold), and the route then
reads the body with ``read_body``, so every error, message and status is that reader's.
Whatever this decoder accepts, ``read_body`` accepts as the same checks (a property test
compares them).
"""

from __future__ import annotations

from operator import attrgetter, itemgetter
from typing import Annotated

import msgspec

from infobarrier.core.answer_columns import OnePairBatch
from infobarrier.core.contract import MAX_ACTION, MAX_UPN

#: The bounds ``read_checks`` sets, checked while decoding: a body that breaks one (a
#: group check of several recipients, typically) stops the decoder at that check.
_Action = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ACTION)]
_Upn = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_UPN)]
_One = Annotated[list[str], msgspec.Meta(min_length=1, max_length=1)]


class _Check(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    action: _Action
    sender: _Upn = msgspec.field(name="from")
    to: _One


class _Body(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    checks: Annotated[list[_Check], msgspec.Meta(min_length=1)]


_DECODER = msgspec.json.Decoder(_Body)
_action, _sender, _to = attrgetter("action"), attrgetter("sender"), attrgetter("to")
_first = itemgetter(0)


def one_pair_batch(body: bytes, *, max_checks: int, max_pairs: int) -> OnePairBatch | None:
    """The checks of ``{"checks": [...]}`` as columns when every check names one recipient
    and the body is one ``read_body`` accepts as it is; ``None`` for any other body."""
    try:
        data = _DECODER.decode(body)
    except msgspec.DecodeError:  # also a ValidationError: any other shape or bound
        return None
    checks = data.checks
    n = len(checks)
    if n > max_checks or n > max_pairs:
        return None
    actions: list[str] = list(map(_action, checks))
    senders: list[str] = list(map(_sender, checks))
    recipients: list[str] = list(map(_first, map(_to, checks)))
    return OnePairBatch.of(senders, recipients, actions)


__all__ = ["one_pair_batch"]
