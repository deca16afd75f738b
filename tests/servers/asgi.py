"""An ASGI app (the service, the local CLOB V2 exchange) under uvicorn in a thread, on a port
of 127.0.0.1 the operating system picks, while entered."""

from __future__ import annotations

import threading
import time
from typing import Any


class AsgiServer:
    def __init__(self, app: Any) -> None:
        import uvicorn

        self.app = app
        # forwarded headers are the app's to believe (F1_SERVICE_TRUSTED_PROXIES), as in f1 serve
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", proxy_headers=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.port = 0  # the bound port, once entered

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started, "uvicorn did not start within 30 s"
        (bound,) = self.server.servers[0].sockets
        self.port = int(bound.getsockname()[1])
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
