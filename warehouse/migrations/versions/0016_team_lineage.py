"""team lineage: a renamed team keeps its history (declared renames, by team ref)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'team_lineage',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_ref', sa.String(length=64), nullable=False),
        sa.Column('from_season', sa.Integer(), nullable=False),
        sa.Column('predecessor_ref', sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            'team_ref <> predecessor_ref', name=op.f('ck_team_lineage_not_its_own_predecessor')
        ),
        sa.CheckConstraint('from_season >= 1950', name=op.f('ck_team_lineage_season_known')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_team_lineage')),
        sa.UniqueConstraint(
            'team_ref', 'from_season', name=op.f('uq_team_lineage_team_ref_from_season')
        ),
    )


def downgrade() -> None:
    op.drop_table('team_lineage')
