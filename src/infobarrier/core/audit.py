"""The hash chain of the audit log (semantics §9).

Each entry's hash covers its content and the previous entry's hash, so editing,
removing or reordering any stored entry breaks the chain from that entry on.
"""

from __future__ import annotations

import hashlib
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


def entry_hash(
    seq: int, at: datetime, actor: str, kind: str, detail: Mapping[str, Any], prev_hash: str
) -> str:
    """SHA-256 over a canonical JSON form of the entry and the previous hash."""
    payload = json.dumps(
        {
            "seq": seq,
            "at": at.isoformat(),
            "actor": actor,
            "kind": kind,
            "detail": detail,
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def first_broken(entries: Iterable[AuditEntry]) -> tuple[int, str] | None:
    """``(seq, why)`` of the first entry that breaks the chain, or ``None`` if intact."""
    prev = GENESIS
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq:
            return entry.seq, f"expected entry {expected_seq}, found {entry.seq}"
        if entry.prev_hash != prev:
            return entry.seq, "its previous-hash does not match the entry before it"
        recomputed = entry_hash(
            entry.seq, entry.at, entry.actor, entry.kind, entry.detail, entry.prev_hash
        )
        if recomputed != entry.hash:
            return entry.seq, "its content does not match its hash"
        prev = entry.hash
        expected_seq += 1
    return None
