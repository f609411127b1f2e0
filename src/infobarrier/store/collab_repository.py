"""Teams, chats, meetings, calls and chat messages of one tenant (semantics §7, §8)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from infobarrier.core.errors import NotFound
from infobarrier.store.records import Message, aware, utcnow
from infobarrier.store.schema import CollabRow, MessageRow
from infobarrier.store.scoped import TenantScoped


class CollabRepository(TenantScoped):
    """Collaboration objects as JSON documents, and chat messages."""

    __slots__ = ()

    def objects(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Stored objects as JSON documents (with ``kind``), oldest first."""
        query = select(CollabRow).where(CollabRow.tenant_id == self._tid)
        if kind is not None:
            query = query.where(CollabRow.kind == kind)
        rows = self._session.scalars(query.order_by(CollabRow.created_at, CollabRow.id))
        return [dict(r.data) for r in rows]

    def get(self, kind: str, object_id: str) -> dict[str, Any]:
        """One object, or NotFound."""
        row = self._session.scalar(
            select(CollabRow).where(
                CollabRow.tenant_id == self._tid, CollabRow.kind == kind, CollabRow.id == object_id
            )
        )
        if row is None:
            raise NotFound(f"no {kind} {object_id!r}")
        return dict(row.data)

    def save(self, kind: str, data: dict[str, Any]) -> None:
        """Insert or replace an object by id."""
        existing = self._session.get(CollabRow, (self._tid, data["id"]))
        if existing is None:
            self._session.add(
                CollabRow(
                    id=data["id"], tenant_id=self._tid, kind=kind, created_at=utcnow(), data=data
                )
            )
        else:
            existing.data = data
        self._session.flush()

    def save_many(self, objects: list[tuple[str, dict[str, Any]]]) -> None:
        """:meth:`save` of many ``(kind, data)`` at once: one read of the existing rows, one
        flush (reconciliation after many exceptions expire together)."""
        if not objects:
            return
        ids = [data["id"] for _kind, data in objects]
        existing = {
            row.id: row
            for row in self._session.scalars(
                select(CollabRow).where(CollabRow.tenant_id == self._tid, CollabRow.id.in_(ids))
            )
        }
        for kind, data in objects:
            row = existing.get(data["id"])
            if row is None:
                row = CollabRow(
                    id=data["id"], tenant_id=self._tid, kind=kind, created_at=utcnow(), data=data
                )
                self._session.add(row)
                existing[row.id] = row
            else:
                row.data = data
        self._session.flush()

    def add_message(self, chat_id: str, sender_id: str, text: str) -> Message:
        """Append a message to a chat."""
        row = MessageRow(
            tenant_id=self._tid, chat_id=chat_id, sender_id=sender_id, text=text, at=utcnow()
        )
        self._session.add(row)
        self._session.flush()
        return Message(row.id, chat_id, sender_id, text, aware(row.at) or utcnow())

    def messages(self, chat_id: str) -> list[Message]:
        """A chat's messages in order."""
        rows = self._session.scalars(
            select(MessageRow)
            .where(MessageRow.tenant_id == self._tid, MessageRow.chat_id == chat_id)
            .order_by(MessageRow.id)
        )
        return [
            Message(r.id, r.chat_id, r.sender_id, r.text, aware(r.at) or utcnow()) for r in rows
        ]
