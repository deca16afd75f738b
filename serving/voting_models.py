"""The voting API's request and answer bodies (`/api/v1/voting`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from apps.text import stripped_text
from serving.inputs import Email

MAX_ID = 2**31 - 1  # the databases' integer keys
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


class CandidateIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=stripped_text
    )

    name: str = Field(min_length=1, max_length=160)
    bio: str = Field(default="", max_length=4000)
    photo_url: HttpUrl | None = None


class PositionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=stripped_text
    )

    title: str = Field(min_length=1, max_length=120, examples=["President", "Treasurer"])
    candidates: list[CandidateIn] = Field(default_factory=list, max_length=50)


class ElectionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=stripped_text
    )

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    positions: list[PositionIn] = Field(default_factory=list, max_length=30)


class ElectionPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=stripped_text
    )

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)


class CandidateOut(BaseModel):
    id: int
    name: str
    bio: str
    photo_url: str | None


class PositionOut(BaseModel):
    id: int
    title: str
    candidates: list[CandidateOut]
    voted: bool | None = None


class ElectionOut(BaseModel):
    id: int
    title: str
    description: str
    status: str
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None
    positions: list[PositionOut]


class ElectionSummary(BaseModel):
    id: int
    title: str
    status: str


class Created(BaseModel):
    id: int


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422

    email: Email


class CodeCheck(CodeRequest):
    code: str = Field(pattern=r"^\d{6}$")


class VoterToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    election_id: Id


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422

    position_id: Id
    candidate_id: Id


class BallotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # an unknown field is a 422

    choices: list[Choice] = Field(min_length=1, max_length=30)


class Receipt(BaseModel):
    receipt: str
    positions: int


class ReceiptCheck(BaseModel):
    receipt: str
    counted: bool
    # received, and sealed in the box: counted at the next release (with at least 9 other
    # ballots) or when the election closes
    sealed: bool = False
    positions: list[str]


class Turnout(BaseModel):
    election_id: Id
    status: str
    members: int
    voted: int
    turnout: float
    by_position: dict[str, int]


class Tally(BaseModel):
    candidate_id: Id
    name: str
    votes: int


class PositionResult(BaseModel):
    position_id: Id
    position: str
    votes: int
    candidates: list[Tally]
    winner: str | None
    tie: bool
    tied: list[str]


class Results(BaseModel):
    election_id: Id
    title: str
    ballots: int
    positions: list[PositionResult]


class ImportResult(BaseModel):
    added: int
    already: int


class AuditOut(BaseModel):
    id: int
    election_id: int | None
    actor: str
    action: str
    detail: dict[str, Any]
    at: dt.datetime


class OutboxOut(BaseModel):
    id: int
    to: str
    subject: str
    body: str
    at: dt.datetime
