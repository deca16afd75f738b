"""The conditional logit's inputs, each declared once: its words, the unit it is shown in and
how it is computed from a race's feature rows, compared within the race (a rating only matters
against the field). A stage's entry in the spec (`Stage.model.inputs`) says which it uses;
models/clogit.py fits them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from spec import stage as spec_stage

GAP_CAP = 10.0  # % of pole; slower laps (or none) count as 10 %
SEASON_EVIDENCE = 3.0  # earlier races of the season at which its pace counts half


class Race:
    """Feature rows of races, with each race's best of a column (`ufunc.at` on race codes:
    the service computes one race per request, where pandas' groupby costs milliseconds)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.codes, uniques = pd.factorize(frame["race_id"].to_numpy())
        self.races = len(uniques)

    def column(self, name: str) -> np.ndarray:
        return self.frame[name].to_numpy(dtype=float, na_value=np.nan)

    def best(self, values: np.ndarray, reduce: np.ufunc) -> np.ndarray:
        """Each row's race's max (np.fmax) or min (np.fmin), NaN ignored (NaN if all are)."""
        found = np.full(self.races, -np.inf if reduce is np.fmax else np.inf)
        reduce.at(found, self.codes, values)
        found[np.isinf(found)] = np.nan
        return found[self.codes]

    def vs_best(self, name: str, scale: float) -> np.ndarray:
        """The value against the race's highest (unknown: 0), in units of `scale`."""
        values = np.nan_to_num(self.column(name), nan=0.0)
        return (values - self.best(values, np.fmax)) / scale

    def behind_best(self, name: str) -> np.ndarray:
        """How far behind the race's lowest (lower is better; unknown: the field's worst, or
        GAP_CAP when nobody's is known)."""
        values = self.column(name)
        values = np.where(np.isnan(values), self.best(values, np.fmax), values)
        values = np.nan_to_num(values, nan=GAP_CAP)
        return values - self.best(values, np.fmin)

    def grid(self) -> np.ndarray:
        return np.clip(self.column("grid"), 1, None)

    def season_weight(self) -> np.ndarray:
        """How much this season's evidence counts: n / (n + SEASON_EVIDENCE), n the season's
        earlier races."""
        done = np.clip(self.column("round_number") - 1, 0, None)
        return done / (done + SEASON_EVIDENCE)


@dataclass(frozen=True)
class Input:
    """One input of the logit: its words, the factor to the unit the words name, and how it is
    computed from a race's feature rows."""

    name: str
    words: str
    compute: Callable[[Race], np.ndarray]
    shown: float = 1.0


def _slowest_if_unknown(race: Race, name: str) -> np.ndarray:
    """The column, an unknown value the race's highest known (GAP_CAP when none is known)."""
    values = race.column(name)
    return np.nan_to_num(np.where(np.isnan(values), race.best(values, np.fmax), values),
                         nan=GAP_CAP)  # fmt: skip


def _season_pace(race: Race) -> np.ndarray:
    known = ~np.isnan(race.column("team_season_gap"))
    return np.where(known, race.behind_best("team_season_gap"), 0.0) * race.season_weight()


def _agreed_team_elo(race: Race) -> np.ndarray:
    agreement = np.clip(np.nan_to_num(race.column("team_elo_agreement"), nan=0.0), 0, None)
    return race.vs_best("team_elo", 100.0) * agreement**2


def _team_practice_expected(race: Race) -> np.ndarray:
    """The car's practice gap corrected by how the team converts practice into qualifying."""
    conversion = np.nan_to_num(race.column("team_fp_conversion"), nan=0.0)
    gap = race.column("team_fp_gap_pct") + conversion
    frame = pd.DataFrame({"race_id": race.frame["race_id"].to_numpy(), "gap": gap})
    return Race(frame).behind_best("gap")


def _practice_place(race: Race) -> np.ndarray:
    """Each entrant's place in the race by combined practice gap (no time: after the others;
    no practice known: 1 for everyone, so the input says nothing)."""
    gap = np.nan_to_num(race.column("fp_gap_pct"), nan=np.inf)
    frame = pd.DataFrame({"race": race.codes, "gap": gap})
    return frame.groupby("race")["gap"].rank(method="min").to_numpy(dtype=float)


