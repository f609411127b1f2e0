"""What the end-to-end tests share: the seed's people and the servers started for them."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from synapse_server import Homeserver

from infobarrier.service.wiring import Services

#: The seed's people the tests use (localpart, display name).
PEOPLE = {
    "v1-ra1": "Vendor1 Remote Assist 1",
    "se1a": "Support Engineer 1A",
    "se1b": "Support Engineer 1B",
    "se2a": "Support Engineer 2A",
    "alex": "Alex",
    "dana": "Dana",
}


@dataclass
class World:
    """The store, the service, and the homeservers (the same users on local, remote and
    follow)."""

    services: Services
    db_url: str
    base: str
    tokens: dict[tuple[str, str], str]
    server: subprocess.Popen[bytes]
    local: Homeserver
    remote: Homeserver
    #: url mode, reconciling every half second.
    follow: Homeserver
    down: Homeserver
    ids: dict[str, str]
    admin: str

    def homeserver(self, mode: str) -> Homeserver:
        """``local`` (in-process decisions), ``remote`` (url mode, reconciling at start only)
        or ``follow`` (url mode, reconciling every half second)."""
        return {"local": self.local, "remote": self.remote, "follow": self.follow}[mode]
