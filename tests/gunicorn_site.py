"""``tests.stream_site`` served by gunicorn with real worker processes.

    with GunicornSite(database="test_h_stream", config={...}, workers=2) as site:
        answer = site.get("/api/me/", token)   # Answer(status, worker, trusted, remembered)

Each request opens its own connection, so the kernel hands requests to
whichever worker accepts first: asking often enough reaches every worker.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
# Seconds for gunicorn to start answering, at most.
START_TIMEOUT = 60


@dataclass(frozen=True)
class Answer:
    status: int
    worker: int
    trusted: bool
    remembered: bool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GunicornSite:
    def __init__(
        self, *, database: str, config: dict, workers: int = 2, gate: str | None = None, conn_max_age: int = 0
    ) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.stream_site",
            "STREAM_SITE_DATABASE": database,
            "STREAM_SITE_CONFIG": json.dumps(config),
            "STREAM_SITE_GATE": gate or "",
            "STREAM_SITE_CONN_MAX_AGE": str(conn_max_age),
            "PYTHONPATH": str(ROOT),
        }
        self.workers = workers
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> GunicornSite:
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [
                str(GUNICORN),
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "django.core.wsgi:get_wsgi_application()",
            ],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                self.get("/api/me/", None)
                return self
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.__exit__()
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def get(self, path: str, token: str | None) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Host": "127.0.0.1", "Connection": "close"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            return Answer(
                response.status,
                int(response.headers.get("X-Worker", 0)),
                response.headers.get("X-Trusted") == "true",
                response.headers.get("X-Remembered") == "true",
            )
        finally:
            connection.close()
