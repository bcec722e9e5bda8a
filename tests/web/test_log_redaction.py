"""One-time tokens never reach a log: the production server's access and error logs, and
every logger of a Django process."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from alliance.web.redact import REDACTED, redact


@pytest.mark.parametrize("line, kept", [
    ('"GET /c/AbC-123_xyz/ HTTP/1.1" 200', '"GET /c/[redacted]/ HTTP/1.1" 200'),
    ("GET /portal/sign-in/tok3n/?next=/", "GET /portal/sign-in/[redacted]/?next=/"),
    ("/portal/welcome/MTI/c4x-5f6a7b/", "/portal/welcome/MTI/[redacted]/"),
    ("/password/set/NDI/c4x-5f6a7b/", "/password/set/NDI/[redacted]/"),
    ("http://h/account/password/reset/Mw/c4x-abc/", "http://h/account/password/reset/Mw/[redacted]/"),
    ("Referer: http://clinic.example/c/secret", "Referer: http://clinic.example/c/[redacted]"),
])
def test_the_token_of_every_link_page_is_replaced(line, kept):
    assert redact(line) == kept


@pytest.mark.parametrize("line", ["GET /c/thanks/ HTTP/1.1", "/portal/sign-in/sent/",
                                  "/account/password/reset/Mw/set-password/",
                                  "/cases/12/", "/portal/sign-in/"])
def test_other_pages_are_left_as_they_are(line):
    assert redact(line) == line


def test_every_logger_of_a_django_process_is_redacted(caplog, db):
    token = secrets.token_urlsafe(16)
    with caplog.at_level(logging.INFO):
        logging.getLogger("django.request").warning("Not Found: %s", f"/c/{token}/")
        logging.getLogger("anything.else").info("%(r)s", {"r": f"GET /portal/sign-in/{token}/"})
    assert token not in caplog.text
    assert caplog.text.count(REDACTED) == 2


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_production_servers_logs_hold_no_token(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALLIANCE_", "DJANGO_", "DATABASE_URL"))}
    env.update({"ALLIANCE_DATA_DIR": str(tmp_path), "ALLIANCE_SECRET_KEY": "s" * 60,
                "ALLIANCE_ENCRYPTION_KEYS": "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTAxMjM0NTY=",
                "ALLIANCE_HTTPS": "false", "ALLIANCE_ALLOWED_HOSTS": "127.0.0.1"})
    out = open(tmp_path / "server.log", "w+")
    server = subprocess.Popen(
        [sys.executable, "-c", "from alliance.cli.main import cli; cli()", "serve",
         "--port", str(port), "--workers", "1", "--no-worker"],
        env=env, stdout=out, stderr=subprocess.PIPE, text=True, start_new_session=True)
    tokens = [secrets.token_urlsafe(20) for _ in range(4)]
    try:
        seen = []
        for line in server.stderr:
            seen.append(line)
            if "Booting worker" in line:
                break
        else:
            raise AssertionError("server did not start:\n" + "".join(seen))
        base = f"http://127.0.0.1:{port}"
        paths = [f"/c/{tokens[0]}/", f"/portal/sign-in/{tokens[1]}/",
                 f"/password/set/MQ/{tokens[2]}/", f"/account/password/reset/MQ/{tokens[3]}/"]
        for path in paths:
            request = urllib.request.Request(base + path,
                                             headers={"Referer": base + paths[0]})
            try:
                urllib.request.urlopen(request, timeout=30).read()
            except urllib.error.HTTPError as exc:
                assert exc.code in (404, 410, 200), exc
        # The access log line of the last request is written after its answer: one more
        # request whose line follows it.
        urllib.request.urlopen(base + "/login/", timeout=30).read()
    finally:
        server.terminate()
        _, rest = server.communicate(timeout=30)
        seen.append(rest)
    out.seek(0)
    logs = out.read() + "".join(seen)
    out.close()
    assert "GET /login/" in logs  # the access log is there
    assert logs.count(REDACTED) >= 4
    for token in tokens:
        assert token not in logs, logs
