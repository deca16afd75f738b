"""market types named by the prediction spec (spec.MARKETS), checked in code: the CHECK
constraint listing them is dropped, so adding a market needs no migration

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 21:40:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('bot_quotes') as batch:
        batch.drop_constraint(op.f('ck_bot_quotes_market_type_known'), type_='check')


def downgrade() -> None:
    with op.batch_alter_table('bot_quotes') as batch:
        batch.create_check_constraint(
            'market_type_known',
            "market_type IN ('winner', 'podium', 'top6', 'points', 'h2h', 'drivers_title', "
            "'constructors_title', 'unmapped')",
        )