_DECLARED = (
    Input("neg_log_grid", "grid position", lambda r: -np.log(r.grid())),
    Input("pole", "starting from pole (1 = yes)", lambda r: (r.grid() == 1).astype(float)),
    Input(
        "quali_gap",
        "qualifying gap to pole (% of the pole lap; no time: the field's slowest)",
        lambda r: np.clip(_slowest_if_unknown(r, "quali_gap_pct"), None, GAP_CAP),
    ),
    Input(
        "grid_new_era",
        "grid position in a new technical era's first races (weighted by era_opening)",
        lambda r: -np.log(r.grid()) * np.nan_to_num(r.column("era_opening"), nan=0.0),
    ),
    Input(
        "driver_skill_vs_best",
        "driver's rating against his teammates, against the field's best (points)",
        lambda r: r.vs_best("driver_skill", 100.0),
        100.0,
    ),
    Input(
        "team_elo_era_vs_best",
        "team ELO within the current technical era against the field's best (points)",
        lambda r: r.vs_best("team_elo_era", 100.0),
        100.0,
    ),
    Input(
        "team_elo_agreed",
        "carried team ELO against the field's best, weighted by how well it agrees with this"
        " race's qualifying (points)",
        _agreed_team_elo,
        100.0,
    ),
    Input(
        "team_season_pace",
        "the car's qualifying pace this season behind the best car (% of pole, weighted by the"
        " season's races run)",
        _season_pace,
    ),
    Input(
        "form5_points_vs_best",
        "mean points over the last 5 races against the field's best",
        lambda r: r.vs_best("form5_points", 10.0),
        10.0,
    ),
    Input(
        "season_points_vs_best",
        "championship points against the leader",
        lambda r: r.vs_best("season_points", 25.0),
        25.0,
    ),
    Input(
        "form5_dnf",
        "share of the last 5 races not finished",
        lambda r: np.nan_to_num(r.column("form5_dnf"), nan=0.0),
    ),
    Input(
        "quali_pace_vs_best",
        "recent qualifying pace behind the field's best (% of pole)",
        lambda r: r.behind_best("quali_pace3"),
    ),
    Input(
        "practice_gap",
        "this weekend's practice pace behind the field's best (% of the session's best,"
        " sessions combined; no time: the field's slowest)",
        lambda r: np.clip(r.behind_best("fp_gap_pct"), None, GAP_CAP),
    ),
    Input(
        "practice_last_gap",
        "the last practice session's pace behind the best (% of its best lap)",
        lambda r: np.clip(r.behind_best("fp_last_gap_pct"), None, GAP_CAP),
    ),
    Input(
        "team_practice_expected",
        "the car's practice pace behind the best car, corrected by the team's recent practice-"
        "to-qualifying conversion (% of the session's best)",
        lambda r: np.clip(_team_practice_expected(r), None, GAP_CAP),
    ),
    Input(
        "neg_log_practice_order",
        "place in this weekend's practice (sessions combined; no time: at the back), as -log",
        lambda r: -np.log(_practice_place(r)),
    ),
    Input(
        "team_practice_conversion",
        "how the team's qualifying gap compared with its practice gap over its last 5 races"
        " (points of %; negative: it qualifies nearer the front than its practice says)",
        lambda r: np.nan_to_num(r.column("team_fp_conversion"), nan=0.0),
    ),
    Input(
        "team_practice_gap",
        "the car's practice pace behind the best car (% of the session's best)",
        lambda r: np.clip(r.behind_best("team_fp_gap_pct"), None, GAP_CAP),
    ),
    Input(
        "team_quali_pace_vs_best",
        "the car's recent qualifying pace behind the best car (% of pole)",
        lambda r: r.behind_best("team_quali_pace3"),
    ),
)
# The inputs of the logits registered before the era-aware inputs (December 2026), kept so a
# registered version keeps answering as it was fitted until the next training replaces it.
_LEGACY = (
    Input("p2", "starting second (1 = yes)", lambda r: (r.grid() == 2).astype(float)),
    Input(
        "driver_elo_vs_best",
        "driver ELO against the field's best (points)",
        lambda r: r.vs_best("driver_elo", 100.0),
        100.0,
    ),
    Input(
        "team_elo_vs_best",
        "team ELO against the field's best (points)",
        lambda r: r.vs_best("team_elo", 100.0),
        100.0,
    ),
    Input(
        "driver_elo_vs_best_era",
        "driver ELO carried into a new era's first races (points, weighted)",
        lambda r: r.vs_best("driver_elo", 100.0) * np.nan_to_num(r.column("era_opening")),
        100.0,
    ),
    Input(
        "team_elo_vs_best_era",
        "team ELO carried into a new era's first races (points, weighted)",
        lambda r: r.vs_best("team_elo", 100.0) * np.nan_to_num(r.column("era_opening")),
        100.0,
    ),
)
LEGACY_INPUTS: dict[str, tuple[str, ...]] = {
    "pre_quali": (
        "driver_elo_vs_best",
        "team_elo_vs_best",
        "driver_elo_vs_best_era",
        "team_elo_vs_best_era",
        "form5_points_vs_best",
        "season_points_vs_best",
        "form5_dnf",
        "quali_pace_vs_best",
        "team_quali_pace_vs_best",
    ),
    "post_quali": (
        "neg_log_grid",
        "pole",
        "p2",
        "quali_gap",
        "driver_elo_vs_best",
        "team_elo_vs_best",
        "driver_elo_vs_best_era",
        "team_elo_vs_best_era",
    ),
}
INPUTS_BY_NAME: dict[str, Input] = {i.name: i for i in (*_DECLARED, *_LEGACY)}
# Each input in words (for explanations; models/ensemble.py `describe`).
WORDS = {i.name: i.words for i in INPUTS_BY_NAME.values()}


def input_matrix(frame: pd.DataFrame, names: tuple[str, ...] | list[str]) -> np.ndarray:
    """The named inputs for feature rows of races, as a (rows, inputs) array."""
    race = Race(frame)
    return np.column_stack([INPUTS_BY_NAME[name].compute(race) for name in names])


def inputs(frame: pd.DataFrame, stage: str) -> pd.DataFrame:
    """The stage's logit inputs for feature rows of races (race_id and the view's features),
    each compared within its race."""
    names = spec_stage(stage).model.inputs
    return pd.DataFrame(input_matrix(frame, names), index=frame.index, columns=list(names))
