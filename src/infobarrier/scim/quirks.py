"""What identity providers send that scim2-models' ``ScimPolicy`` does not already tolerate.

Microsoft Entra ID sends the enterprise ``manager`` as a bare string, the manager's id,
where RFC 7643 §4.3 has a complex attribute: ``"manager": "<id>"`` in a POST or PUT body,
and ``{"op": "Add", "path": "...:User:manager", "value": "<id>"}`` in a PATCH. Such a
string is read as ``{"value": "<id>", "$ref": "Users/<id>"}`` (RFC 7643 requires the
``$ref``), the complex form Entra ID also expects back.
An empty string (Entra's way of clearing it in a ``Replace``) clears it.

A body that is not JSON, or not shaped as expected, is passed on unchanged, so that the
protocol answers it with its usual error.
"""

from __future__ import annotations

import json
from typing import Any

from infobarrier.core.limits import MAX_JSON_DEPTH

ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
_MANAGER_PATH = f"{ENTERPRISE_URN}:manager".casefold()


def _manager(value: Any) -> Any:
    if isinstance(value, str):
        id = value.strip()
        return {"value": id, "$ref": f"Users/{id}"} if id else None
    return value


def _fix_extension(extension: Any) -> None:
    if isinstance(extension, dict):
        for key in list(extension):
            if key.casefold() == "manager":
                extension[key] = _manager(extension[key])


def _fix_attributes(payload: dict[str, Any]) -> None:
    """A resource, or the value of a path-less PATCH: its enterprise extension and manager path."""
    for key in list(payload):
        folded = key.casefold()
        if folded == ENTERPRISE_URN.casefold():
            _fix_extension(payload[key])
        elif folded == _MANAGER_PATH:
            payload[key] = _manager(payload[key])


def _rewritten(body: bytes, fix: Any) -> bytes:
    try:
        payload = json.loads(body)
    except ValueError:
        return body
    if not isinstance(payload, dict):
        return body
    fix(payload)
    return json.dumps(payload).encode()


def resource_body(body: bytes) -> bytes:
    """A POST or PUT body with Entra ID's string ``manager`` made an object."""
    return _rewritten(body, _fix_attributes)


def _fix_operations(payload: dict[str, Any]) -> None:
    for key, operations in payload.items():
        if key.casefold() != "operations" or not isinstance(operations, list):
            continue
        for operation in operations:
            if not isinstance(operation, dict):
                continue
            path = operation.get("path")
            value = operation.get("value")
            if isinstance(path, str) and path.strip().casefold() == _MANAGER_PATH:
                operation["value"] = _manager(value)
            elif isinstance(path, str) and path.strip().casefold() == ENTERPRISE_URN.casefold():
                _fix_extension(value)
            elif path is None and isinstance(value, dict):
                _fix_attributes(value)


def patch_body(body: bytes) -> bytes:
    """A PATCH body with Entra ID's string ``manager`` values made objects."""
    return _rewritten(body, _fix_operations)


def too_deep(body: bytes) -> str | None:
    """Why a body nests deeper than ``MAX_JSON_DEPTH`` objects and arrays, or ``None``.

    Checked before anything else reads the body, so that no parser or model recurses
    into it (a deeply nested body was a RecursionError, answered 500). The walk is
    iterative; a body too deep even for the JSON parser is refused the same way.
    """
    if not body:
        return None
    refusal = f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels of objects and arrays"
    try:
        payload = json.loads(body)
    except RecursionError:
        return refusal
    except ValueError:
        return None  # not JSON: the protocol answers it
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return refusal
        stack.extend((child, depth + 1) for child in children)
    return None
