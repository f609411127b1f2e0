"""A real Synapse homeserver for tests: SQLite, a free loopback port, plain-HTTP clients.

The configuration is written here (no ``--generate-config`` run): a client listener on
127.0.0.1, no trusted key servers, a user directory that searches every user, rate
limits out of the way, and the modules to load. Users are registered with the
shared-secret admin API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from signedjson.key import generate_signing_key, write_signing_keys

from live_server import free_port, stop_server

SERVER_NAME = "matrix.abc.test"
SECRET = "shared-secret-for-tests"
PASSWORD = "correct horse battery staple"

_UNLIMITED = {"per_second": 10_000, "burst_count": 10_000}
RATE_LIMITS = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
    "rc_room_creation": _UNLIMITED,
    "rc_3pid_validation": _UNLIMITED,
    "rc_admin_redaction": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_delayed_event_mgmt": _UNLIMITED,
}


def write_config(directory: Path, port: int, modules: list[dict[str, Any]]) -> Path:
    """hs.yaml (and its signing key and log config) in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    key_path = directory / "signing.key"
    with key_path.open("w") as out:
        write_signing_keys(out, [generate_signing_key("a_test")])
    log_config = directory / "log.yaml"
    log_config.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "formatters": {
                    "plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}
                },
                "handlers": {
                    "file": {
                        "class": "logging.FileHandler",
                        "filename": str(directory / "homeserver.log"),
                        "formatter": "plain",
                    }
                },
                "loggers": {"infobarrier_synapse": {"level": "INFO"}},
                "root": {"level": "WARNING", "handlers": ["file"]},
                "disable_existing_loggers": False,
            }
        )
    )
    config = {
        "server_name": SERVER_NAME,
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "log_config": str(log_config),
        "media_store_path": str(directory / "media"),
        "registration_shared_secret": SECRET,
        "report_stats": False,
        "macaroon_secret_key": uuid.uuid4().hex,
        "form_secret": uuid.uuid4().hex,
        "signing_key_path": str(key_path),
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "user_directory": {"enabled": True, "search_all_users": True},
        "enable_metrics": False,
        "presence": {"enabled": False},
        "bcrypt_rounds": 4,  # registering a user costs a second at the default 12
        **RATE_LIMITS,
        "modules": modules,
    }
    path = directory / "hs.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@dataclass
