"""customers report faults from a unit's QR label and follow the call: labels, reports,
photos, and the call's contact, tracking id and unconfirmed priority

Revision ID: 0030
Revises: 0021
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import partsvc.platform.db

revision: str = "0030"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIME = partsvc.platform.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "unit_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", UTC_TIME, nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["equipment_id"], ["equipment.id"], name=op.f("fk_unit_labels_equipment_id_equipment")
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["users.id"], name=op.f("fk_unit_labels_issued_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_labels")),
        sa.UniqueConstraint("equipment_id", name=op.f("uq_unit_labels_equipment_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_unit_labels_token_hash")),
    )
    op.create_table(
        "fault_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("equipment_id", sa.Integer(), nullable=False),
        sa.Column("reported_at", UTC_TIME, nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone", sa.String(length=32), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("joined", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "urgency IN ('down', 'partial', 'other')", name=op.f("ck_fault_reports_urgency_known")
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_fault_reports_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
            name=op.f("fk_fault_reports_equipment_id_equipment"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fault_reports")),
    )
    with op.batch_alter_table("fault_reports") as batch:
        batch.create_index(batch.f("ix_fault_reports_call_id"), ["call_id"], unique=False)
    op.create_table(
        "call_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("stored_as", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_photos_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["fault_reports.id"],
            name=op.f("fk_call_photos_report_id_fault_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_photos")),
        sa.UniqueConstraint("stored_as", name=op.f("uq_call_photos_stored_as")),
    )
    with op.batch_alter_table("call_photos") as batch:
        batch.create_index(batch.f("ix_call_photos_call_id"), ["call_id"], unique=False)
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("contact_name", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("contact_phone", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("tracking_code", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("priority_confirmed", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch.create_unique_constraint(batch.f("uq_calls_tracking_code"), ["tracking_code"])


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_constraint(batch.f("uq_calls_tracking_code"), type_="unique")
        batch.drop_column("priority_confirmed")
        batch.drop_column("tracking_code")
        batch.drop_column("contact_phone")
        batch.drop_column("contact_name")
    with op.batch_alter_table("call_photos") as batch:
        batch.drop_index(batch.f("ix_call_photos_call_id"))
    op.drop_table("call_photos")
    with op.batch_alter_table("fault_reports") as batch:
        batch.drop_index(batch.f("ix_fault_reports_call_id"))
    op.drop_table("fault_reports")
    op.drop_table("unit_labels")
