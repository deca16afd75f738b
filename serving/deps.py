"""Dependencies shared by the routes and pages: what the service was built with (`Platform`,
typed, the only reader of `app.state`), the warehouse engine and per-request sessions."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from fastapi.dependencies.utils import get_flat_dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from serving.cache import Cache
    from serving.capacity import DatabaseProbe
    from serving.metrics import Metrics
    from serving.racing import Ratings
    from serving.served import ServedModels
    from serving.settings import ServiceSettings


@dataclass
class Platform:
    """What one service was built with (serving.app.create_app): its settings and the secret
    its tokens are signed with, the warehouse engine and its probe, the served models, the
    metrics, the answer cache, the current ratings and the middleware layers by name."""

    settings: ServiceSettings
    jwt_secret: str
    engine: Engine
    probe: DatabaseProbe
    models: ServedModels
    metrics: Metrics
    cache: Cache
    ratings: Ratings
    layers: dict[str, Any] = field(default_factory=dict)


def platform_of(connection: HTTPConnection) -> Platform:
    """The platform of the app answering `connection` (a request or a websocket)."""
    built: Platform = connection.app.state.platform
    return built


def install(app: Any, built: Platform) -> None:
    """Make `built` the platform of `app` (create_app; tests building an app by hand)."""
    app.state.platform = built


async def get_platform(request: Request) -> Platform:
    return platform_of(request)


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def get_engine(request: Request) -> Engine:
    """The warehouse engine the app was built with (async: no threadpool hop)."""
    return platform_of(request).engine


EngineDep = Annotated[Engine, Depends(get_engine)]


async def get_ballot_secret(request: Request) -> str:
    """The secret ballots are sealed with (F1_JWT_SECRET; apps.voting.box): 503 without one,
    since a secret made up at start-up would die with the process, and the ballots with it."""
    secret: str | None = platform_of(request).settings.jwt_secret
    if secret is None:
        raise HTTPException(
            503, "voting needs F1_JWT_SECRET: ballots are sealed with it until they are counted"
        )
    return secret


BallotSecret = Annotated[str, Depends(get_ballot_secret)]


async def get_session(engine: EngineDep) -> AsyncIterator[Session]:
    """One session per request. It takes a connection at its first query (in the route's
    thread) and is closed on the event loop when the route is done: closing hands the
    connection back at once, where a sync teardown would keep it while waiting for a free
    thread (serving.capacity)."""
    session = Session(engine)
    try:
        yield session
    finally:
        session.close()


def _closing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        finally:
            for value in kwargs.values():
                if isinstance(value, Session):
                    value.close()  # the connection goes back now, in this thread

    return run


class SessionRoute(APIRoute):
    """The API's routes.

    - A sync endpoint closes its request session before it returns, in its own thread: FastAPI
      validates a sync endpoint's answer in a second thread-pool hop, and a session still open
      then would hold its connection while waiting for a free thread (with more requests than
      connections, every thread ends up waiting for a connection held by a request waiting for
      a thread). Loaded objects stay readable after the close.
    - A query parameter the route does not take is a 422 naming it, as an unknown body field is
      (a misspelt `?seasn=2024` is not silently ignored)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _closing(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        taken = {p.alias for p in get_flat_dependant(self.dependant).query_params}

        async def checked(request: Request) -> Response:
            unknown = [name for name in request.query_params if name not in taken]
            if unknown:
                raise RequestValidationError(
                    [
                        {
                            "type": "extra_forbidden",
                            "loc": ("query", name),
                            "msg": f"unknown query parameter {name!r}",
                            "input": request.query_params[name],
                        }
                        for name in unknown
                    ]
                )
            return await handler(request)

        return checked


SessionDep = Annotated[Session, Depends(get_session)]
