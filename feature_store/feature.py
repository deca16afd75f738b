"""A column of the feature view, documented: what it means, its unit, its as-of rule, the
feature group that decides which stages carry it, and the range a value must be in."""

from __future__ import annotations

from dataclasses import dataclass

from spec import STAGES

BEFORE = "races run before this one (earlier date; same date: earlier round)"
SEASON_BEFORE = "earlier races of this season"


@dataclass(frozen=True)
class Feature:
    """A column of the view, documented."""

    name: str
    meaning: str
    unit: str
    as_of: str
    group: str = "history"  # a feature group: the stages whose spec lists it carry it
    nullable: bool = False  # the model needs a value when False
    low: float | None = None
    high: float | None = None

    @property
    def stages(self) -> tuple[str, ...]:
        """The stages whose rows carry this feature."""
        return tuple(s.name for s in STAGES if s.uses(self.group))
