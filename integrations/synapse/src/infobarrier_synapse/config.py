"""The module's configuration: what an admin writes under ``modules:`` in Synapse's config.

Parsing is strict: an unknown key, a missing tenant, both or neither of ``database`` and
``url``, or a template without ``{localpart}`` is an error naming the problem, and Synapse
then refuses to start (a barrier that silently does nothing is worse than no start).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

DEFAULT_TEMPLATE = "{localpart}@{server_name}"

_KEYS = (
    "tenant",
    "database",
    "url",
    "token",
    "user_id_to_upn",
    "unknown_users",
    "on_unavailable",
    "poll_seconds",
    "timeout_seconds",
)


class ConfigError(ValueError):
    """The module's configuration is wrong; the message says what to fix."""


class UnknownUsers(StrEnum):
    """Matrix users whose UPN is not in the tenant's directory."""

    DENY = "deny"
    ALLOW = "allow"


class OnUnavailable(StrEnum):
    """What to do while the store (or the service) cannot be reached."""

    DENY = "deny"
    LAST_KNOWN = "last_known"


@dataclass(frozen=True, slots=True)
class ModuleConfig:
    """The parsed configuration.

    Exactly one of ``database`` (decide in-process from the store) and ``url`` (ask a
    running ``infobarrier serve`` with the enforcer ``token``) is set.
    """

    tenant: str
    database: str | None = None
    url: str | None = None
    token: str | None = None
    user_id_to_upn: str = DEFAULT_TEMPLATE
    unknown_users: UnknownUsers = UnknownUsers.DENY
    on_unavailable: OnUnavailable = OnUnavailable.DENY
    #: How often the module looks for barrier or directory changes (and reconciles rooms).
    poll_seconds: float = 1.0
    #: url mode: how long one request to the service may take before it counts as unavailable.
    timeout_seconds: float = 2.0

    def upn_of(self, localpart: str, server_name: str) -> str:
        """The UPN of a local Matrix user, from the template."""
        return self.user_id_to_upn.format(localpart=localpart, server_name=server_name)


def _text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"infobarrier_synapse: '{key}' must be a non-empty string")
    return value.strip()


def _choice(raw: Mapping[str, Any], key: str, enum: type[StrEnum], default: StrEnum) -> Any:
    value = raw.get(key, default.value)
    try:
        return enum(value)
    except ValueError:
        valid = " | ".join(m.value for m in enum)
        raise ConfigError(f"infobarrier_synapse: '{key}' is {value!r}; expected {valid}") from None


def _seconds(raw: Mapping[str, Any], key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        raise ConfigError(f"infobarrier_synapse: '{key}' must be a number of seconds in (0, 3600]")
    return float(value)


def parse(raw: Any) -> ModuleConfig:
    """Check and convert the ``config:`` mapping; :class:`ConfigError` names what is wrong."""
    if not isinstance(raw, Mapping):
        raise ConfigError("infobarrier_synapse: 'config' must be a mapping")
    unknown = sorted(str(k) for k in raw if k not in _KEYS)
    if unknown:
        raise ConfigError(
            f"infobarrier_synapse: unknown key(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(_KEYS)}"
        )
    tenant = _text(raw, "tenant")
    if tenant is None:
        raise ConfigError("infobarrier_synapse: 'tenant' is required (the infobarrier tenant)")
    database, url, token = _text(raw, "database"), _text(raw, "url"), _text(raw, "token")
    if (database is None) == (url is None):
        raise ConfigError(
            "infobarrier_synapse: give exactly one of 'database' (decide in-process from "
            "the store) and 'url' (ask a running infobarrier serve)"
        )
    if url is not None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"infobarrier_synapse: 'url' must be http(s)://..., got {url!r}")
        if token is None:
            raise ConfigError("infobarrier_synapse: 'url' needs 'token' (an enforcer token)")
    elif token is not None:
        raise ConfigError("infobarrier_synapse: 'token' is only used with 'url'")
    template = _text(raw, "user_id_to_upn") or DEFAULT_TEMPLATE
    if "{localpart}" not in template:
        raise ConfigError("infobarrier_synapse: 'user_id_to_upn' must contain {localpart}")
    try:
        template.format(localpart="x", server_name="y")
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"infobarrier_synapse: 'user_id_to_upn' {template!r} may only use {{localpart}} "
            f"and {{server_name}} ({exc})"
        ) from None
    return ModuleConfig(
        tenant=tenant,
        database=database,
        url=url.rstrip("/") if url else None,
        token=token,
        user_id_to_upn=template,
        unknown_users=_choice(raw, "unknown_users", UnknownUsers, UnknownUsers.DENY),
        on_unavailable=_choice(raw, "on_unavailable", OnUnavailable, OnUnavailable.DENY),
        poll_seconds=_seconds(raw, "poll_seconds", 1.0),
        timeout_seconds=_seconds(raw, "timeout_seconds", 2.0),
    )
