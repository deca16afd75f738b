"""An OpenF1-shaped API (`/v1/sessions`, `/v1/session_result`, `/v1/drivers`): flat JSON
records as OpenF1 serves them, for sessions a test declares; a session's classification can be
held back (a late session) until the test releases it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.servers.base import Answer


@dataclass
class OpenF1Api:
    """Sessions by key, their results and drivers; `late` keys answer an empty list."""

    sessions: list[dict[str, Any]] = field(default_factory=list)
    results: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    drivers: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    late: set[int] = field(default_factory=set)

    def __call__(self, path: str, query: dict[str, str]) -> Answer:
        if path == "/v1/sessions":
            year = query.get("year")
            return 200, [s for s in self.sessions if year is None or str(s["year"]) == year]
        try:
            key = int(query["session_key"])
        except (KeyError, ValueError):
            return 422, {"detail": "session_key is required"}
        if path == "/v1/session_result":
            return 200, [] if key in self.late else self.results.get(key, [])
        if path == "/v1/drivers":
            return 200, self.drivers.get(key, [])
        return 404, {"detail": "Not Found"}
