"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 00:37:18.378910
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "circuits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("locality", sa.String(length=128), nullable=True),
        sa.Column("country", sa.String(length=64), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("alt", sa.Float(), nullable=True),
        sa.Column("url", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_circuits")),
        sa.UniqueConstraint("ref", name=op.f("uq_circuits_ref")),
    )
    op.create_table(
        "drivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=8), nullable=True),
        sa.Column("forename", sa.String(length=64), nullable=False),
        sa.Column("surname", sa.String(length=64), nullable=False),
        sa.Column("dob", sa.Date(), nullable=True),
        sa.Column("nationality", sa.String(length=64), nullable=True),
        sa.Column("url", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drivers")),
        sa.UniqueConstraint("ref", name=op.f("uq_drivers_ref")),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("nationality", sa.String(length=64), nullable=True),
        sa.Column("url", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("ref", name=op.f("uq_teams_ref")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('viewer', 'analyst', 'editor', 'admin')", name=op.f("ck_users_role_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "races",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("circuit_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("time", sa.Time(), nullable=True),
        sa.Column("url", sa.String(length=256), nullable=True),
        sa.Column("fp1_date", sa.Date(), nullable=True),
        sa.Column("fp1_time", sa.Time(), nullable=True),
        sa.Column("fp2_date", sa.Date(), nullable=True),
        sa.Column("fp2_time", sa.Time(), nullable=True),
        sa.Column("fp3_date", sa.Date(), nullable=True),
        sa.Column("fp3_time", sa.Time(), nullable=True),
        sa.Column("quali_date", sa.Date(), nullable=True),
        sa.Column("quali_time", sa.Time(), nullable=True),
        sa.Column("sprint_date", sa.Date(), nullable=True),
        sa.Column("sprint_time", sa.Time(), nullable=True),
        sa.CheckConstraint("round >= 1", name=op.f("ck_races_round_positive")),
        sa.ForeignKeyConstraint(
            ["circuit_id"], ["circuits.id"], name=op.f("fk_races_circuit_id_circuits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_races")),
        sa.UniqueConstraint("season", "round", name=op.f("uq_races_season_round")),
    )
    with op.batch_alter_table("races", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_races_circuit_id"), ["circuit_id"], unique=False)

    op.create_table(
        "constructor_standings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("race_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("position_text", sa.String(length=8), nullable=False),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "points >= 0", name=op.f("ck_constructor_standings_points_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["race_id"], ["races.id"], name=op.f("fk_constructor_standings_race_id_races")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_constructor_standings_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_constructor_standings")),
        sa.UniqueConstraint(
            "race_id", "team_id", name=op.f("uq_constructor_standings_race_id_team_id")
        ),
    )
    with op.batch_alter_table("constructor_standings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_constructor_standings_team_id"), ["team_id"], unique=False
        )

    op.create_table(
        "driver_standings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("race_id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("position_text", sa.String(length=8), nullable=False),
        sa.Column("wins", sa.Integer(), nullable=False),
        sa.CheckConstraint("points >= 0", name=op.f("ck_driver_standings_points_not_negative")),
        sa.ForeignKeyConstraint(
            ["driver_id"], ["drivers.id"], name=op.f("fk_driver_standings_driver_id_drivers")
        ),
        sa.ForeignKeyConstraint(
            ["race_id"], ["races.id"], name=op.f("fk_driver_standings_race_id_races")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_driver_standings")),
        sa.UniqueConstraint(
            "race_id", "driver_id", name=op.f("uq_driver_standings_race_id_driver_id")
        ),
    )
    with op.batch_alter_table("driver_standings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_driver_standings_driver_id"), ["driver_id"], unique=False
        )

    op.create_table(
        "pit_stops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("race_id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("stop", sa.Integer(), nullable=False),
        sa.Column("lap", sa.Integer(), nullable=False),
        sa.Column("time_of_day", sa.Time(), nullable=True),
        sa.Column("duration", sa.String(length=16), nullable=True),
        sa.Column("milliseconds", sa.Integer(), nullable=True),
        sa.CheckConstraint("stop >= 1", name=op.f("ck_pit_stops_stop_positive")),
        sa.ForeignKeyConstraint(
            ["driver_id"], ["drivers.id"], name=op.f("fk_pit_stops_driver_id_drivers")
        ),
        sa.ForeignKeyConstraint(["race_id"], ["races.id"], name=op.f("fk_pit_stops_race_id_races")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pit_stops")),
        sa.UniqueConstraint(
            "race_id", "driver_id", "stop", name=op.f("uq_pit_stops_race_id_driver_id_stop")
        ),
    )
    with op.batch_alter_table("pit_stops", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pit_stops_driver_id"), ["driver_id"], unique=False)

    op.create_table(
        "prediction_accuracy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("race_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("log_loss", sa.Float(), nullable=False),
        sa.Column("brier", sa.Float(), nullable=False),
        sa.Column("top1", sa.Boolean(), nullable=False),
        sa.Column("top3", sa.Boolean(), nullable=False),
        sa.Column("entrants", sa.Integer(), nullable=False),
        sa.Column(
            "scored_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "stage IN ('pre_quali', 'post_quali')", name=op.f("ck_prediction_accuracy_stage_known")
        ),
        sa.CheckConstraint(
            "brier >= 0 AND brier <= 2", name=op.f("ck_prediction_accuracy_brier_range")
        ),
        sa.CheckConstraint(
            "log_loss >= 0", name=op.f("ck_prediction_accuracy_log_loss_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["race_id"], ["races.id"], name=op.f("fk_prediction_accuracy_race_id_races")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prediction_accuracy")),
        sa.UniqueConstraint(
            "race_id",
            "stage",
            "model_name",
            "model_version",
            name=op.f("uq_prediction_accuracy_race_id_stage_model_name_model_version"),
        ),
    )
    with op.batch_alter_table("prediction_accuracy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prediction_accuracy_race_id"), ["race_id"], unique=False
        )

    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("race_id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("model_version", sa.String(length=32), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "stage IN ('pre_quali', 'post_quali')", name=op.f("ck_predictions_stage_known")
        ),
        sa.CheckConstraint(
            "probability >= 0 AND probability <= 1", name=op.f("ck_predictions_probability_range")
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"], ["drivers.id"], name=op.f("fk_predictions_driver_id_drivers")
        ),
        sa.ForeignKeyConstraint(
            ["race_id"], ["races.id"], name=op.f("fk_predictions_race_id_races")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_predictions")),
        sa.UniqueConstraint(
            "race_id",
            "driver_id",
            "stage",
            "model_name",
            "model_version",
            name=op.f("uq_predictions_race_id_driver_id_stage_model_name_model_version"),
        ),
    )
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_predictions_race_id"), ["race_id"], unique=False)

    op.create_table(
        "qualifying_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("race_id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("q1", sa.String(length=16), nullable=True),
        sa.Column("q2", sa.String(length=16), nullable=True),
        sa.Column("q3", sa.String(length=16), nullable=True),
        sa.CheckConstraint("position >= 1", name=op.f("ck_qualifying_results_position_positive")),
        sa.ForeignKeyConstraint(
            ["driver_id"], ["drivers.id"], name=op.f("fk_qualifying_results_driver_id_drivers")
        ),
        sa.ForeignKeyConstraint(
            ["race_id"], ["races.id"], name=op.f("fk_qualifying_results_race_id_races")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_qualifying_results_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualifying_results")),
        sa.UniqueConstraint(
            "race_id", "driver_id", name=op.f("uq_qualifying_results_race_id_driver_id")
        ),
    )
    with op.batch_alter_table("qualifying_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_qualifying_results_driver_id"), ["driver_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_qualifying_results_team_id"), ["team_id"], unique=False
        )

    op.create_table(
        "race_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fastest_lap_rank", sa.Integer(), nullable=True),
        sa.Column("fastest_lap_speed", sa.Float(), nullable=True),
        sa.Column("race_id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("grid", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("position_text", sa.String(length=8), nullable=False),
        sa.Column("position_order", sa.Integer(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("laps", sa.Integer(), nullable=False),
        sa.Column("time_text", sa.String(length=32), nullable=True),
        sa.Column("milliseconds", sa.Integer(), nullable=True),
        sa.Column("fastest_lap", sa.Integer(), nullable=True),
        sa.Column("fastest_lap_time", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.CheckConstraint("grid >= 0", name=op.f("ck_race_results_grid_not_negative")),
        sa.CheckConstraint("laps >= 0", name=op.f("ck_race_results_laps_not_negative")),
        sa.CheckConstraint("points >= 0", name=op.f("ck_race_results_points_not_negative")),
        sa.CheckConstraint(
            "position IS NULL OR position >= 1", name=op.f("ck_race_results_position_positive")
        ),
        sa.CheckConstraint("position_order >= 1", name=op.f("ck_race_results_order_positive")),
        sa.ForeignKeyConstraint(
            ["driver_id"], ["drivers.id"], name=op.f("fk_race_results_driver_id_drivers")
        ),
        sa.ForeignKeyConstraint(
            ["race_id"], ["races.id"], name=op.f("fk_race_results_race_id_races")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_race_results_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_race_results")),
        sa.UniqueConstraint(
            "race_id", "position_order", name=op.f("uq_race_results_race_id_position_order")
        ),
    )
    with op.batch_alter_table("race_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_race_results_driver_id"), ["driver_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_race_results_team_id"), ["team_id"], unique=False)

    op.create_table(
        "sprint_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("race_id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("grid", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("position_text", sa.String(length=8), nullable=False),
        sa.Column("position_order", sa.Integer(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("laps", sa.Integer(), nullable=False),
        sa.Column("time_text", sa.String(length=32), nullable=True),
        sa.Column("milliseconds", sa.Integer(), nullable=True),
        sa.Column("fastest_lap", sa.Integer(), nullable=True),
        sa.Column("fastest_lap_time", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.CheckConstraint("grid >= 0", name=op.f("ck_sprint_results_grid_not_negative")),
        sa.CheckConstraint("laps >= 0", name=op.f("ck_sprint_results_laps_not_negative")),
        sa.CheckConstraint("points >= 0", name=op.f("ck_sprint_results_points_not_negative")),
        sa.CheckConstraint(
            "position IS NULL OR position >= 1", name=op.f("ck_sprint_results_position_positive")
        ),
        sa.CheckConstraint("position_order >= 1", name=op.f("ck_sprint_results_order_positive")),
        sa.ForeignKeyConstraint(
            ["driver_id"], ["drivers.id"], name=op.f("fk_sprint_results_driver_id_drivers")
        ),
        sa.ForeignKeyConstraint(
            ["race_id"], ["races.id"], name=op.f("fk_sprint_results_race_id_races")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_sprint_results_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sprint_results")),
        sa.UniqueConstraint(
            "race_id", "position_order", name=op.f("uq_sprint_results_race_id_position_order")
        ),
    )
    with op.batch_alter_table("sprint_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sprint_results_driver_id"), ["driver_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sprint_results_team_id"), ["team_id"], unique=False)

    op.create_table(
        "weather",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("race_id", sa.Integer(), nullable=False),
        sa.Column("air_temperature_c", sa.Float(), nullable=True),
        sa.Column("precipitation_mm", sa.Float(), nullable=True),
        sa.Column("wind_speed_kmh", sa.Float(), nullable=True),
        sa.Column("humidity_pct", sa.Float(), nullable=True),
        sa.Column("condition", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "condition IN ('dry', 'wet', 'mixed')", name=op.f("ck_weather_condition_known")
        ),
        sa.CheckConstraint(
            "humidity_pct IS NULL OR humidity_pct BETWEEN 0 AND 100",
            name=op.f("ck_weather_humidity"),
        ),
        sa.CheckConstraint(
            "precipitation_mm IS NULL OR precipitation_mm >= 0", name=op.f("ck_weather_rain")
        ),
        sa.ForeignKeyConstraint(["race_id"], ["races.id"], name=op.f("fk_weather_race_id_races")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weather")),
        sa.UniqueConstraint("race_id", name=op.f("uq_weather_race_id")),
    )


def downgrade() -> None:
    op.drop_table("weather")
    with op.batch_alter_table("sprint_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sprint_results_team_id"))
        batch_op.drop_index(batch_op.f("ix_sprint_results_driver_id"))

    op.drop_table("sprint_results")
    with op.batch_alter_table("race_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_race_results_team_id"))
        batch_op.drop_index(batch_op.f("ix_race_results_driver_id"))

    op.drop_table("race_results")
    with op.batch_alter_table("qualifying_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qualifying_results_team_id"))
        batch_op.drop_index(batch_op.f("ix_qualifying_results_driver_id"))

    op.drop_table("qualifying_results")
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_predictions_race_id"))

    op.drop_table("predictions")
    with op.batch_alter_table("prediction_accuracy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prediction_accuracy_race_id"))

    op.drop_table("prediction_accuracy")
    with op.batch_alter_table("pit_stops", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pit_stops_driver_id"))

    op.drop_table("pit_stops")
    with op.batch_alter_table("driver_standings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_driver_standings_driver_id"))

    op.drop_table("driver_standings")
    with op.batch_alter_table("constructor_standings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_constructor_standings_team_id"))

    op.drop_table("constructor_standings")
    with op.batch_alter_table("races", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_races_circuit_id"))

    op.drop_table("races")
    op.drop_table("users")
    op.drop_table("teams")
    op.drop_table("drivers")
    op.drop_table("circuits")
