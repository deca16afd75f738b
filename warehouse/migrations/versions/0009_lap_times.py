"""lap times: each driver's laps of a race (the API's laps endpoint, 1996 on)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 13:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'lap_times',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('race_id', sa.Integer(), nullable=False),
        sa.Column('driver_id', sa.Integer(), nullable=False),
        sa.Column('lap', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=True),
        sa.Column('milliseconds', sa.Integer(), nullable=True),
        sa.CheckConstraint('lap >= 1', name=op.f('ck_lap_times_lap_positive')),
        sa.CheckConstraint(
            'milliseconds IS NULL OR milliseconds > 0', name=op.f('ck_lap_times_time_positive')
        ),
        sa.ForeignKeyConstraint(
            ['driver_id'], ['drivers.id'], name=op.f('fk_lap_times_driver_id_drivers')
        ),
        sa.ForeignKeyConstraint(['race_id'], ['races.id'], name=op.f('fk_lap_times_race_id_races')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lap_times')),
        sa.UniqueConstraint(
            'race_id', 'driver_id', 'lap', name=op.f('uq_lap_times_race_id_driver_id_lap')
        ),
    )
    op.create_index(op.f('ix_lap_times_driver_id'), 'lap_times', ['driver_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_lap_times_driver_id'), table_name='lap_times')
    op.drop_table('lap_times')
