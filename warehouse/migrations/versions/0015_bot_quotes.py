"""every price the Polymarket bot reads, for the market benchmark; the type of each market
(and a title market's season and team)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'bot_quotes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cycle_id', sa.Integer(), nullable=False),
        sa.Column('market_id', sa.String(length=32), nullable=False),
        sa.Column('market_type', sa.String(length=24), nullable=False),
        sa.Column('race_id', sa.Integer(), nullable=True),
        sa.Column('season', sa.Integer(), nullable=True),
        sa.Column('driver_ref', sa.String(length=64), nullable=True),
        sa.Column('team_ref', sa.String(length=64), nullable=True),
        sa.Column('price', sa.Float(), nullable=False),
        sa.Column('best_bid', sa.Float(), nullable=True),
        sa.Column('best_ask', sa.Float(), nullable=True),
        sa.Column('mid', sa.Float(), nullable=True),
        sa.Column('source', sa.String(length=8), nullable=False),
        sa.Column('probability', sa.Float(), nullable=True),
        sa.Column('model', sa.String(length=64), nullable=True),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "market_type IN ('winner', 'podium', 'top6', 'points', 'h2h', 'drivers_title', "
            "'constructors_title', 'unmapped')", name=op.f('ck_bot_quotes_market_type_known')
        ),
        sa.CheckConstraint('price >= 0 AND price <= 1', name=op.f('ck_bot_quotes_price_range')),
        sa.CheckConstraint(
            '(best_bid IS NULL OR (best_bid >= 0 AND best_bid <= 1)) AND '
            '(best_ask IS NULL OR (best_ask >= 0 AND best_ask <= 1))',
            name=op.f('ck_bot_quotes_quotes_range'),
        ),
        sa.ForeignKeyConstraint(
            ['cycle_id'], ['bot_cycles.id'], name=op.f('fk_bot_quotes_cycle_id_bot_cycles')
        ),
        sa.ForeignKeyConstraint(['race_id'], ['races.id'], name=op.f('fk_bot_quotes_race_id_races')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bot_quotes')),
        sa.UniqueConstraint('cycle_id', 'market_id', name=op.f('uq_bot_quotes_cycle_id_market_id')),
    )
    op.create_index(op.f('ix_bot_quotes_cycle_id'), 'bot_quotes', ['cycle_id'], unique=False)
    op.create_index(op.f('ix_bot_quotes_race_id'), 'bot_quotes', ['race_id'], unique=False)
    op.create_index(op.f('ix_bot_quotes_seen_at'), 'bot_quotes', ['seen_at'], unique=False)
    with op.batch_alter_table('bot_markets') as batch:
        batch.add_column(
            sa.Column('market_type', sa.String(length=24), nullable=False, server_default='winner')
        )
        batch.add_column(sa.Column('season', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('team_ref', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bot_markets') as batch:
        batch.drop_column('team_ref')
        batch.drop_column('season')
        batch.drop_column('market_type')
    op.drop_index(op.f('ix_bot_quotes_seen_at'), table_name='bot_quotes')
    op.drop_index(op.f('ix_bot_quotes_race_id'), table_name='bot_quotes')
    op.drop_index(op.f('ix_bot_quotes_cycle_id'), table_name='bot_quotes')
    op.drop_table('bot_quotes')
