"""race results indexed by (race, driver): the feature build's pit-stop join read every
result of the driver (0.8 s on the bundled history; 0.03 s with the index)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 15:45:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_race_results_race_id_driver_id', 'race_results', ['race_id', 'driver_id'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_race_results_race_id_driver_id', table_name='race_results')
