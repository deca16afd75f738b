"""The prediction spec: the stages a race is predicted at and the targets predicted, declared
once. Every package loops over these; none lists them again.

This package imports nothing of ours, so every package may import it. A stage or a target is
stored in the warehouse and named in URLs as its `name`; code checks a name with `stage()` or
`target()`, which raise `UnknownName` (a ValueError naming the choices), never a database
constraint or a regular expression in a route. How to add one: docs/SPEC.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

Cutoff = Literal["first_session", "race"]
Opens = Literal["previous_race", "qualifying"]
Normalisation = Literal["one_per_race", "finishing_order"]


class UnknownName(ValueError):
    """A stage or target name that the spec does not declare."""


@dataclass(frozen=True)
class Baseline:
    """What a stage's model is compared with: a rule that knows only what the stage knows."""

    model_name: str  # stored beside the models' predictions under this name
    rule: str  # models/baselines.py: "last_winner" or "grid"
    label: str  # how people call it


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
)
POST_QUALI = Stage(
    name="post_quali",
    order=1,
    label="after qualifying",
    title="After qualifying",
    knows="all of pre_quali, and this race's qualifying, grid and sprint",
    opens="qualifying",
    cutoff="race",
    entrants="the drivers on the race's qualifying list",
    feature_groups=("history", "calendar", "weather", "qualifying"),
    baseline=Baseline("baseline_grid", "grid", "the grid"),
)
STAGES: tuple[Stage, ...] = (PRE_QUALI, POST_QUALI)
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)

WINNER = Target(
    name="winner",
    label="winner",
    normalisation="one_per_race",
    metrics=("log_loss", "brier", "top1", "top3"),
    question="P(the driver wins the race)",
)
ORDER = Target(
    name="order",
    label="finish_order",
    normalisation="finishing_order",
    metrics=("rps", "dnf_log_loss", "h2h_log_loss", "podium_log_loss", "points_log_loss"),
    question="P(the driver finishes k-th) for every k, and P(not classified); from them podium,"
    " top 6, points, expected points and head-to-heads",
)
TARGETS: tuple[Target, ...] = (WINNER, ORDER)

# The markets read off the finishing-order distribution, each a yes/no event per entrant:
# name -> what it means.
MARKETS: dict[str, str] = {
    "win": "wins the race",
    "podium": "finishes in the top 3",
    "top6": "finishes in the top 6",
    "points": "finishes in a paying position under the season's points system",
    "dnf": "is not classified",
}
TARGET_NAMES: tuple[str, ...] = tuple(t.name for t in TARGETS)

ROLES: tuple[str, ...] = ("viewer", "analyst", "editor", "admin")
_T = TypeVar("_T", Stage, Target)


def _named(kind: str, items: tuple[_T, ...], name: str) -> _T:
    for item in items:
        if item.name == name:
            return item
    choices = ", ".join(i.name for i in items)
    raise UnknownName(f"unknown {kind} {name!r}: use one of {choices}")


def stage(name: str) -> Stage:
    """The stage called `name` (UnknownName otherwise)."""
    return _named("stage", STAGES, name)


def target(name: str) -> Target:
    """The target called `name` (UnknownName otherwise)."""
    return _named("target", TARGETS, name)


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
