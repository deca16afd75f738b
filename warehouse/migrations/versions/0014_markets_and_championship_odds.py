"""the finishing-order markets stored before each race and scored after it, and the
championship odds stored after each race

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'market_predictions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('race_id', sa.Integer(), nullable=False),
        sa.Column('driver_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=16), nullable=False),
        sa.Column('model_name', sa.String(length=128), nullable=False),
        sa.Column('model_version', sa.String(length=32), nullable=False),
        sa.Column('winner_version', sa.String(length=32), nullable=False),
        sa.Column('win', sa.Float(), nullable=False),
        sa.Column('podium', sa.Float(), nullable=False),
        sa.Column('top6', sa.Float(), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('dnf', sa.Float(), nullable=False),
        sa.Column('expected_points', sa.Float(), nullable=False),
        sa.Column('teammate_ahead', sa.Float(), nullable=True),
        sa.Column('positions', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('alias', sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            'win >= 0 AND win <= 1 AND podium >= 0 AND podium <= 1 AND top6 >= 0 AND top6 <= 1'
            ' AND points >= 0 AND points <= 1 AND dnf >= 0 AND dnf <= 1',
            name=op.f('ck_market_predictions_probabilities_range'),
        ),
        sa.ForeignKeyConstraint(
            ['driver_id'], ['drivers.id'], name=op.f('fk_market_predictions_driver_id_drivers')
        ),
        sa.ForeignKeyConstraint(
            ['race_id'], ['races.id'], name=op.f('fk_market_predictions_race_id_races')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_market_predictions')),
        sa.UniqueConstraint(
            'race_id', 'driver_id', 'stage', 'model_name', 'model_version',
            name=op.f('uq_market_predictions_race_id_driver_id_stage_model_name_model_version'),
        ),
    )
    op.create_index(
        op.f('ix_market_predictions_race_id'), 'market_predictions', ['race_id'], unique=False
    )
    op.create_table(
        'market_accuracy',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('race_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=16), nullable=False),
        sa.Column('model_name', sa.String(length=128), nullable=False),
        sa.Column('model_version', sa.String(length=32), nullable=False),
        sa.Column('market', sa.String(length=16), nullable=False),
        sa.Column('log_loss', sa.Float(), nullable=False),
        sa.Column('brier', sa.Float(), nullable=False),
        sa.Column('rps', sa.Float(), nullable=True),
        sa.Column('events', sa.Integer(), nullable=False),
        sa.Column(
            'scored_at',
            sa.DateTime(timezone=True),
            server_default=sa.text('(CURRENT_TIMESTAMP)'),
            nullable=False,
        ),
        sa.CheckConstraint('log_loss >= 0', name=op.f('ck_market_accuracy_log_loss_not_negative')),
        sa.CheckConstraint('brier >= 0 AND brier <= 2', name=op.f('ck_market_accuracy_brier_range')),
        sa.ForeignKeyConstraint(
            ['race_id'], ['races.id'], name=op.f('fk_market_accuracy_race_id_races')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_market_accuracy')),
        sa.UniqueConstraint(
            'race_id', 'stage', 'model_name', 'model_version', 'market',
            name=op.f('uq_market_accuracy_race_id_stage_model_name_model_version_market'),
        ),
    )
    op.create_index(
        op.f('ix_market_accuracy_race_id'), 'market_accuracy', ['race_id'], unique=False
    )
    op.create_table(
        'championship_odds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('season', sa.Integer(), nullable=False),
        sa.Column('after_round', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('ref', sa.String(length=64), nullable=False),
        sa.Column('p_title', sa.Float(), nullable=False),
        sa.Column('expected_points', sa.Float(), nullable=False),
        sa.Column('points', sa.Float(), nullable=False),
        sa.Column('seasons', sa.Integer(), nullable=False),
        sa.Column('winner_model', sa.String(length=160), nullable=False),
        sa.Column('order_model', sa.String(length=160), nullable=False),
        sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('driver', 'constructor')", name=op.f('ck_championship_odds_kind_known')
        ),
        sa.CheckConstraint(
            'p_title >= 0 AND p_title <= 1', name=op.f('ck_championship_odds_p_title_range')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_championship_odds')),
        sa.UniqueConstraint(
            'season', 'after_round', 'kind', 'ref',
            name=op.f('uq_championship_odds_season_after_round_kind_ref'),
        ),
    )
    op.create_index(
        op.f('ix_championship_odds_season'), 'championship_odds', ['season'], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_championship_odds_season'), table_name='championship_odds')
    op.drop_table('championship_odds')
    op.drop_index(op.f('ix_market_accuracy_race_id'), table_name='market_accuracy')
    op.drop_table('market_accuracy')
    op.drop_index(op.f('ix_market_predictions_race_id'), table_name='market_predictions')
    op.drop_table('market_predictions')
