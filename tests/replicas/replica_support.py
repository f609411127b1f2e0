"""The tenant the replica tests share: an analyst and a banker, one wall between them."""

from __future__ import annotations

from infobarrier.core.barriers import PolicyState
from infobarrier.core.directory import make_user
from infobarrier.service.wiring import build
from live_server import make_tokens

ANALYST, BANKER = "analyst@bank.example", "banker@bank.example"


def seed_bank(url: str, *, wall: PolicyState) -> dict[tuple[str, str], str]:
    """Tenant ``bank`` in the database at ``url``: the analyst in Research, the banker in
    Sales, policy ``wall`` (Research blocks Sales) in state ``wall``, applied. Returns the
    tokens by (tenant, role); the store is closed again for the servers to open."""
    services = build(url)
    tokens = make_tokens(services, ["bank"])
    users = {ANALYST: "Research", BANKER: "Sales"}
    services.directory.put_users(
        "bank", [make_user(u, Department=d) for u, d in users.items()], "test"
    )
    for dept in ("Research", "Sales"):
        services.barriers.new_segment("bank", dept, f"Department -eq '{dept}'", "test")
    services.barriers.new_policy("bank", "wall", "Research", "test", blocked=["Sales"], state=wall)
    services.applications.apply("bank", "test")
    services.store.dispose()
    return tokens
