"""Dependencies shared by the routes: the warehouse engine and per-request sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session


async def get_engine(request: Request) -> Engine:
    """The warehouse engine the app was built with (async: no threadpool hop)."""
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


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


SessionDep = Annotated[Session, Depends(get_session)]
