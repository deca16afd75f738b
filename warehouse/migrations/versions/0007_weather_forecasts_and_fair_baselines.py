"""weather rows with when they were known (forecasts kept apart from the observation); the
pre-qualifying baseline rows that knew the grid removed (rescored by the next scoring cycle)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# `weather` has no foreign key pointing at it, so SQLite's batch copy is safe here.
def upgrade() -> None:
    op.add_column('weather', sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE weather SET issued_at = fetched_at")
    with op.batch_alter_table('weather', schema=None) as batch_op:
        batch_op.alter_column('issued_at', nullable=False)
        batch_op.alter_column('source', type_=sa.String(length=24))
        batch_op.drop_constraint(batch_op.f('uq_weather_race_id'), type_='unique')
        batch_op.create_unique_constraint(
            batch_op.f('uq_weather_race_id_source_issued_at'), ['race_id', 'source', 'issued_at']
        )
        batch_op.create_index(batch_op.f('ix_weather_race_id'), ['race_id'], unique=False)
        batch_op.create_check_constraint(
            batch_op.f('ck_weather_source_known'),
            "source IN ('forecast', 'historical_forecast', 'archive')",
        )
    op.execute(
        "DELETE FROM prediction_accuracy "
        "WHERE model_name = 'baseline_grid' AND stage = 'pre_quali'"
    )


def downgrade() -> None:
    # one row per race again: its observation when there is one, else its latest forecast
    op.execute(
        "DELETE FROM weather WHERE id NOT IN ("
        " SELECT (SELECT w2.id FROM weather w2 WHERE w2.race_id = w.race_id"
        "  ORDER BY CASE w2.source WHEN 'archive' THEN 0 ELSE 1 END, w2.issued_at DESC"
        "  LIMIT 1) FROM weather w GROUP BY w.race_id)"
    )
    op.execute("UPDATE weather SET source = 'forecast' WHERE source = 'historical_forecast'")
    with op.batch_alter_table('weather', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_weather_source_known'), type_='check')
        batch_op.drop_index(batch_op.f('ix_weather_race_id'))
        batch_op.drop_constraint(batch_op.f('uq_weather_race_id_source_issued_at'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_weather_race_id'), ['race_id'])
        batch_op.alter_column('source', type_=sa.String(length=16))
        batch_op.drop_column('issued_at')
    op.execute(
        "DELETE FROM prediction_accuracy "
        "WHERE model_name = 'baseline_last_winner' AND stage = 'pre_quali'"
    )
