"""The view's columns about the race's own weekend, each group carried by the stages whose
spec lists it: `weather` (the forecast as of the stage's cut-off), `practice` (this weekend's
practice before qualifying: feature_store/practice.py) and `qualifying` (the grid and the
sprint)."""

from __future__ import annotations

from feature_store.feature import Feature

PRACTICE_AS_OF = "this weekend's sessions before qualifying"
TEAM_CONVERSION_AS_OF = "the team's last 5 races before this one with practice and qualifying"

_DECLARED: tuple[Feature, ...] = (
    Feature(
        "air_temperature_c",
        "mean air temperature in the race's first three hours",
        "°C",
        "forecast before the race, observation after",
        "weather",
        nullable=True,
        low=-20,
        high=55,
    ),
    Feature(
        "precipitation_mm",
        "rain in the race's first three hours",
        "mm",
        "forecast before the race, observation after",
        "weather",
        nullable=True,
        low=0,
        high=200,
    ),
    Feature(
        "wet",
        "1 when any hour of the window had ≥ 0.1 mm of rain",
        "flag 0/1",
        "forecast before the race, observation after",
        "weather",
        nullable=True,
        low=0,
        high=1,
    ),
    Feature(
        "grid",
        "qualifying position (the provisional grid; penalties are not known before the race);"
        " an entrant without one is placed at the back",
        "position",
        "this race's qualifying",
        "qualifying",
        low=1,
        high=60,
    ),
    # Real history goes past 1000 % (Barrichello, Imola 1994, after his Friday crash): the
    # bound says what a recorded lap can be, not what is usual.
    Feature(
        "quali_gap_pct",
        "best qualifying lap's gap to the pole lap",
        "% of pole time",
        "this race's qualifying",
        "qualifying",
        nullable=True,
        low=0,
        high=2000,
    ),
    Feature(
        "team_elo_agreement",
        "how well the carried team ratings agree with this race's qualifying: Spearman's"
        " correlation between the entrants' team_elo and their qualifying order (1: the grid is"
        " in rating order; none with fewer than 4 on the grid)",
        "correlation −1–1",
        "this race's qualifying",
        "qualifying",
        nullable=True,
        low=-1,
        high=1,
    ),
    Feature(
        "sprint_finish",
        "finishing order in this weekend's sprint",
        "position",
        "this weekend's sprint",
        "qualifying",
        nullable=True,
        low=1,
        high=30,
    ),
    Feature(
        "fp_gap_pct",
        "best practice lap's gap to the session's best, per session, combined over the"
        " sessions before qualifying (the last counts most: SESSION_WEIGHTS)",
        "% of the session's best",
        PRACTICE_AS_OF,
        "practice",
        nullable=True,
        low=0,
        high=10,
    ),
    Feature(
        "fp_last_gap_pct",
        "best lap's gap to the best in the last practice session before qualifying",
        "% of the session's best",
        PRACTICE_AS_OF,
        "practice",
        nullable=True,
        low=0,
        high=10,
    ),
    Feature(
        "fp_order",
        "place by best lap in the last practice session before qualifying",
        "position",
        PRACTICE_AS_OF,
        "practice",
        nullable=True,
        low=1,
        high=60,
    ),
    Feature(
        "fp_laps",
        "laps run in the practice sessions before qualifying (often unknown before 2006)",
        "laps",
        PRACTICE_AS_OF,
        "practice",
        nullable=True,
        low=0,
        high=400,
    ),
    Feature(
        "team_fp_gap_pct",
        "the team's best car's combined practice gap (fp_gap_pct)",
        "% of the session's best",
        PRACTICE_AS_OF,
        "practice",
        nullable=True,
        low=0,
        high=10,
    ),
    Feature(
        "team_fp_conversion",
        "how the team's best car's qualifying gap compared with its practice gap, mean over"
        " its last 5 races (negative: it qualifies nearer the front than its practice said)",
        "points of %",
        TEAM_CONVERSION_AS_OF,
        "practice",
        nullable=True,
        low=-10,
        high=10,
    ),
    Feature(
        "sprint_before_quali",
        "finishing order in this weekend's sprint when it ran before qualifying (2024 format)",
        "position",
        "this weekend's sprint, when before qualifying",
        "practice",
        nullable=True,
        low=1,
        high=30,
    ),
)
GROUPS = ("weather", "practice", "qualifying")  # in the order of the weekend
WEEKEND: tuple[Feature, ...] = tuple(sorted(_DECLARED, key=lambda f: GROUPS.index(f.group)))
