"""every race market of the spec stored by its column in market_predictions.markets (JSON):
a market added to the spec needs no column of its own

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('market_predictions') as batch:
        batch.add_column(sa.Column('markets', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('market_predictions') as batch:
        batch.drop_column('markets')
