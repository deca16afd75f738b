"""The warehouse schema: every table the platform stores (SQLAlchemy 2.0, typed)."""

from warehouse.schema.base import ROLES, STAGES, Base
from warehouse.schema.models import ModelEvent
from warehouse.schema.predictions import Prediction, PredictionAccuracy
from warehouse.schema.racing import (
    Circuit,
    ConstructorStanding,
    Driver,
    DriverStanding,
    PitStop,
    QualifyingResult,
    Race,
    RaceResult,
    SprintResult,
    Team,
    WeatherData,
)
from warehouse.schema.users import User

__all__ = [
    "ROLES",
    "STAGES",
    "Base",
    "Circuit",
    "ConstructorStanding",
    "Driver",
    "DriverStanding",
    "ModelEvent",
    "PitStop",
    "Prediction",
    "PredictionAccuracy",
    "QualifyingResult",
    "Race",
    "RaceResult",
    "SprintResult",
    "Team",
    "User",
    "WeatherData",
]
