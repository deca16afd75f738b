"""Client of OpenF1's REST API (`/v1/sessions`, `/v1/session_result`, `/v1/drivers`): the
practice sessions of a weekend, which the Jolpica API does not serve.

The same discipline as the Jolpica client (pipelines/ingest/http.py): timeouts, retries with
backoff on 429 and 5xx, a rate limit, typed errors naming the endpoint. OpenF1 has no
envelope: every endpoint answers a JSON list of flat records.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from pipelines.ingest.http import ApiError, JsonClient, RateLimiter, RetryPolicy
from pipelines.ingest.settings import IngestSettings
from warehouse.calendar import Weekend

PRACTICE = re.compile(r"^Practice ([1-4])$")  # OpenF1's session_name of FP1–FP4
WEEKEND_BEFORE = dt.timedelta(days=4)  # a weekend's sessions start at most this before the race


class OpenF1Client:
    """The endpoints the practice ingest needs, each a list of OpenF1 records."""

    def __init__(self, http: JsonClient) -> None:
        self.http = http

    @classmethod
    def from_settings(
        cls, settings: IngestSettings | None = None, base_url: str | None = None
    ) -> OpenF1Client:
        """A client with the configured base URL, rate limit and retry policy."""
        settings = settings or IngestSettings()
        policy = RetryPolicy(attempts=settings.retry_attempts, backoff_s=settings.retry_backoff_s)
        return cls(
            JsonClient(
                base_url or settings.openf1_base_url,
                limiter=RateLimiter(settings.openf1_per_second),
                policy=policy,
                timeout_s=settings.timeout_s,
            )
        )

    def sessions(self, year: int) -> list[dict[str, Any]]:
        """Every session of the year OpenF1 knows (session_key, session_name, date_start…)."""
        return self._list("sessions", {"year": year})

    def session_result(self, session_key: int) -> list[dict[str, Any]]:
        """A session's classification: position, driver_number, number_of_laps, duration
        (the best lap in seconds for a practice session; null without a time)."""
        return self._list("session_result", {"session_key": session_key})

    def drivers(self, session_key: int) -> list[dict[str, Any]]:
        """The drivers of a session: driver_number, name_acronym, full_name, last_name…"""
        return self._list("drivers", {"session_key": session_key})

    def practice_sessions(self, weekend: Weekend) -> list[tuple[int, dict[str, Any]]]:
        """(FP number, session) of the weekend's practice sessions that start before its
        qualifying, in time order: sessions of the race's year dated in the days before the
        race (OpenF1 keys meetings its own way; the dates tie them to our calendar)."""
        earliest = weekend.race_start - WEEKEND_BEFORE
        found = []
        for session in self.sessions(weekend.season):
            number = PRACTICE.match(str(session.get("session_name", "")))
            start = record_time(session, "date_start", "sessions")
            if number and earliest <= start < weekend.quali_start:
                found.append((start, int(number.group(1)), session))
        return [(number, session) for _, number, session in sorted(found, key=lambda f: f[0])]

    def published(self, weekend: Weekend) -> bool:
        """Whether the last practice session before qualifying has its classification yet."""
        sessions = self.practice_sessions(weekend)
        return bool(sessions) and bool(self.session_result(session_key(sessions[-1][1])))

    def _list(self, endpoint: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        body = self.http.get_json(endpoint, params)
        if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
            raise ApiError(f"GET {endpoint}: answer is not a list of records")
        return body


def record_time(record: dict[str, Any], field: str, endpoint: str) -> dt.datetime:
    try:
        at = dt.datetime.fromisoformat(str(record[field]))
    except (KeyError, ValueError):
        raise ApiError(f"GET {endpoint}: {field} missing or not a time in {record}") from None
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def session_key(session: dict[str, Any]) -> int:
    try:
        return int(session["session_key"])
    except (KeyError, TypeError, ValueError):
        raise ApiError(f"GET sessions: session_key missing in {session}") from None
