"""The audit key and the signed heads of the audit logs, kept outside the database.

The key (32 random bytes, hex) lives in a file created with mode 0600 on first use:
``INFOBARRIER_AUDIT_KEY_FILE`` if set; else beside a SQLite database file
(``<database>.audit-key``); else ``audit.key`` in the data directory
(``INFOBARRIER_DATA_DIR``, else ``$XDG_DATA_HOME/infobarrier``, else
``~/.local/share/infobarrier``). Beside the key, ``<key file>.heads.json`` holds one
signed checkpoint per database and tenant: how many entries its log had and the last
hash, after each committed append. An in-memory SQLite database gets a key and
checkpoints that live as long as the process.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from infobarrier.core.audit import Checkpoint, sign_checkpoint

KEY_ENV = "INFOBARRIER_AUDIT_KEY_FILE"
DATA_DIR_ENV = "INFOBARRIER_DATA_DIR"


def data_dir() -> Path:
    """Where infobarrier keeps files that are not the database."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "infobarrier"


def _sqlite_file(url: URL) -> str | None:
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return database


def default_key_file(url: str) -> Path | None:
    """The key file for a database URL (``None``: an in-memory database)."""
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV])
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = _sqlite_file(parsed)
        if database is None:
            return None
        path = Path(database).resolve()
        return path.with_name(path.name + ".audit-key")
    return data_dir() / "audit.key"


def database_identity(url: str) -> str:
    """What names one database in the checkpoints (never its password)."""
    parsed = make_url(url)
    database = _sqlite_file(parsed)
    if database is not None:
        return f"sqlite:{Path(database).resolve()}"
    return (
        f"{parsed.get_backend_name()}://{parsed.host or ''}:{parsed.port or ''}/{parsed.database}"
    )


class AuditAnchor:
    """The key that signs audit entries and the signed head of every tenant's log."""

    def __init__(self, url: str, key_file: Path | None = None) -> None:
        self.key_file = key_file if key_file is not None else default_key_file(url)
        beside = os.environ.get(KEY_ENV) is None and key_file is None
        if beside and _sqlite_file(make_url(url)) is not None:
            # The key and its checkpoints belong to this one file: they move with it.
            self.identity = "sqlite"
        else:
            self.identity = database_identity(url)
        self._key: bytes | None = None
        self._memory: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        #: True when this process created the key (the logs were not anchored before).
        self.created = False

    # -- the key ----------------------------------------------------------------------
    @property
    def key(self) -> bytes:
        """The key, read or created (0600) on first use."""
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = self._load_or_create()
        return self._key

    def _load_or_create(self) -> bytes:
        if self.key_file is None:
            self.created = True
            return secrets.token_bytes(32)
        path = self.key_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with contextlib.suppress(FileExistsError):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_hex(32) + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                self.created = True
        text = path.read_text(encoding="ascii").strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            raise RuntimeError(f"audit key file {path} does not hold a hex key") from None
        if len(key) < 16:
            raise RuntimeError(f"audit key file {path} holds a key shorter than 16 bytes")
        return key

    # -- checkpoints ------------------------------------------------------------------------
    @property
    def heads_file(self) -> Path | None:
        """Where the signed checkpoints are kept (``None``: in memory)."""
        if self.key_file is None:
            return None
        return self.key_file.with_name(self.key_file.name + ".heads.json")

    def _scope(self, tenant_id: int) -> str:
        return f"{self.identity}#tenant={tenant_id}"

    def checkpoint(self, tenant_id: int) -> Checkpoint | str | None:
        """The tenant's signed checkpoint; why it cannot be trusted; or ``None`` (none kept)."""
        scope = self._scope(tenant_id)
        with self._locked():
            found = self._read().get(scope)
        if found is None:
            return None
        try:
            checkpoint = Checkpoint(
                int(found["count"]), str(found["head"]), int(found.get("keyed_from", 1))
            )
            signature = str(found["signature"])
        except (KeyError, TypeError, ValueError):
            return "the checkpoint is malformed"
        if signature != sign_checkpoint(scope, checkpoint, self.key):
            return "the checkpoint's signature does not match (forged, or another key)"
        return checkpoint

    def advance(self, tenant_id: int, count: int, head: str, *, keyed_from: int = 1) -> None:
        """Record that the tenant's log has ``count`` entries ending in ``head``.

        Never moves a checkpoint back (another process may have recorded a later head);
        keeps where keying began.
        """
        scope = self._scope(tenant_id)
        key = self.key
        with self._locked():
            heads = self._read()
            held = heads.get(scope)
            if held is not None:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    if int(held["count"]) >= count:
                        return
                    keyed_from = int(held.get("keyed_from", 1))
            checkpoint = Checkpoint(count, head, keyed_from)
            heads[scope] = {
                "count": count,
                "head": head,
                "keyed_from": keyed_from,
                "signature": sign_checkpoint(scope, checkpoint, key),
            }
            self._write(heads)

    def forget(self, tenant_id: int) -> None:
        """Drop a deleted tenant's checkpoint."""
        scope = self._scope(tenant_id)
        with self._locked():
            heads = self._read()
            if heads.pop(scope, None) is not None:
                self._write(heads)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            path = self.heads_file
            if path is None:
                yield
                return
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    def _read(self) -> dict[str, dict[str, Any]]:
        path = self.heads_file
        if path is None:
            return dict(self._memory)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, heads: dict[str, dict[str, Any]]) -> None:
        path = self.heads_file
        if path is None:
            self._memory = heads
            return
        temporary = path.with_name(path.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(heads, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
