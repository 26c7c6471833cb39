"""a call's SLA clocks pause while it is on hold for the customer: holds, and since when

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import partsvc.platform.db

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("paused_at", partsvc.platform.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("paused_by_id", sa.Integer(), nullable=True),
        sa.Column("resumed_at", partsvc.platform.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resumed_by_id", sa.Integer(), nullable=True),
        sa.Column("resume_note", sa.String(length=500), nullable=True),
        sa.Column("paused_seconds", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "reason IN ('customer_not_available', 'customer_asked_to_wait', "
            "'awaiting_customer_approval')",
            name=op.f("ck_call_holds_reason_known"),
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_holds_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["paused_by_id"], ["users.id"], name=op.f("fk_call_holds_paused_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["resumed_by_id"], ["users.id"], name=op.f("fk_call_holds_resumed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_holds")),
    )
    with op.batch_alter_table("call_holds") as batch:
        batch.create_index(batch.f("ix_call_holds_call_id"), ["call_id"], unique=False)
    with op.batch_alter_table("calls") as batch:
        batch.add_column(
            sa.Column("held_since", partsvc.platform.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("held_since")
    with op.batch_alter_table("call_holds") as batch:
        batch.drop_index(batch.f("ix_call_holds_call_id"))
    op.drop_table("call_holds")
