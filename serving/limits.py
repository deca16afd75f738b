"""Request bodies are refused with 413 before they are parsed when they are over the limit:
1 MiB, or 8 MiB for an election's roll (a CSV of members). A declared Content-Length over the
limit is refused before a byte is read; a body sent without one (chunked) is counted as it
arrives and refused as soon as it passes the limit, so no request can make the process hold more
than the limit."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_BODY = 1 << 20
MAX_ROLL = 8 << 20
ROLL = re.compile(r"^/api/v1/voting/elections/[^/]+/members$")


def limit_for(path: str) -> int:
    """The largest body the route at `path` takes, in bytes."""
    return MAX_ROLL if ROLL.match(path) else MAX_BODY


class BodyLimitMiddleware:
    """A pure ASGI middleware: 413 in the API's error shape (`{"detail": …}`)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, int(declared), limit)
            return
        seen = {"bytes": 0, "started": False, "refused": False}

        async def counted() -> Any:
            if seen["refused"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen["bytes"] += len(message.get("body", b""))
                if seen["bytes"] > limit and not seen["started"]:
                    # answer now; the app sees the client go away and its answer is dropped
                    seen["refused"] = True
                    await _refuse(send, None, limit)
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Any) -> None:
            if seen["refused"]:
                return
            if message["type"] == "http.response.start":
                seen["started"] = True
            await send(message)

        await self.app(scope, counted, watched)


async def _refuse(send: Any, size: int | None, limit: int) -> None:
    what = f"of {size:,} bytes" if size is not None else "that keeps coming"
    detail = f"request body {what} is over the limit of {limit:,} bytes"
    await send_json(send, 413, {"detail": detail}, [(b"connection", b"close")])


async def send_json(
    send: Any, status: int, payload: Any, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer a request from a pure ASGI middleware: `payload` as JSON, with `headers`."""
    body = json.dumps(payload).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": start + (headers or [])}
    )
    await send({"type": "http.response.body", "body": body})
