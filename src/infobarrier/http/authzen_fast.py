"""The usual AuthZEN ``evaluations`` body decoded straight into our checks.

An evaluations item is three nested JSON objects (``{"subject": {"type": "user", "id":
...}, "action": {"name": ...}, "resource": {"type": "user", "id": ...}}``): parsed into
dicts by ``orjson`` and freed again it cost twice the native ``POST /decisions`` item,
and reading the checks out of the dicts as much again (docs/decisions.md, "Evaluations
decoded into structs"). Here ``msgspec`` decodes the body into slotted structs that the
collector does not track, and one loop reads them.

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

import msgspec

from infobarrier.core.contract import Action, Check
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


def plain_request(body: bytes) -> tuple[list[Check], str | None] | None:
    """What ``plain_checks`` finds in the body (the checks, and the one action they all
    ask about or ``None``) when the body is a plain ``execute_all`` evaluations request
    of at least one and at most ``MAX_EVALUATIONS`` items; ``None`` for any other body
    (the caller then reads it the general way)."""
    try:
        data = _DECODER.decode(body)
    except msgspec.DecodeError:  # also a ValidationError: any other shape
        return None
    listed = data.evaluations
    if not listed or len(listed) > MAX_EVALUATIONS:
        return None
    if data.options is not None and data.options.evaluations_semantic != SEMANTICS[0]:
        return None
    dsid, drid = _user(data.subject), _user(data.resource)
    action = data.action
    dname = action.name if action is not None and action.name in PLAIN_ACTIONS else None
    checks: list[Check] = []
    append = checks.append
    uniform = True
    for item in listed:
        s, a, r = item.subject, item.action, item.resource
        if s is None:
            sid = dsid
            if sid is None:
                return None
        else:
            sid = s.id
            if s.type != USER or not sid.strip():
                return None
        if r is None:
            rid = drid
            if rid is None:
                return None
        else:
            rid = r.id
            if r.type != USER or not rid.strip():
                return None
        if a is None:
            name = dname
            if name is None:
                return None
        else:
            name = a.name
            if name not in PLAIN_ACTIONS:
                return None
            uniform = uniform and name == dname
        append({"action": name, "from": sid, "to": [rid]})
    return checks, dname if uniform else None


__all__ = ["PLAIN_ACTIONS", "plain_request"]
