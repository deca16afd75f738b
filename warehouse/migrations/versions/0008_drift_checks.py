"""drift checks: each ingestion's next race against the training window, and the champion's
live log loss against its validation log loss

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'drift_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('race_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('subject', sa.String(length=160), nullable=False),
        sa.Column('statistic', sa.Float(), nullable=False),
        sa.Column('p_value', sa.Float(), nullable=True),
        sa.Column('threshold', sa.Float(), nullable=False),
        sa.Column('alert', sa.Boolean(), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('feature', 'live_log_loss')", name=op.f('ck_drift_checks_kind_known')
        ),
        sa.CheckConstraint(
            "stage IN ('pre_quali', 'post_quali')", name=op.f('ck_drift_checks_stage_known')
        ),
        sa.ForeignKeyConstraint(
            ['race_id'], ['races.id'], name=op.f('fk_drift_checks_race_id_races')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_drift_checks')),
        sa.UniqueConstraint(
            'race_id', 'stage', 'kind', 'subject',
            name=op.f('uq_drift_checks_race_id_stage_kind_subject'),
        ),
    )
    op.create_index(op.f('ix_drift_checks_race_id'), 'drift_checks', ['race_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_drift_checks_race_id'), table_name='drift_checks')
    op.drop_table('drift_checks')
