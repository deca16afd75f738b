"""The prediction spec: the stages a race is predicted at (each with its model's settings), the
targets predicted and the markets priced, declared once in registries. Every package loops over
these; none lists them again.

This package imports nothing of ours, so every package may import it. A stage, a target or a
market is stored in the warehouse and named in URLs as its `name`; code checks a name with
`stage()`, `target()` or `market()`, which raise `UnknownName` (a ValueError naming the
choices), never a database constraint or a regular expression in a route. How to add one:
docs/SPEC.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

Cutoff = Literal["first_session", "qualifying", "race"]
# previous_race: the previous race's start; practice: the last session before qualifying is
# published (warehouse/calendar.py `Weekend.practice_done`); qualifying: its start
Opens = Literal["previous_race", "practice", "qualifying"]
Normalisation = Literal["one_per_race", "finishing_order"]
# how a market's yes/no question is settled by a race's result (spec.Market.happened)
Settles = Literal["top", "points", "not_classified", "ahead_of_teammate", "title"]


class UnknownName(ValueError):
    """A stage or target name that the spec does not declare."""


@dataclass(frozen=True)
class Baseline:
    """What a stage's model is compared with: a rule that knows only what the stage knows."""

    model_name: str  # stored beside the models' predictions under this name
    rule: str  # models/baselines.py: "last_winner" or "grid"
    label: str  # how people call it


@dataclass(frozen=True)
class StageModel:
    """What a stage's models are made of, each chosen on the development window (2006–2013;
    docs/MODELS.md has the tables)."""

    inputs: tuple[str, ...]  # models/inputs.py: the conditional logit's inputs
    baselines: tuple[str, ...]  # models/baselines.py: the rules its backtests compare with
    served: str = "clogit"  # models/ensemble.py CANDIDATES: the winner model's forecast
    refit_recent: tuple[str, ...] = ()  # inputs refitted on the last seasons (models/clogit.py)
    alpha: float = 0.9  # the finishing-order model's placing temperature (models/distribution.py)
    # earlier stages whose served models its backtests pair it with, race by race
    compared_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stage:
    """A moment of the race weekend at which a race is predicted."""

    name: str
    order: int  # earlier stages first
    label: str
    title: str  # as a heading: "Before qualifying"
    knows: str  # what is known at it, in words
    opens: Opens  # from when its prediction can be made (the previous race's start, qualifying)
    cutoff: Cutoff  # the session before which its prediction must be made
    entrants: str  # who is predicted, in words
    feature_groups: tuple[str, ...]  # feature_store/view.py: the groups its rows carry
    baseline: Baseline
    model: StageModel

    def uses(self, group: str) -> bool:
        """Whether this stage's rows carry feature group `group`."""
        return group in self.feature_groups


@dataclass(frozen=True)
class Target:
    """A thing predicted for every entrant of a race, with its own registered model per stage."""

    name: str
    label: str
    # one_per_race: the entrants' probabilities sum to 1; finishing_order: one distribution
    # over the race's orders (models/distribution.py), every market read off it
    normalisation: Normalisation
    metrics: tuple[str, ...]  # models/metrics.py, the first is the one models are chosen on
    question: str  # the probability in words, for documentation and the API
    # "module:function" of its training run, (engine, stage, start, last) -> TrainResult: what
    # the DAGs, the CLI and the replay run for it (pipelines/targets.py `trainer`)
    trained_by: str

    def model_name(self, stage: str | Stage) -> str:
        """The registered MLflow model of this target at `stage`: `f1_winner_post_quali`."""
        return f"f1_{self.name}_{stage if isinstance(stage, str) else stage.name}"


