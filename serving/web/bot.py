"""The Polymarket bot in the browser (signed in): its state, positions, the P&L curve, the
latest decisions with their reasons; start and stop for admins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot import views
from bot.cycle import ensure_state, set_status
from bot.settings import BotSettings
from serving.deps import platform_of
from serving.web import charts
from serving.web.session import PostedForm, need_role, render, web_claims

router = APIRouter(include_in_schema=False, prefix="/bot")
Claims = Annotated[dict[str, Any] | None, Depends(web_claims)]


@router.get("", response_class=HTMLResponse)
def bot_page(request: Request, claims: Claims) -> HTMLResponse:
    claims = need_role(claims)
    engine = platform_of(request).engine
    ensure_state(engine, BotSettings())
    state = views.state_view(engine)
    pnl = views.pnl_view(engine, 500)
    try:
        decisions = views.signals_view(engine, None)
    except LookupError:
        decisions = None
    curve = [
        {"when": p["started_at"].isoformat(), "equity": p["equity"], "race": f"cycle {p['id']}"}
        for p in pnl["curve"]
    ]
    chart = charts.equity_curve(curve, "Equity after each cycle") if curve else None
    return render(
        request,
        "bot.html",
        {
            "state": state,
            "pnl": pnl,
            "positions": views.positions_view(engine, include_closed=False),
            "decisions": decisions,
            "chart": chart,
            "curve": curve,
            "is_admin": claims.get("role") == "admin",
        },
        claims,
    )


@router.post("/{action}")
def switch(request: Request, claims: Claims, form: PostedForm, action: str) -> Response:
    """Start or stop placing orders (admins)."""
    need_role(claims, "admin")
    wanted = {"start": "running", "stop": "stopped"}.get(action)
    if wanted is None:
        raise HTTPException(404, f"no bot action {action!r}: start or stop")
    set_status(platform_of(request).engine, wanted, BotSettings())
    return RedirectResponse("/bot", status_code=303)
