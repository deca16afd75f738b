"""Reference forecasts the models must beat, each fitted on the 10 seasons before the test.

A baseline uses only what its stage knows:
- both stages: `uniform`, every entrant alike.
- pre_quali (before the weekend's first session): `leader`, the championship leader before the
  race gets the leaders' win rate; `last_winner`, the winner of the previous race gets the
  previous winners' win rate; `elo_favourite`, the ELO favourite gets the ELO favourites' win rate.
- post_practice (after the practice before qualifying): `final_practice`, the fastest in the
  last practice session before qualifying gets the rate at which such drivers won.
- post_quali (after qualifying): `pole`, the pole-sitter gets the pole win rate; `grid`, the win
  rate of each grid slot, normalised per race (slot 0 and no slot share one rate).
A favourite baseline shares the rest equally among the others. Rates are smoothed (+0.5 wins,
+1 start) so no entrant is certain to lose.

The spec's `Stage.baseline` names the one stored beside the models online and that the
live-accuracy alert compares the champion with: grid-only after qualifying, the last winner
before it (the best of the three pre_quali baselines on the 2006–2013 development window, see
docs/MODELS.md).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from models.probability import per_race
from spec import stage as spec_stage

HISTORY = 10


def _rate(wins: float, starts: float) -> float:
    return (wins + 0.5) / (starts + 1.0)


def _favourite(test: pd.DataFrame, flag: pd.Series, rate: float) -> np.ndarray:
    flag = flag.fillna(False).astype(bool)
    n = test.groupby("race_id")["race_id"].transform("size").to_numpy()
    has = flag.groupby(test["race_id"]).transform("any").to_numpy()
    others = (1 - rate) / np.maximum(n - 1, 1)
    weights = np.where(has, np.where(flag.to_numpy(), rate, others), 1.0 / n)
    return per_race(test["race_id"].to_numpy(), weights)


def _flag_rate(
    past: pd.DataFrame, test: pd.DataFrame, flag: pd.Series, rows: pd.Series
) -> np.ndarray:
    """The favourite baseline for `test` rows flagged by `flag`, its rate fitted on the `past`
    rows flagged by `rows`."""
    rows = rows.fillna(False).astype(bool)
    return _favourite(test, flag, _rate(past.loc[rows, "won"].sum(), rows.sum()))


def previous_winner(history: pd.DataFrame) -> pd.Series:
    """Each race's previous race's winner (driver_id), by race_id; races in `history` order by
    (season, round). The first race of `history` has none."""
    races = history[["race_id", "season", "round"]].drop_duplicates("race_id")
    races = races.sort_values(["season", "round"])
    winners = history.loc[history["won"] == 1].drop_duplicates("race_id")
    winner = races["race_id"].map(winners.set_index("race_id")["driver_id"])
    return pd.Series(winner.shift(1).to_numpy(), index=races["race_id"].to_numpy())


def _is_last_winner(frame: pd.DataFrame, before: pd.Series) -> pd.Series:
    return frame["driver_id"] == frame["race_id"].map(before)


def _is_elo_favourite(frame: pd.DataFrame) -> pd.Series:
    best = frame.groupby("race_id")["driver_elo"].transform("max")
    return frame["driver_elo"] == best


def _uniform(history: pd.DataFrame, past: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    return per_race(test["race_id"].to_numpy(), np.ones(len(test)))


def _leader(history: pd.DataFrame, past: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    return _flag_rate(
        past, test, test["championship_position"] == 1, past["championship_position"] == 1
    )


def _last_winner(history: pd.DataFrame, past: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    before = previous_winner(history)
    return _flag_rate(past, test, _is_last_winner(test, before), _is_last_winner(past, before))


def _elo_favourite(history: pd.DataFrame, past: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    return _flag_rate(past, test, _is_elo_favourite(test), _is_elo_favourite(past))


def _is_fastest_in_final_practice(frame: pd.DataFrame) -> pd.Series:
    return frame["fp_order"] == 1


def _final_practice(history: pd.DataFrame, past: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    return _flag_rate(
        past, test, _is_fastest_in_final_practice(test), _is_fastest_in_final_practice(past)
    )


def _pole(history: pd.DataFrame, past: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    return _flag_rate(past, test, test["result_grid"] == 1, past["result_grid"] == 1)


def _grid(history: pd.DataFrame, past: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
    slot = past["result_grid"].fillna(0).astype(int)
    rates = past.groupby(slot)["won"].agg(["sum", "size"])
    table = {int(s): _rate(r["sum"], r["size"]) for s, r in rates.iterrows()}
    floor = min(table.values()) if table else 0.01
    test_slot = test["result_grid"].fillna(0).astype(int)
    rate = test_slot.map(table).fillna(floor).to_numpy(dtype=float)
    return per_race(test["race_id"].to_numpy(), rate)


# each rule a stage's entry in the spec may name (`Stage.model.baselines`, `Baseline.rule`):
# (all labelled rows, the HISTORY seasons before the test, the test rows) -> P(win) per row
Rule = Callable[[pd.DataFrame, pd.DataFrame, pd.DataFrame], np.ndarray]
RULES: dict[str, Rule] = {
    "uniform": _uniform,
    "leader": _leader,
    "last_winner": _last_winner,
    "elo_favourite": _elo_favourite,
    "final_practice": _final_practice,
    "pole": _pole,
    "grid": _grid,
}


def baselines(
    history: pd.DataFrame, test: pd.DataFrame, stage: str, only: tuple[str, ...] | None = None
) -> dict[str, np.ndarray]:
    """Baseline probabilities for `test` rows, fitted on `history` (labelled rows, earlier and
    the test's own seasons: a race's previous winner is known before it); `only` limits which.
    """
    wanted = [n for n in spec_stage(stage).model.baselines if only is None or n in only]
    unknown = [n for n in wanted if n not in RULES]
    if unknown:
        raise ValueError(f"unknown baseline rule {unknown[0]!r}: use one of {', '.join(RULES)}")
    first = test["season"].min() - HISTORY
    past = history[(history["season"] >= first) & (history["season"] < test["season"].min())]
    return {name: RULES[name](history, past, test) for name in wanted}
