"""a loan stops at 15 days from the day out: policies at the old default move to 15

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_DEFAULT, COMMITMENT = 30, 15

policy = sa.table(
    "loan_policy",
    sa.column("loan_days", sa.Integer),
    sa.column("max_days", sa.Integer),
)


def upgrade() -> None:
    """A policy still at the shipped 30 days moves to the commitment's 15 (R11); one an
    admin set to another maximum keeps it. The maximum never comes before the loan length."""
    op.execute(
        policy.update()
        .where(policy.c.max_days == OLD_DEFAULT)
        .values(
            max_days=sa.case(
                (policy.c.loan_days > COMMITMENT, policy.c.loan_days), else_=COMMITMENT
            )
        )
    )


def downgrade() -> None:
    """Back to the old default for a policy at 15 with the standard 15-day loan (the one
    this migration moved; a policy an admin set to 15 by hand cannot be told apart)."""
    op.execute(
        policy.update()
        .where(policy.c.max_days == COMMITMENT, policy.c.loan_days == COMMITMENT)
        .values(max_days=OLD_DEFAULT)
    )
