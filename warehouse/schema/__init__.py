"""The warehouse schema: every table the platform stores (SQLAlchemy 2.0, typed)."""

from warehouse.schema.base import ROLES, STAGES, Base
from warehouse.schema.bot import BotCycle, BotDecision, BotMarket, BotPosition, BotState, BotTrade
from warehouse.schema.models import ModelEvent
from warehouse.schema.operations import TASK_STATES, PipelineStatus
from warehouse.schema.predictions import BASELINES, DriftCheck, Prediction, PredictionAccuracy
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
from warehouse.schema.recipes import (
    DIETARY_TAGS,
    DIFFICULTIES,
    Recipe,
    RecipeIngredient,
    RecipeStep,
    RecipeTag,
)
from warehouse.schema.users import User
from warehouse.schema.voting import (
    AuditEntry,
    Ballot,
    BallotChoice,
    Candidate,
    Election,
    Member,
    OutboxMessage,
    Participation,
    Position,
    SignInCode,
)

__all__ = [
    "DIETARY_TAGS",
    "DIFFICULTIES",
    "BASELINES",
    "DriftCheck",
    "ROLES",
    "TASK_STATES",
    "AuditEntry",
    "BotCycle",
    "BotDecision",
    "BotMarket",
    "BotPosition",
    "BotState",
    "BotTrade",
    "Ballot",
    "BallotChoice",
    "Candidate",
    "Election",
    "Member",
    "OutboxMessage",
    "Participation",
    "PipelineStatus",
    "Position",
    "Recipe",
    "RecipeIngredient",
    "RecipeStep",
    "RecipeTag",
    "SignInCode",
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
