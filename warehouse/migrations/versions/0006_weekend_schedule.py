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


# Plain ADD/DROP COLUMN (SQLite ≥ 3.35 has both): a batch copy of `races` would trip the
# foreign keys that point at it once the warehouse holds data.
def upgrade() -> None:
    op.add_column('races', sa.Column('sprint_quali_date', sa.Date(), nullable=True))
    op.add_column('races', sa.Column('sprint_quali_time', sa.Time(), nullable=True))
    op.add_column('predictions', sa.Column('alias', sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column('predictions', 'alias')
    op.drop_column('races', 'sprint_quali_time')
    op.drop_column('races', 'sprint_quali_date')
