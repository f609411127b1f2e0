"""SCIM bookkeeping of provisioned users and groups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scim_resources",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=1024), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_scim_resources_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "id", name=op.f("pk_scim_resources")),
    )
    with op.batch_alter_table("scim_resources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scim_resources_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            "ix_scim_resources_external_id", ["tenant_id", "kind", "external_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("scim_resources", schema=None) as batch_op:
        batch_op.drop_index("ix_scim_resources_external_id")
        batch_op.drop_index(batch_op.f("ix_scim_resources_tenant_id"))
    op.drop_table("scim_resources")