PRE_QUALI = Stage(
    name="pre_quali",
    order=0,
    label="before the weekend",
    title="Before qualifying",
    knows="every earlier race, the line-up, the weather forecast; nothing of this weekend",
    opens="previous_race",
    cutoff="first_session",
    entrants="the race's entry list (else the line-up of the season's last race)",
    feature_groups=("history", "calendar", "weather"),
    baseline=Baseline("baseline_last_winner", "last_winner", "the last race's winner"),
    model=StageModel(
        inputs=(
            "driver_skill_vs_best",
            "team_elo_era_vs_best",
            "team_season_pace",
            "form5_points_vs_best",
            "season_points_vs_best",
            "form5_dnf",
            "quali_pace_vs_best",
            "team_quali_pace_vs_best",
        ),
        baselines=("uniform", "leader", "last_winner", "elo_favourite"),
    ),
)
POST_PRACTICE = Stage(
    name="post_practice",
    order=1,
    label="after practice",
    title="After practice",
    knows="all of pre_quali, and this weekend's practice before qualifying (and a sprint run"
    " before it)",
    opens="practice",
    cutoff="qualifying",
    entrants="the race's entry list (else the line-up of the season's last race)",
    feature_groups=("history", "calendar", "weather", "practice"),
    baseline=Baseline(
        "baseline_final_practice", "final_practice", "the fastest in the final practice"
    ),
    model=StageModel(
        inputs=(
            *PRE_QUALI.model.inputs,
            "neg_log_practice_order",
            "team_practice_gap",
        ),
        baselines=("uniform", "leader", "final_practice"),
        compared_with=("pre_quali",),
    ),
)
POST_QUALI = Stage(
    name="post_quali",
    order=2,
    label="after qualifying",
    title="After qualifying",
    knows="all of post_practice, and this race's qualifying, grid and sprint",
    opens="qualifying",
    cutoff="race",
    entrants="the drivers on the race's qualifying list",
    feature_groups=("history", "calendar", "weather", "practice", "qualifying"),
    baseline=Baseline("baseline_grid", "grid", "the grid"),
    model=StageModel(
        inputs=(
            "neg_log_grid",
            "pole",
            "quali_gap",
            "grid_new_era",
            "driver_skill_vs_best",
            "team_elo_era_vs_best",
            "team_elo_agreed",
            "team_season_pace",
        ),
        baselines=("uniform", "pole", "grid"),
        refit_recent=("neg_log_grid", "pole"),
    ),
)


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_E = TypeVar("_E", bound=_Named)


