"""Headers every answer carries: what a browser may do with it, and how caches may keep it.

- `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`, and no framing by any
  other page (`X-Frame-Options: DENY`, CSP `frame-ancestors 'none'`): the other UIs on the same
  host (Airflow, MLflow) cannot frame the bot's page.
- A page's Content-Security-Policy: scripts and everything else from this site only, no inline
  script (Vega's charts compile their expressions, hence `'unsafe-eval'`); Swagger UI and
  ReDoc (`/docs`, `/redoc`) start from an inline script of FastAPI's, allowed there only (and
  ReDoc searches in a worker it makes from a blob: `worker-src 'self' blob:` there).
- A page answers a full page or, to htmx, a fragment at the same URL: `Vary: HX-Request`, and
  `Cache-Control: private, no-cache` (it depends on who is signed in).
- A 405 names every method the path takes (`Allow`), not only those of the first route.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.routing import Match

PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DOCS_POLICY = PAGE_POLICY.replace("'unsafe-eval'", "'unsafe-inline'") + "; worker-src 'self' blob:"
API_POLICY = "default-src 'none'; frame-ancestors 'none'"
DOCS = ("/docs", "/redoc")
ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


def allowed_methods(app: Any, scope: MutableMapping[str, Any]) -> list[str]:
    """Every method some route of `app` takes at the request's path."""
    methods: set[str] = set()
    for route in app.routes:
        match, _ = route.matches({**scope, "type": "http"})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


class SecurityHeadersMiddleware:
    """A pure ASGI middleware adding the headers above to every answer."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                html = any(
                    n.lower() == b"content-type" and v.startswith(b"text/html") for n, v in headers
                )
                policy = (DOCS_POLICY if path in DOCS else PAGE_POLICY) if html else API_POLICY
                added = [*ALWAYS, (b"content-security-policy", policy.encode())]
                if html:
                    added.append((b"cache-control", b"private, no-cache"))
                    vary = [v for n, v in headers if n.lower() == b"vary"]
                    headers = [(n, v) for n, v in headers if n.lower() != b"vary"]
                    names.discard(b"vary")
                    added.append((b"vary", b", ".join([*vary, b"HX-Request"])))
                headers += [(n, v) for n, v in added if n not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
