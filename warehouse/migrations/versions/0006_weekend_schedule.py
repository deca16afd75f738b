"""weekend schedule: sprint qualifying times, the alias a stored prediction was made under

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('races') as batch:
        batch.add_column(sa.Column('sprint_quali_date', sa.Date(), nullable=True))
        batch.add_column(sa.Column('sprint_quali_time', sa.Time(), nullable=True))
    with op.batch_alter_table('predictions') as batch:
        batch.add_column(sa.Column('alias', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('predictions') as batch:
        batch.drop_column('alias')
    with op.batch_alter_table('races') as batch:
        batch.drop_column('sprint_quali_time')
        batch.drop_column('sprint_quali_date')