class Homeserver:
    """A running homeserver and the users registered on it."""

    base: str
    directory: Path
    process: subprocess.Popen[bytes]
    tokens: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        """The homeserver's log so far."""
        path = self.directory / "homeserver.log"
        return path.read_text() if path.exists() else ""

    def register(self, localpart: str, *, admin: bool = False, display_name: str = "") -> str:
        """Register a user with the shared-secret admin API; returns the Matrix user id."""
        url = f"{self.base}/_synapse/admin/v1/register"
        nonce = httpx.get(url, timeout=10).json()["nonce"]
        mac = hmac.new(SECRET.encode(), digestmod=hashlib.sha1)
        kind = b"admin" if admin else b"notadmin"
        mac.update(b"\x00".join([nonce.encode(), localpart.encode(), PASSWORD.encode(), kind]))
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": PASSWORD,
            "admin": admin,
            "mac": mac.hexdigest(),
            "displayname": display_name or localpart,
        }
        answer = httpx.post(url, json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        user_id = str(answer.json()["user_id"])
        self.tokens[user_id] = str(answer.json()["access_token"])
        return user_id

    def client(self, user_id: str) -> Matrix:
        """A plain-HTTP Matrix client for a registered user."""
        return Matrix(self.base, user_id, self.tokens[user_id])

    def stop(self) -> None:
        """Stop the homeserver."""
        stop_server(self.process)


def launch_homeserver(directory: Path, modules: list[dict[str, Any]]) -> Homeserver:
    """Write a configuration and start Synapse with it (see :func:`wait_until_ready`)."""
    port = free_port()
    config = write_config(directory, port, modules)
    out = (directory / "stdout.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "synapse.app.homeserver", "--config-path", str(config)],
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=directory,
    )
    return Homeserver(f"http://127.0.0.1:{port}", directory, process)


def wait_until_ready(hs: Homeserver, timeout: float = 90) -> Homeserver:
    """Wait until the homeserver answers ``/versions``; its logs if it exits or stalls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hs.process.poll() is not None:
            stdout = (hs.directory / "stdout.log").read_text()
            raise RuntimeError(f"homeserver exited: {stdout}\n{hs.log()}")
        try:
            if httpx.get(f"{hs.base}/_matrix/client/versions", timeout=1).status_code == 200:
                return hs
        except httpx.HTTPError:
            time.sleep(0.1)
    hs.process.kill()
    raise RuntimeError(f"homeserver did not start: {(hs.directory / 'stdout.log').read_text()}")


class Matrix:
    """The client-server API over plain HTTP, as one user."""

    def __init__(self, base: str, user_id: str, token: str) -> None:
        self.user_id = user_id
        self.http = httpx.Client(
            base_url=f"{base}/_matrix/client/v3",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def search(self, term: str) -> list[str]:
        """User ids the user directory finds for ``term``."""
        answer = self.http.post("/user_directory/search", json={"search_term": term, "limit": 50})
        assert answer.status_code == 200, answer.text
        return [r["user_id"] for r in answer.json()["results"]]

    def create_room(self, **body: Any) -> httpx.Response:
        """``POST /createRoom``."""
        return self.http.post("/createRoom", json=body)

    def dm(self, other: str) -> httpx.Response:
        """A direct chat as Element starts one (``trusted_private_chat``)."""
        return self.create_room(invite=[other], is_direct=True, preset="trusted_private_chat")

    def invite(self, room_id: str, user_id: str) -> httpx.Response:
        """Invite someone."""
        return self.http.post(f"/rooms/{room_id}/invite", json={"user_id": user_id})

    def join(self, room_id: str) -> httpx.Response:
        """Join a room."""
        return self.http.post(f"/join/{room_id}", json={})

    def send(self, room_id: str, event_type: str, content: dict[str, Any]) -> httpx.Response:
        """Send a room event."""
        txn = uuid.uuid4().hex
        return self.http.put(f"/rooms/{room_id}/send/{event_type}/{txn}", json=content)

    def say(self, room_id: str, text: str) -> httpx.Response:
        """Send a text message."""
        return self.send(room_id, "m.room.message", {"msgtype": "m.text", "body": text})

    def state(
        self, room_id: str, event_type: str, state_key: str, content: dict[str, Any]
    ) -> httpx.Response:
        """Send a state event."""
        return self.http.put(f"/rooms/{room_id}/state/{event_type}/{state_key}", json=content)

    def members(self, room_id: str) -> set[str]:
        """Joined members (as seen by this user, who must be in the room)."""
        answer = self.http.get(f"/rooms/{room_id}/joined_members")
        assert answer.status_code == 200, answer.text
        return set(answer.json()["joined"])

    def rooms(self) -> set[str]:
        """Rooms this user has joined."""
        return set(self.http.get("/joined_rooms").json()["joined_rooms"])

    def member_event(self, room_id: str, user_id: str) -> dict[str, Any]:
        """The current membership event of ``user_id`` in a room."""
        answer = self.http.get(f"/rooms/{room_id}/state/m.room.member/{user_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


def call_invite(call_id: str, *, screen: str | None = None) -> dict[str, Any]:
    """``m.call.invite`` content; ``screen``: the stream metadata key announcing a screen share."""
    content: dict[str, Any] = {
        "call_id": call_id,
        "party_id": "p1",
        "version": "1",
        "lifetime": 60000,
        "offer": {"type": "offer", "sdp": "v=0\r\n"},
    }
    if screen is not None:
        content[screen] = {"stream1": {"purpose": "m.screenshare"}}
    else:
        content["sdp_stream_metadata"] = {"stream1": {"purpose": "m.usermedia"}}
    return content


def forbidden(answer: httpx.Response) -> dict[str, Any]:
    """Insist on 403 ``M_FORBIDDEN`` with infobarrier's object; return that object."""
    assert answer.status_code == 403, answer.text
    body = answer.json()
    assert body["errcode"] == "M_FORBIDDEN", body
    assert "infobarrier" in body, json.dumps(body)
    return dict(body["infobarrier"])
