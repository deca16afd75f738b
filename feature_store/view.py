"""The feature view `race_entry_features_v1`: one row per (race, driver, stage).

Stages: `pre_quali`, only what was known before the race weekend (every earlier race);
`post_practice`, which adds this weekend's practice before qualifying; and `post_quali`, which
adds this race's qualifying, its sprint when the weekend had one (both are run before the
race), i.e. what is known at the start of the race. A race's own result is
never a feature of it. Entrants are the drivers on the race's qualifying list and the season's
line-up (feature_store/build.py `race_entrants`: a driver without a qualifying lap still races).
"""

from __future__ import annotations

from feature_store.feature import BEFORE, SEASON_BEFORE, Feature
from feature_store.weekend_view import WEEKEND
from spec import stage as spec_stage

VIEW = "race_entry_features"
VERSION = 1
NAME = f"{VIEW}_v{VERSION}"
KEY = ("race_id", "driver_id", "stage")
IDENTITY = ("season", "round", "race_id", "driver_id", "driver_ref", "team_id", "team_ref")

HISTORY: tuple[Feature, ...] = (
    Feature(
        "driver_elo",
        "driver's multi-competitor ELO rating (see feature_store/elo.py)",
        "ELO points",
        BEFORE,
        low=500,
        high=3000,
    ),
    Feature(
        "team_elo",
        "team's ELO, rated on the best-placed car of each race; a renamed team keeps its"
        " predecessor's (TEAM_LINEAGE), a new team starts where earlier newcomers stood after"
        " their first season",
        "ELO points",
        BEFORE,
        low=500,
        high=3000,
    ),
    Feature(
        "team_elo_era",
        "the team's ELO within the current technical era: as team_elo, but every team starts"
        " level again in a season of ERA_STARTS (the cars start afresh)",
        "ELO points",
        BEFORE,
        low=500,
        high=3000,
    ),
    Feature(
        "driver_skill",
        "driver's rating from duels with his teammates only (the car cancels out); ELO, K=32,"
        " pulled 10 % toward 1500 each winter",
        "ELO points",
        BEFORE,
        low=500,
        high=3000,
    ),
    Feature("driver_starts", "races the driver started before", "races", BEFORE, low=0, high=500),
    Feature(
        "form3_finish",
        "mean finishing order over the driver's last 3 races",
        "position",
        BEFORE,
        nullable=True,
        low=1,
        high=60,
    ),
    Feature(
        "form3_points",
        "mean points over the last 3 races",
        "points",
        BEFORE,
        nullable=True,
        low=0,
        high=60,
    ),
    Feature(
        "form3_dnf",
        "share of the last 3 races not classified",
        "ratio 0–1",
        BEFORE,
        nullable=True,
        low=0,
        high=1,
    ),
    Feature(
        "form5_finish",
        "mean finishing order over the last 5 races",
        "position",
        BEFORE,
        nullable=True,
        low=1,
        high=60,
    ),
    Feature(
        "form5_points",
        "mean points over the last 5 races",
        "points",
        BEFORE,
        nullable=True,
        low=0,
        high=60,
    ),
    Feature(
        "form5_dnf",
        "share of the last 5 races not classified",
        "ratio 0–1",
        BEFORE,
        nullable=True,
        low=0,
        high=1,
    ),
    Feature(
        "season_points",
        "driver's championship points before this race (official table)",
        "points",
        SEASON_BEFORE,
        low=0,
        high=700,
    ),
    Feature(
        "championship_position",
        "driver's place in the championship before this race",
        "position",
        SEASON_BEFORE,
        nullable=True,
        low=1,
        high=100,
    ),
    Feature(
        "circuit_starts",
        "the driver's earlier races at this circuit",
        "races",
        BEFORE,
        low=0,
        high=60,
    ),
    Feature(
        "circuit_mean_finish",
        "the driver's mean finishing order at this circuit",
        "position",
        BEFORE,
        nullable=True,
        low=1,
        high=60,
    ),
    Feature("circuit_wins", "the driver's wins at this circuit", "wins", BEFORE, low=0, high=20),
    Feature(
        "team_circuit_mean_finish",
        "the team's mean best-car finish at this circuit",
        "position",
        BEFORE,
        nullable=True,
        low=1,
        high=60,
    ),
    Feature("team_circuit_wins", "the team's wins at this circuit", "wins", BEFORE, low=0, high=60),
    Feature(
        "teammate_h2h",
        "share of this season's races the driver finished ahead of his teammate(s)",
        "ratio 0–1",
        SEASON_BEFORE,
        nullable=True,
        low=0,
        high=1,
    ),
    Feature(
        "quali_pace3",
        "mean qualifying gap to pole over the driver's last 3 qualifyings (car and driver pace;"
        " each gap capped at 10 %)",
        "% of pole time",
        BEFORE,
        nullable=True,
        low=0,
        high=10,
    ),
    Feature(
        "team_quali_pace3",
        "mean qualifying gap to pole of the team's best car over its last 3 qualifyings (car pace)",
        "% of pole time",
        BEFORE,
        nullable=True,
        low=0,
        high=10,
    ),
    Feature(
        "team_season_gap",
        "mean qualifying gap to pole of the team's best car over this season's earlier races"
        " (each gap capped at 10 %; none before the team's first qualifying of the season)",
        "% of pole time",
        SEASON_BEFORE,
        nullable=True,
        low=0,
        high=10,
    ),
    Feature(
        "teammate_quali_gap5",
        "mean qualifying gap to the teammate(s) over the driver's last 5 qualifyings (driver"
        " pace in the same car; negative: faster)",
        "% of pole time",
        BEFORE,
        nullable=True,
        low=-10,
        high=10,
    ),
    Feature(
        "team_pit_delta3",
        "the team's median pit stop against the race's median stop, mean over its last 3 races"
        " with stops (negative: quicker; recorded from 1994; stops over 2 minutes left out)",
        "seconds",
        BEFORE,
        nullable=True,
        low=-120,
        high=120,
    ),
    Feature(
        "race_pace3",
        "race pace: the driver's median clean lap against the race's fastest, mean over his last"
        " 3 races with lap times (the API has them from 1996; the bundled history has none)",
        "% of the fastest median lap",
        BEFORE,
        nullable=True,
        low=0,
        high=10,
    ),
    Feature(
        "round_number",
        "round number in the season",
        "round",
        "the calendar",
        "calendar",
        low=1,
        high=30,
    ),
    Feature(
        "races_left",
        "races of the season after this one",
        "races",
        "the calendar",
        "calendar",
        low=0,
        high=30,
    ),
    Feature(
        "street_circuit",
        "1 when the circuit is a street or park circuit (STREET_CIRCUITS)",
        "flag 0/1",
        "the calendar",
        "calendar",
        low=0,
        high=1,
    ),
    Feature(
        "era_opening",
        "1 at round 1 of a season that opens a new technical era (ERA_STARTS), falling linearly"
        " to 0 by round 11; 0 in every other race",
        "weight 0–1",
        "the calendar",
        "calendar",
        low=0,
        high=1,
    ),
)
FEATURES: tuple[Feature, ...] = (*HISTORY, *WEEKEND)


def features(stage: str) -> tuple[Feature, ...]:
    """The features of `stage`, in column order."""
    known = spec_stage(stage)  # UnknownName (a ValueError) names the choices
    return tuple(f for f in FEATURES if known.uses(f.group))


def feature_names(stage: str) -> list[str]:
    """The feature column names of `stage`."""
    return [f.name for f in features(stage)]
