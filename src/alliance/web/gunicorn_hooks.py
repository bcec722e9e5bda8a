"""gunicorn server hooks: run one background worker (`alliance worker`) beside the web server.

Used by `alliance serve` and `alliance demo` (`--config python:alliance.web.gunicorn_hooks`),
so that one command gives a complete server. The worker runs at a lower CPU priority than
the web processes: a person waiting for a page comes before a recomputation. It stops with
gunicorn, and on its own if gunicorn is killed.
"""

from __future__ import annotations

import os
import subprocess
import sys

_worker: subprocess.Popen | None = None


def when_ready(server) -> None:
    global _worker
    command = [sys.executable, "-c", "from alliance.cli.main import cli; cli()",
               "worker", "--exit-with", str(os.getpid())]
    _worker = subprocess.Popen(command, preexec_fn=lambda: os.nice(5))
    server.log.info("Started the background worker (pid %s)", _worker.pid)


def on_exit(server) -> None:
    if _worker is not None and _worker.poll() is None:
        _worker.terminate()
        try:
            _worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _worker.kill()
