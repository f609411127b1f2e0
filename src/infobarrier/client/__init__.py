"""``infobarrier.client``: a small typed client for enforcement points (sync and asyncio).

It asks the service's AuthZEN 1.0 API (decisions, searches) and our own API (decision
state, batch checks, relationship), keeps a bounded cache of decisions that is never
used past a change of the tenant's decision state, and answers by an explicit failure
mode while the service is unreachable: ``deny`` (default) or ``last_known``. Every
:class:`Decision` says where it came from: ``live``, ``cache``, ``last_known`` or
``unavailable``. See docs/authzen.md.

    from infobarrier.client import Client

    with Client("https://ib.example", token, "contoso") as ib:
        answer = ib.evaluate("alice@contoso.com", "chat", "bob@contoso.com")
        if answer.decision:
            ...
        group = ib.evaluate("alice@contoso.com", "group-chat", members=["bob@...", "eve@..."])
"""

from infobarrier.client.aio import AsyncClient
from infobarrier.client.model import (
    ClientError,
    Decision,
    OnUnavailable,
    Question,
    SearchPage,
    Semantic,
    Source,
    Unavailable,
)
from infobarrier.client.sync import Client

__all__ = [
    "AsyncClient",
    "Client",
    "ClientError",
    "Decision",
    "OnUnavailable",
    "Question",
    "SearchPage",
    "Semantic",
    "Source",
    "Unavailable",
]