class Registry(Generic[_E]):
    """Entries of one kind (stages, targets, markets), in their order, looked up by name.

    Code iterates the registry where it stands (`for stage in STAGES`), never a copy taken at
    import, so an entry added with `extended` (a test's made-up stage or market) reaches every
    loop, every name check and every page at once."""

    def __init__(self, kind: str, entries: tuple[_E, ...]) -> None:
        self.kind = kind
        self._entries = list(entries)

    def __iter__(self) -> Iterator[_E]:
        return iter(tuple(self._entries))

    def __reversed__(self) -> Iterator[_E]:
        return reversed(tuple(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __getitem__(self, index: int) -> _E:
        return self._entries[index]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self._entries)

    def get(self, name: str) -> _E:
        """The entry called `name` (UnknownName naming the choices otherwise)."""
        for entry in self._entries:
            if entry.name == name:
                return entry
        raise UnknownName(f"unknown {self.kind} {name!r}: use one of {', '.join(self.names)}")

    @contextmanager
    def extended(self, *entries: _E) -> Iterator[None]:
        """The registry with `entries` added (after the others) for the block's duration."""
        taken = set(self.names)
        for entry in entries:
            if entry.name in taken:
                raise ValueError(f"{self.kind} {entry.name!r} is declared already")
        self._entries.extend(entries)
        try:
            yield
        finally:
            for entry in entries:
                self._entries.remove(entry)


STAGES: Registry[Stage] = Registry("stage", (PRE_QUALI, POST_PRACTICE, POST_QUALI))

WINNER = Target(
    name="winner",
    label="winner",
    normalisation="one_per_race",
    metrics=("log_loss", "brier", "top1", "top3"),
    question="P(the driver wins the race)",
    trained_by="pipelines.train:train",
)
ORDER = Target(
    name="order",
    label="finish_order",
    normalisation="finishing_order",
    metrics=("rps", "dnf_log_loss", "h2h_log_loss", "podium_log_loss", "points_log_loss"),
    question="P(the driver finishes k-th) for every k, and P(not classified); from them podium,"
    " top 6, points, expected points and head-to-heads",
    trained_by="pipelines.train_order:train_order",
)
TARGETS: Registry[Target] = Registry("target", (WINNER, ORDER))


@dataclass(frozen=True)
class Market:
    """A yes/no question about one entrant (or, for a title, one driver or team of a season)
    that the platform prices and the bot may trade.

    `name` is the market type of the bot's books and mapping; `column` is where the
    finishing-order distribution holds its probability (models/order.py, `market_predictions`,
    the API's `markets`) and what a scored market's accuracy is stored and reported under;
    `settles` with `top` says when it happened (`happened`)."""

    name: str
    column: str  # the distribution's column; "" for a title (priced by the championship odds)
    meaning: str
    settles: Settles
    top: int = 0  # settles "top": happened when classified in the top `top`
    scored: bool = True  # scored per race as a yes/no market (log loss, Brier) in backtests
    traded: bool = True  # the bot maps and trades it
    title_of: str = ""  # settles "title": whose title, as championship_odds names the kind
    in_card: bool = True  # in a prediction card's `markets` (the winner's is its probability)
    # the target whose champion the bot prices it with: the winner model for the race's winner,
    # else the finishing-order distribution's stored column (titles: the championship odds)
    priced_by: str = "order"

    @property
    def exclusive(self) -> bool:
        """Exactly one entrant's market happens (the race's winner, a title): one field."""
        return self.settles == "title" or (self.settles == "top" and self.top == 1)

    def happened(self, position: int | None, paying: int, ahead: bool | None = None) -> bool | None:
        """Whether the market happened for an entrant classified `position` (None: not
        classified), `paying` the season's points-paying places, `ahead` whether the entrant
        finished ahead of the teammate (a head-to-head; None: no single teammate). None when
        the result cannot settle it (a title, a head-to-head without a teammate)."""
        if self.settles == "top":
            return position is not None and position <= self.top
        if self.settles == "points":
            return position is not None and position <= paying
        if self.settles == "not_classified":
            return position is None
        if self.settles == "ahead_of_teammate":
            return ahead
        return None


MARKETS: Registry[Market] = Registry(
    "market",
    (
        Market(
            "winner", "win", "wins the race", "top", top=1, in_card=False, priced_by="winner"
        ),
        Market("podium", "podium", "finishes in the top 3", "top", top=3),
        Market("top6", "top6", "finishes in the top 6", "top", top=6),
        Market(
            "points", "points", "finishes in a paying position under the season's points system",
            "points", top=10,  # asked as a top-N question: the top 10 (paying since 2010)
        ),
        Market("dnf", "dnf", "is not classified", "not_classified", traded=False),
        Market(
            "h2h", "teammate_ahead", "finishes ahead of the teammate", "ahead_of_teammate",
            scored=False,
        ),
        Market(
            "drivers_title", "", "wins the drivers' championship", "title", scored=False,
            title_of="driver",
        ),
        Market(
            "constructors_title", "", "wins the constructors' championship (a team)", "title",
            scored=False, title_of="constructor",
        ),
    ),
)  # fmt: skip

ROLES: tuple[str, ...] = ("viewer", "analyst", "editor", "admin")


def stage(name: str) -> Stage:
    """The stage called `name` (UnknownName otherwise)."""
    return STAGES.get(name)


def target(name: str) -> Target:
    """The target called `name` (UnknownName otherwise)."""
    return TARGETS.get(name)


def market(name: str) -> Market:
    """The market called `name` (UnknownName otherwise)."""
    return MARKETS.get(name)


def scored_markets() -> list[Market]:
    """The markets read off the finishing-order distribution and scored race by race."""
    return [m for m in MARKETS if m.scored]


def race_markets() -> list[Market]:
    """The markets about one race's entrants (every market but the titles)."""
    return [m for m in MARKETS if m.settles != "title"]


def model_names() -> list[str]:
    """Every registered model the platform trains: one per (target, stage)."""
    return [t.model_name(s) for t in TARGETS for s in STAGES]


def parse_model_name(name: str) -> tuple[Target, Stage]:
    """(target, stage) of a registered model name (UnknownName when it is not one of ours)."""
    for t in TARGETS:
        for s in STAGES:
            if t.model_name(s) == name:
                return t, s
    raise UnknownName(f"unknown model {name!r}: use one of {', '.join(model_names())}")
