"""free-practice classifications (FP1–FP4) of the bundled history: practice_results

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'practice_results',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('race_id', sa.Integer(), nullable=False),
        sa.Column('session', sa.Integer(), nullable=False),
        sa.Column('driver_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=True),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('time_text', sa.String(length=16), nullable=True),
        sa.Column('milliseconds', sa.Integer(), nullable=True),
        sa.Column('laps', sa.Integer(), nullable=True),
        sa.CheckConstraint('session BETWEEN 1 AND 4', name=op.f('ck_practice_results_session_known')),
        sa.CheckConstraint('position >= 1', name=op.f('ck_practice_results_position_positive')),
        sa.CheckConstraint(
            'milliseconds IS NULL OR milliseconds > 0', name=op.f('ck_practice_results_lap_positive')
        ),
        sa.CheckConstraint(
            'laps IS NULL OR laps >= 0', name=op.f('ck_practice_results_laps_not_negative')
        ),
        sa.ForeignKeyConstraint(
            ['driver_id'], ['drivers.id'], name=op.f('fk_practice_results_driver_id_drivers')
        ),
        sa.ForeignKeyConstraint(
            ['race_id'], ['races.id'], name=op.f('fk_practice_results_race_id_races')
        ),
        sa.ForeignKeyConstraint(
            ['team_id'], ['teams.id'], name=op.f('fk_practice_results_team_id_teams')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_results')),
        sa.UniqueConstraint(
            'race_id', 'session', 'driver_id',
            name=op.f('uq_practice_results_race_id_session_driver_id'),
        ),
    )
    op.create_index(
        op.f('ix_practice_results_driver_id'), 'practice_results', ['driver_id'], unique=False
    )
    op.create_index(
        op.f('ix_practice_results_team_id'), 'practice_results', ['team_id'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_practice_results_team_id'), table_name='practice_results')
    op.drop_index(op.f('ix_practice_results_driver_id'), table_name='practice_results')
    op.drop_table('practice_results')
