"""The bot's settings, from the environment (`BOT_…`). Keys are `SecretStr`: they never show
in a repr, a log line or an error."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.clients import CLOB_URL, GAMMA_URL, RELAYER_URL
from bot.models import Limits


class BotSettings(BaseSettings):
    """Where the market APIs are, the bankroll and limits, and whether trading is live."""

    model_config = SettingsConfigDict(env_prefix="BOT_", extra="ignore", frozen=True)

    gamma_url: str = GAMMA_URL
    clob_url: str = CLOB_URL
    tag_slug: str = "formula1"
    bankroll: float = Field(default=1000.0, gt=0)
    # Limits (see bot.models.Limits): BOT_MIN_EDGE, BOT_KELLY_FRACTION, BOT_PER_ORDER, …
    min_edge: float = Limits.model_fields["min_edge"].default
    kelly_fraction: float = Limits.model_fields["kelly_fraction"].default
    per_order: float = Limits.model_fields["per_order"].default
    per_market: float = Limits.model_fields["per_market"].default
    total_exposure: float = Limits.model_fields["total_exposure"].default
    daily_loss: float = Limits.model_fields["daily_loss"].default
    max_drawdown: float = Limits.model_fields["max_drawdown"].default
    min_liquidity: float = Limits.model_fields["min_liquidity"].default
    fee_rate: float = Limits.model_fields["fee_rate"].default
    # Live trading: the switch and the signing key, or the bot trades on paper. The wallet
    # traded for (BOT_FUNDER) defaults to the key's Polymarket deposit wallet; the SDK tells an
    # EOA, proxy, Safe or deposit wallet apart by the address and signs for it.
    live_trading: bool = False
    private_key: SecretStr | None = None
    funder: str | None = None
    relayer_url: str = RELAYER_URL
    # how long a delayed order (sports markets hold orders a few seconds) is waited for
    delay_wait_s: float = Field(default=15.0, ge=0)

    def limits(self) -> Limits:
        return Limits.model_validate({name: getattr(self, name) for name in Limits.model_fields})

    @property
    def live(self) -> bool:
        """Live only when explicitly enabled *and* the key is there."""
        return self.live_trading and self.private_key is not None
