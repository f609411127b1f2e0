"""The hash chain of the audit log and its signed head (semantics §9).

Each entry's hash is an HMAC (SHA-256) over its content and the previous entry's hash,
keyed with a secret kept outside the database: editing, removing, reordering or
recomputing any stored entry breaks the chain from that entry on, unless one holds the
key. A signed checkpoint of the head (how many entries, the last hash), kept apart
from the rows, shows what the rows alone cannot: that entries were cut off the end.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One appended fact: who did what, when, and the details."""

    seq: int
    at: datetime
    actor: str
    kind: str
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        """JSON form for the CLI and API."""
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "detail": dict(self.detail),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An entry exactly as stored: text that may have been tampered with."""

    seq: int
    at: str
    actor: str
    kind: str
    detail: str  # JSON text
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The signed head of a tenant's log: ``count`` entries, the last one's ``head`` hash.

    Entries before ``keyed_from`` were written before the log was anchored and carry
    unkeyed hashes; the checkpoint's signature vouches for where keying began.
    """

    count: int
    head: str
    keyed_from: int = 1


def _payload(
    seq: int, at: datetime, actor: str, kind: str, detail: Mapping[str, Any], prev: str
) -> bytes:
    return json.dumps(
        {
            "seq": seq,
            "at": at.isoformat(),
            "actor": actor,
            "kind": kind,
            "detail": detail,
            "prev": prev,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    ).encode()


def entry_hash(
    seq: int,
    at: datetime,
    actor: str,
    kind: str,
    detail: Mapping[str, Any],
    prev_hash: str,
    key: bytes | None = None,
) -> str:
    """HMAC-SHA256 (plain SHA-256 without a key: logs written before anchoring)."""
    payload = _payload(seq, at, actor, kind, detail, prev_hash)
    if key is None:
        return hashlib.sha256(payload).hexdigest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def sign_checkpoint(scope: str, checkpoint: Checkpoint, key: bytes) -> str:
    """The signature of a checkpoint of one log (``scope`` names the database and tenant)."""
    payload = json.dumps(
        [scope, checkpoint.count, checkpoint.head, checkpoint.keyed_from], separators=(",", ":")
    )
    return hmac.new(key, b"checkpoint:" + payload.encode(), hashlib.sha256).hexdigest()


def parse_entry(stored: StoredEntry) -> AuditEntry | str:
    """The entry, or why it cannot be read (a malformed row)."""
    try:
        at = datetime.fromisoformat(stored.at)
    except (TypeError, ValueError):
        return f"its timestamp {str(stored.at)[:40]!r} is not an ISO 8601 time"
    try:
        detail = json.loads(stored.detail)
    except (TypeError, ValueError):
        return "its detail is not valid JSON"
    if not isinstance(detail, dict):
        return "its detail is not a JSON object"
    return AuditEntry(
        stored.seq, at, stored.actor, stored.kind, detail, stored.prev_hash, stored.hash
    )


def first_broken(
    entries: Iterable[AuditEntry | StoredEntry],
    key: bytes | None = None,
    checkpoint: Checkpoint | None = None,
) -> tuple[int, str] | None:
    """``(seq, why)`` of the first entry that breaks the chain, or ``None`` if intact.

    With a ``key``, entries from ``checkpoint.keyed_from`` on must carry keyed hashes;
    with a ``checkpoint``, the log must reach it: as many entries at least, the entry
    at its count having its head hash (else entries were cut off the end).
    """
    keyed_from = checkpoint.keyed_from if checkpoint is not None else 1
    prev = GENESIS
    expected_seq = 1
    for item in entries:
        entry = parse_entry(item) if isinstance(item, StoredEntry) else item
        if isinstance(entry, str):
            return item.seq, entry
        if entry.seq != expected_seq:
            return min(entry.seq, expected_seq), f"expected entry {expected_seq}, found {entry.seq}"
        if entry.prev_hash != prev:
            return entry.seq, "its previous-hash does not match the entry before it"
        used = key if key is not None and entry.seq >= keyed_from else None
        recomputed = entry_hash(
            entry.seq, entry.at, entry.actor, entry.kind, entry.detail, entry.prev_hash, used
        )
        if not hmac.compare_digest(recomputed, entry.hash):
            return entry.seq, "its content does not match its hash"
        if (
            checkpoint is not None
            and entry.seq == checkpoint.count
            and entry.hash != checkpoint.head
        ):
            return entry.seq, "it is not the entry the signed checkpoint records (log rewritten)"
        prev = entry.hash
        expected_seq += 1
    count = expected_seq - 1
    if checkpoint is not None and count < checkpoint.count:
        return (
            count + 1,
            f"missing: the signed checkpoint records {checkpoint.count} entries, the log holds "
            f"{count} (cut short)",
        )
    return None
