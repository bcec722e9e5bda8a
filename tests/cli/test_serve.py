"""`alliance serve` runs gunicorn with production settings and serves pages and static files."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_migrates_collects_static_and_answers_on_loopback(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALLIANCE_", "DJANGO_", "DATABASE_URL"))}
    env.update({"ALLIANCE_DATA_DIR": str(tmp_path), "ALLIANCE_SECRET_KEY": "s" * 60,
                "ALLIANCE_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTAxMjM0NTY=",
                "ALLIANCE_HTTPS": "false", "ALLIANCE_ALLOWED_HOSTS": "127.0.0.1"})
    server = subprocess.Popen(
        [sys.executable, "-c", "from alliance.cli.main import cli; cli()", "serve",
         "--port", str(port), "--workers", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    try:
        # Wait for gunicorn to say its worker is up (a blocking read: no sleeping).
        seen = []
        for line in server.stderr:
            seen.append(line)
            if "Booting worker" in line:
                break
        else:
            raise AssertionError("server did not start:\n" + "".join(seen))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=30) as page:
            html = page.read().decode()
            assert page.status == 200
            assert "Content-Security-Policy" in page.headers
        css = next(part for part in html.split('"') if part.endswith(".css"))
        assert css.startswith("/static/alliance/css/alliance.") and css != \
            "/static/alliance/css/alliance.css"  # hashed name from the manifest
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{css}", timeout=30) as sheet:
            assert sheet.status == 200
            assert "max-age" in sheet.headers["Cache-Control"]
        assert (tmp_path / "var" / "alliance.sqlite3").exists()
    finally:
        # `alliance serve` becomes gunicorn (exec), so this stops the server itself.
        server.terminate()
        server.wait(timeout=30)
        server.stderr.close()


def test_a_malformed_setting_is_a_one_line_error_not_a_traceback(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALLIANCE_", "DJANGO_", "DATABASE_URL"))}
    env.update({"ALLIANCE_DATA_DIR": str(tmp_path), "ALLIANCE_DEBUG": "ture"})
    result = subprocess.run(
        [sys.executable, "-c", "from alliance.cli.main import cli; cli()", "manage", "check"],
        env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "ALLIANCE_DEBUG='ture' is not a yes/no value" in result.stderr
    assert "Traceback" not in result.stderr


def _wait_for(condition, timeout: float = 60.0, step: float = 0.2) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that exited but was not reaped yet is a zombie: gone for our purpose.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def test_serve_runs_the_background_worker_which_stops_when_the_server_is_killed(tmp_path):
    import re
    import signal
    import sqlite3

    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALLIANCE_", "DJANGO_", "DATABASE_URL"))}
    env.update({"ALLIANCE_DATA_DIR": str(tmp_path), "ALLIANCE_SECRET_KEY": "s" * 60,
                "ALLIANCE_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTAxMjM0NTY=",
                "ALLIANCE_HTTPS": "false", "ALLIANCE_ALLOWED_HOSTS": "127.0.0.1"})
    cli = [sys.executable, "-c", "from alliance.cli.main import cli; cli()"]
    server = subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", "1"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, start_new_session=True)
    worker_pid = None
    try:
        seen = []
        for line in server.stderr:
            seen.append(line)
            found = re.search(r"Started the background worker \(pid (\d+)\)", line)
            if found:
                worker_pid = int(found.group(1))
                break
        assert worker_pid, "no background worker:\n" + "".join(seen)
        # A task enqueued by another process (as a web request would) is run by the worker.
        subprocess.run([*cli, "manage", "shell", "-c",
                        "from alliance.web.monitoring.tasks import recompute_case; "
                        "recompute_case.enqueue(987654)"],
                       env=env, check=True, capture_output=True, timeout=120)
        database = tmp_path / "var" / "alliance.sqlite3"

        def done():
            with sqlite3.connect(database) as connection:
                return connection.execute(
                    "SELECT status, return_value FROM django_tasks_database_dbtaskresult").fetchall()

        assert _wait_for(lambda: done() == [("SUCCESSFUL", '"case gone"')]), done()
        # Killed without a chance to clean up, gunicorn leaves the worker behind: it notices
        # within a second or two and stops by itself.
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        assert _wait_for(lambda: not _alive(worker_pid), timeout=30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        if worker_pid and _alive(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)
        server.stderr.close()
