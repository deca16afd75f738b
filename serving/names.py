"""Stage names as request fields: validated by the prediction spec (spec/), documented as its
list of names. No route lists the stages itself."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from spec import STAGES, stage

AUTO = "auto"


def _known(value: str) -> str:
    return stage(value).name  # UnknownName, a ValueError: a 422 naming the choices


def _known_or_auto(value: str) -> str:
    return value if value == AUTO else _known(value)


StageName = Annotated[
    str, AfterValidator(_known), WithJsonSchema({"type": "string", "enum": list(STAGES.names)})
]
StageChoice = Annotated[
    str,
    AfterValidator(_known_or_auto),
    WithJsonSchema(
        {
            "type": "string",
            "enum": [AUTO, *STAGES.names],
            "description": f"{AUTO}: the latest stage whose features the race has",
        }
    ),
]
