"""MLflow's tracking server as `f1 up` runs it (`mlflow server --app-name f1`): MLflow's own
app, with the UI's defaults set for a model platform.

MLflow 3's UI opens every experiment in its GenAI view (traces, token costs, an assistant
panel that opens itself) unless the browser has chosen "Model training": the choice is the
UI's `mlflow.workflowType` (in the address, else in the browser's storage, default GenAI), and
the experiment's `mlflow.experimentKind` tag is no longer read. The UI's page is served here
with a script that makes "Model training" the default and keeps the assistant closed until
asked, in a browser that has not chosen otherwise."""

from __future__ import annotations

import json
from typing import Any

from mlflow.server.fastapi_app import app as mlflow_app

# the UI's storage keys (`<key>_v<version>`, JSON values); a choice already made is kept
DEFAULTS = {
    "mlflow.workflowType_v1": "machine_learning",
    "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1": True,
    "mlflow.assistant.panelOpen_v1": False,
}
SCRIPT = (
    "<script>(function(){try{var d="
    + json.dumps(DEFAULTS)
    + ";for(var k in d){if(localStorage.getItem(k)===null)"
    "localStorage.setItem(k,JSON.stringify(d[k]))}}catch(e){}})();</script>"
).encode()
PAGES = ("/", "/index.html")


class WithDefaults:
    """Pure ASGI: the UI's page (GET / or /index.html, HTML) with SCRIPT at the top of its
    head, before MLflow's own scripts read the storage; everything else untouched."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["path"] not in PAGES:
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        body: list[bytes] = []

        async def buffered(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            page = b"".join(body)
            headers = [
                (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
            ]
            kind = dict(headers).get(b"content-type", b"")
            if start.get("status") == 200 and kind.startswith(b"text/html"):
                page = page.replace(b"<head>", b"<head>" + SCRIPT, 1)
                headers = [(k, v) for k, v in headers if k.lower() != b"etag"]
            headers.append((b"content-length", str(len(page)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, buffered)


app = WithDefaults(mlflow_app)
