"""Wall-crossing exceptions, each tenant's maximum window, and the person a token names

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wall_exceptions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_wall_exceptions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wall_exceptions")),
    )
    with op.batch_alter_table("wall_exceptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_wall_exceptions_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index("ix_wall_exceptions_due", ["state", "end_at"], unique=False)
    op.create_table(
        "wall_exception_settings",
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("max_window_seconds", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_wall_exception_settings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_wall_exception_settings")),
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person", sa.String(length=256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_column("person")
    op.drop_table("wall_exception_settings")
    with op.batch_alter_table("wall_exceptions", schema=None) as batch_op:
        batch_op.drop_index("ix_wall_exceptions_due")
        batch_op.drop_index(batch_op.f("ix_wall_exceptions_tenant_id"))
    op.drop_table("wall_exceptions")
