"""Builds the FastAPI application: `uvicorn --factory serving.app:create_app`."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from serving.auth import purge_throttles
from serving.cache import make_cache
from serving.capacity import (
    AdmissionMiddleware,
    DatabaseProbe,
    busy,
    limit_arenas,
    set_switch_interval,
    set_thread_limit,
    settle_heap,
)
from serving.deps import Platform, install
from serving.headers import SecurityHeadersMiddleware, allowed_methods
from serving.inputs import InputGuardMiddleware, finite
from serving.limits import BodyLimitMiddleware
from serving.metrics import Metrics, MetricsMiddleware
from serving.openapi import install as install_openapi
from serving.predictions import computing
from serving.racing import Ratings
from serving.reads import ReadCacheMiddleware
from serving.routes import (
    bot,
    championship,
    data,
    health,
    predictions,
    recipes,
    reports,
    users,
    voting,
)
from serving.served import ServedModels, follow
from serving.settings import ServiceSettings, secret_problem
from serving.web import bot as web_bot
from serving.web import docs, model, pages, signin, standings
from serving.web import recipes as web_recipes
from serving.web import voting as web_voting
from serving.web.pages import is_page, page_error
from serving.web.session import HERE
from warehouse.db import make_engine, session_factory, timed_out

log = logging.getLogger(__name__)
API = "/api/v1"
STATIC = HERE / "static"


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The service: /health, /ready and /metrics at the root; the API under /api/v1."""
    settings = settings or ServiceSettings()
    limit_arenas()  # before the request threads start (serving.capacity)
    models = ServedModels()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        set_thread_limit(settings.threads)
        set_switch_interval(settings.switch_interval_ms)
        computing.resize(settings.compute_slots)
        following = None
        if settings.load_models:
            log.info("serving %s", models.reload())
            following = asyncio.create_task(follow(models, settings.model_refresh_s))
        settle_heap()  # serving.capacity: start-up's heap out of the collector's reach
        purge = functools.partial(purge_throttles, built.engine)  # every minute
        tidying = asyncio.create_task(built.probe.tidy(chores=(purge,)))
        yield
        for task in (following, tidying):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        built.probe.close()
        await built.cache.close()
        built.engine.dispose()

    app = FastAPI(
        title="F1 race-winner predictions",
        version="0.2.0",
        summary="Win probabilities for every Formula 1 race, and the data behind them.",
        lifespan=lifespan,
        docs_url=None,  # served from the vendored assets (serving.web.docs): offline too
        redoc_url=None,
    )
    problem = secret_problem(settings)
    if settings.environment == "production" and problem is not None:
        raise RuntimeError(f"refusing to start in production: {problem}")
    if settings.jwt_secret is None:
        log.warning("F1_JWT_SECRET is not set: tokens will not outlive this process")
    # a connection for every thread, two for the readiness probe and session teardown, no
    # overflow: a thread never waits for a connection (serving.capacity)
    pool = {"pool_size": settings.threads + 2, "max_overflow": 0, "pool_timeout": 10}
    url = make_url(settings.database_url)
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    engine = make_engine(
        settings.database_url,
        statement_timeout_s=settings.statement_timeout_s,
        **({} if in_memory else pool),
    )
    built = Platform(
        settings=settings,
        jwt_secret=settings.jwt_secret or secrets.token_urlsafe(48),
        engine=engine,
        probe=DatabaseProbe(engine),
        models=models,
        metrics=metrics,
        cache=make_cache(settings.redis_url),
        ratings=Ratings(),
    )
    install(app, built)
    app.include_router(health.router)
    for router in (
        data.router,
        predictions.router,
        championship.router,
        reports.router,
        users.router,
        users.admin,
        users.accounts,
        recipes.router,
        voting.router,
        bot.router,
    ):
        app.include_router(router, prefix=API)

    @app.get("/metrics", include_in_schema=False)
    def prometheus(request: Request) -> Response:
        described = models.describe()  # as served now, however they were loaded
        metrics.set_versions(described)
        try:
            with session_factory(built.engine)() as session:
                metrics.set_operations(session, described)
            metrics.warehouse_up.set(1)
        except SQLAlchemyError:  # the request metrics must still reach Prometheus
            metrics.warehouse_up.set(0)
            log.exception("platform health metrics unavailable: the warehouse did not answer")
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (
        docs.router,
        pages.router,
        signin.router,
        standings.router,
        model.router,
        web_recipes.router,
        web_bot.router,
        web_voting.router,
    ):
        app.include_router(router)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        """A page's error as a page (a sign-in asked for: the sign-in form); the API's as
        JSON. A 405 names every method the path takes."""
        if error.status_code == 405:
            allow = ", ".join(allowed_methods(request.app, request.scope))
            error = StarletteHTTPException(405, error.detail, headers={"Allow": allow})
        if not is_page(request):
            return await http_exception_handler(request, error)
        if error.status_code == 401 and request.method == "GET":
            target = quote(request.url.path, safe="/")
            return RedirectResponse(f"/signin?next={target}", status_code=303)
        page = page_error(request, error.status_code, str(error.detail))
        page.headers.update(error.headers or {})
        return page

    install_openapi(app)
    # outermost last: metrics, the body limit, the whole body read (at a minimum rate) and
    # checked, a cached read answered, then admission: a body still arriving, or a read known
    # already, never holds an admission slot
    app.add_middleware(AdmissionMiddleware, limit=settings.max_inflight, registry=built.layers)
    # a racing read already answered for this build: from memory, before admission
    app.add_middleware(ReadCacheMiddleware, cache=built.cache)
    app.add_middleware(
        InputGuardMiddleware, wait_s=settings.body_wait_s, min_rate=settings.body_min_rate
    )
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(SecurityHeadersMiddleware)  # on every answer, refusals included
    if settings.trusted_proxies.strip():  # outermost: every layer sees the real client
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        """FastAPI's 422, with what it echoes made JSON-safe (an infinite float made the
        answer itself fail: a 500)."""
        detail = jsonable_encoder(finite(error.errors()))
        if is_page(request):  # a page's bad input is a page naming the field, never JSON
            return page_error(request, 422, "; ".join(_named(e) for e in detail))
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(SQLAlchemyTimeout)
    async def pool_timeout(request: Request, error: SQLAlchemyTimeout) -> Response:
        log.warning("no database connection within the pool timeout: %s", request.url.path)
        return busy("the database is busy: retry in 1 s")

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, error: OperationalError) -> Response:
        if timed_out(error):
            log.warning("a statement passed its time limit: %s", request.url.path)
            limit = f"{settings.statement_timeout_s:g}"
            return busy(f"the database took longer than {limit} s for this request: retry later")
        if "database is locked" not in str(error.orig):
            raise error
        return busy("the database is busy writing: retry in 1 s")

    return app


def _named(error: dict[str, Any]) -> str:
    """One validation error as a person reads it: "round: Input should be ..." """
    where = [str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body")]
    return f"{'.'.join(where) or 'input'}: {error.get('msg', 'not valid')}"
