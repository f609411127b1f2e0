"""Key segments, policies and SCIM records by tenant; token expiry and last use

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Two tenants that imported the same directory or configuration hold the same object ids:
each tenant's row is its own, so the primary key starts with ``tenant_id``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: Table, its old primary key, its new one.
REKEYED = (
    ("segments", ["id"], ["tenant_id", "id"]),
    ("policies", ["id"], ["tenant_id", "id"]),
    ("scim_resources", ["kind", "id"], ["tenant_id", "kind", "id"]),
)


def upgrade() -> None:
    for table, _old, new in REKEYED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_tenant_id"))
            batch_op.drop_constraint(f"pk_{table}", type_="primary")
            batch_op.create_primary_key(f"pk_{table}", new)
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
    for table, old, _new in REKEYED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"pk_{table}", type_="primary")
            batch_op.create_primary_key(f"pk_{table}", old)
            batch_op.create_index(batch_op.f(f"ix_{table}_tenant_id"), ["tenant_id"], unique=False)
