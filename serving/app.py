"""Builds the FastAPI application: `uvicorn --factory serving.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from serving.routes import health
from serving.settings import ServiceSettings
from warehouse.db import make_engine


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The service: /health and /ready at the root; the API under /api/v1 as it grows."""
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="F1 race-winner predictions",
        version="0.1.0",
        summary="Win probabilities for every Formula 1 race, and the data behind them.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.include_router(health.router)
    return app
