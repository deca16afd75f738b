"""stages named by the prediction spec (spec/), checked in code: the CHECK constraints listing
them are dropped, so adding a stage needs no migration

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 18:30:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('predictions', 'prediction_accuracy', 'drift_checks')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f'ck_{table}_stage_known'), type_='check')


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.create_check_constraint(
                'stage_known', "stage IN ('pre_quali', 'post_quali')"
            )
