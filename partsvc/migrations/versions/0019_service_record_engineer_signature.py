"""a service record carries both signatures' names: the engineer's beside the customer's

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 21:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service_records") as batch:
        batch.add_column(sa.Column("engineer_signed_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_records") as batch:
        batch.drop_column("engineer_signed_by")
