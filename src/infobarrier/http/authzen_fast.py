"""The usual AuthZEN ``evaluations`` body decoded straight into our checks.

An evaluations item is three nested JSON objects (``{"subject": {"type": "user", "id":
...}, "action": {"name": ...}, "resource": {"type": "user", "id": ...}}``): parsed into
dicts by ``orjson`` and freed again it cost twice the native ``POST /decisions`` item,
and reading the checks out of the dicts as much again (docs/decisions.md, "Evaluations
decoded into structs"). Here ``msgspec`` decodes the body into slotted structs that the
collector does not track, and the UPNs (of entities of type ``user`` only) are read
out column by column into a :class:`~infobarrier.core.answer_columns.OnePairBatch`, which
``core.answer_columns`` answers with array operations.

This is only a shortcut: :func:`plain_request` answers ``None`` for anything but the
plain shape (every field known, every value a string, each item a one-pair question of
two users with a one-pair action, ``execute_all``), and the route then reads the body as
before (``http.routes.authzen``), so every answer, error message and status is the one of
that path. Unknown fields are refused *here* (``forbid_unknown_fields``) so that the only
values this decoder accepts are strings and objects: anything orjson would refuse (an
integer out of range, a lone surrogate) never takes the shortcut; the fallback ignores
unknown fields as the specification requires.
"""

from __future__ import annotations

from operator import attrgetter

import msgspec

from infobarrier.core.answer_columns import OnePairBatch
from infobarrier.core.contract import Action
from infobarrier.http.authzen_protocol import MAX_EVALUATIONS, SEMANTICS, USER

#: Action names a plain one-pair question may carry as they are (anything else, such as
#: ``Chat`` or ``add-team-member``, goes item by item).
PLAIN_ACTIONS = frozenset(a.value for a in Action if a is not Action.ADD_TEAM_MEMBER)


class _Entity(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    type: str
    id: str


class _Action(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    name: str


class _Item(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    subject: _Entity | None = None
    action: _Action | None = None
    resource: _Entity | None = None


class _Options(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    evaluations_semantic: str = SEMANTICS[0]


class _Body(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    evaluations: list[_Item] | None = None
    subject: _Entity | None = None
    action: _Action | None = None
    resource: _Entity | None = None
    options: _Options | None = None


_DECODER = msgspec.json.Decoder(_Body)


def _user(entity: _Entity | None) -> str | None:
    """The UPN of a plain user entity, else ``None``."""
    if entity is not None and entity.type == USER and entity.id.strip():
        return entity.id
    return None


_subject, _resource, _action = attrgetter("subject"), attrgetter("resource"), attrgetter("action")
_id, _type = attrgetter("id"), attrgetter("type")


def plain_request(body: bytes) -> OnePairBatch | None:
    """What ``plain_checks`` finds in the body, as columns (``core.answer_columns``), when
    the body is a plain ``execute_all`` evaluations request of at least one and at most
    ``MAX_EVALUATIONS`` items; ``None`` for any other body (the caller then reads it the
    general way). Read column by column (``map`` in C), not item by item."""
    try:
        data = _DECODER.decode(body)
    except msgspec.DecodeError:  # also a ValidationError: any other shape
        return None
    listed = data.evaluations
    if not listed or len(listed) > MAX_EVALUATIONS:
        return None
    if data.options is not None and data.options.evaluations_semantic != SEMANTICS[0]:
        return None
    action = data.action
    dname = action.name if action is not None and action.name in PLAIN_ACTIONS else None
    senders = _ids(list(map(_subject, listed)), _user(data.subject))
    recipients = _ids(list(map(_resource, listed)), _user(data.resource))
    if senders is None or recipients is None:
        return None
    actions: list[_Action | None] = list(map(_action, listed))
    if actions.count(None) == len(actions):  # every item asks the top-level action
        return None if dname is None else OnePairBatch(senders, recipients, dname)
    names: list[str] = [(dname or "") if a is None else a.name for a in actions]
    if not PLAIN_ACTIONS.issuperset(names):  # also an item left to a missing default
        return None
    return OnePairBatch.of(senders, recipients, names)


def _ids(entities: list[_Entity | None], default: str | None) -> list[str] | None:
    """The UPNs of a column of user entities (``default`` for a missing one), or ``None``
    when one is missing without a default or has an id of white space only."""
    if None in entities:
        if default is None:
            return None
        given = [e for e in entities if e is not None]
        ids = [default if e is None else e.id for e in entities]
    else:
        given = entities  # type: ignore[assignment]  # no None in it
        ids = list(map(_id, entities))
    if not {USER}.issuperset(map(_type, given)):  # another type: read the general way
        return None
    if not all(map(str.strip, ids)):
        return None
    return ids


__all__ = ["PLAIN_ACTIONS", "plain_request"]
