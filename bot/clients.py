"""Clients of Polymarket's public read APIs: Gamma (events and their markets) and the CLOB
(order books, price history). Base URLs are settings, so tests point them at local servers."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
from pydantic import ValidationError

from bot.models import MarketData, OrderBook

log = logging.getLogger(__name__)
GAMMA_URL = "https://gamma-api.polymarket.com"
CLOB_URL = "https://clob.polymarket.com"
RELAYER_URL = "https://relayer-v2.polymarket.com"  # the live broker's wallet lookups


class MarketApiError(RuntimeError):
    """A Polymarket API that failed or answered something we cannot use."""


class _Json:
    def __init__(self, base_url: str, timeout_s: float = 10.0, attempts: int = 3) -> None:
        self.base_url = base_url.rstrip("/")
        self.attempts = attempts
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def get(self, path: str, **params: Any) -> Any:
        """GET with retries of 429/5xx and connection errors (exponential backoff)."""
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.http.get(path, params=params)
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                if response.status_code < 400:
                    try:
                        return response.json()
                    except ValueError:
                        problem = "the answer is not JSON"
                elif response.status_code == 429 or response.status_code >= 500:
                    problem = f"HTTP {response.status_code}"
                else:
                    raise MarketApiError(f"{self.base_url}{path}: HTTP {response.status_code}")
            if attempt < self.attempts:
                log.warning("%s%s: %s, retrying", self.base_url, path, problem)
                time.sleep(0.2 * 2 ** (attempt - 1))
        raise MarketApiError(f"{self.base_url}{path}: {problem} after {self.attempts} attempts")

    def close(self) -> None:
        self.http.close()


class GammaClient(_Json):
    """Gamma: `GET /events?tag_slug=…&closed=false` pages of events, each with `markets`."""

    def __init__(self, base_url: str = GAMMA_URL, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)

    def events(
        self, tag_slug: str = "formula1", closed: bool = False, page: int = 100
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            batch = self.get(
                "/events", tag_slug=tag_slug, closed=str(closed).lower(), limit=page, offset=offset
            )
            if not isinstance(batch, list):
                raise MarketApiError(f"/events answered {type(batch).__name__}, not a list")
            found += batch
            if len(batch) < page:
                return found
            offset += page

    def markets(self, tag_slug: str = "formula1") -> list[tuple[dict[str, Any], MarketData]]:
        """Every market of the open F1 events, with its event; a market that does not
        validate is logged and left out (it could never be traded safely)."""
        out = []
        for event in self.events(tag_slug):
            for raw in event.get("markets", []):
                try:
                    out.append((event, MarketData.model_validate(raw)))
                except ValidationError as error:
                    log.warning("market %s left out: %s", raw.get("id"), error.errors()[0]["msg"])
        return out

    def market(self, market_id: str) -> MarketData:
        """`GET /markets/{id}`: one market, open or closed (to learn how it resolved)."""
        raw = self.get(f"/markets/{market_id}")
        try:
            return MarketData.model_validate(raw)
        except ValidationError as error:
            raise MarketApiError(f"market {market_id}: {error.errors()[0]['msg']}") from None


class ClobClient(_Json):
    """The CLOB's public endpoints: `GET /book?token_id=`, `GET /prices-history` and
    `GET /neg-risk?token_id=`."""

    def __init__(self, base_url: str = CLOB_URL, **kwargs: Any) -> None:
        super().__init__(base_url, **kwargs)

    def book(self, token_id: str) -> OrderBook:
        raw = self.get("/book", token_id=token_id)
        try:
            return OrderBook.model_validate(raw)
        except ValidationError as error:
            raise MarketApiError(f"order book of {token_id}: {error.errors()[0]['msg']}") from None

    def neg_risk(self, token_id: str) -> bool:
        """Whether the CLOB trades `token_id` on the neg-risk exchange (a single-winner event)."""
        raw = self.get("/neg-risk", token_id=token_id)
        if not isinstance(raw, dict) or not isinstance(raw.get("neg_risk"), bool):
            raise MarketApiError(f"neg-risk of {token_id}: expected {{'neg_risk': bool}}")
        return bool(raw["neg_risk"])

    def price_history(
        self, token_id: str, interval: str = "max", fidelity: int = 60
    ) -> list[tuple[int, float]]:
        """(unix time, price) points, oldest first."""
        raw = self.get("/prices-history", market=token_id, interval=interval, fidelity=fidelity)
        return sorted((int(p["t"]), float(p["p"])) for p in raw.get("history", []))
