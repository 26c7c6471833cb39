"""sites known only by their address until an operator places them on the map

``sites.lat`` and ``sites.lon`` may be null, both or neither (``ck_sites_placed_whole``):
the customer file may bring a site with an address and no coordinates.

Revision ID: 0040
Revises: 0035
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.alter_column("lat", existing_type=sa.Float(), nullable=True)
        batch_op.alter_column("lon", existing_type=sa.Float(), nullable=True)
        batch_op.create_check_constraint(
            op.f("ck_sites_placed_whole"), "(lat IS NULL) = (lon IS NULL)"
        )


def downgrade() -> None:
    # A site still waiting to be placed has nowhere to go back to: refuse rather than
    # invent coordinates.
    unplaced = op.get_bind().scalar(sa.text("SELECT count(*) FROM sites WHERE lat IS NULL"))
    if unplaced:
        raise RuntimeError(
            f"{unplaced} sites are not placed on the map yet; place them before downgrading."
        )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sites_placed_whole"), type_="check")
        batch_op.alter_column("lon", existing_type=sa.Float(), nullable=False)
        batch_op.alter_column("lat", existing_type=sa.Float(), nullable=False)
