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
