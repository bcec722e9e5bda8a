"""`alliance demo`: a local demo clinic, seeded and served in one command.

The demo runs the production settings (DEBUG off, gunicorn, WhiteNoise) with what a
laptop needs instead of a deployment's environment: a local SQLite database and a secret
key generated once and kept in the data folder, and plain HTTP on the loopback address.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import time
from pathlib import Path

import click

from alliance.cli.server import ENCRYPTION_KEY_FILE, SECRET_KEY_FILE, data_folder, run_server
from alliance.web.private_files import private_folder

PASSWORD_FILE = "demo-password"
LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]"]

# Words for the demo password: easy to read out and type.
_WORDS = ("amber", "anchor", "aspen", "bramble", "breeze", "cedar", "clover", "comet",
          "coral", "dawn", "delta", "ember", "fern", "fjord", "garnet", "glade", "harbour",
          "hazel", "heron", "indigo", "juniper", "kestrel", "lantern", "linden", "maple",
          "meadow", "nectar", "orchid", "otter", "pebble", "quartz", "raven", "river",
          "saffron", "sparrow", "summit", "thistle", "tide", "umber", "valley", "willow",
          "wren")


def _kept(path: Path, make) -> str:
    """The text in `path`; created (readable by the owner only) on first use."""
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    value = make()
    private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def new_password() -> str:
    words = [secrets.choice(_WORDS) for _ in range(3)]
    return "-".join(words) + f"-{secrets.randbelow(90) + 10}"


def new_encryption_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


def demo_environment(folder: Path, host: str, port: int) -> dict[str, str]:
    """Environment for the demo's settings; the server process inherits it."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    hosts = list(LOCAL_HOSTS)
    if host not in hosts and not (address is not None and address.is_unspecified):
        hosts.append(f"[{host}]" if address is not None and address.version == 6 else host)
    shown = "localhost" if address is not None and (address.is_loopback
                                                   or address.is_unspecified) else host
    _kept(folder / ENCRYPTION_KEY_FILE, new_encryption_key)
    return {
        "ALLIANCE_ENCRYPTION_KEY_FILE": str(folder / ENCRYPTION_KEY_FILE),
        "ALLIANCE_SECRET_KEY": _kept(folder / SECRET_KEY_FILE,
                                     lambda: secrets.token_urlsafe(50)),
        "ALLIANCE_DEBUG": "false",
        # Plain HTTP: the demo listens on this machine, with no TLS proxy in front.
        "ALLIANCE_HTTPS": "false",
        "ALLIANCE_ALLOWED_HOSTS": os.environ.get("ALLIANCE_ALLOWED_HOSTS") or ",".join(hosts),
        "ALLIANCE_BASE_URL": f"http://{shown}:{port}",
        "ALLIANCE_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        # The demo's staff sign in with the printed password alone (no authenticator app).
        "ALLIANCE_STAFF_2FA": "false",
    }


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the demo speaks plain HTTP: keep it on this machine).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--reset", is_flag=True,
              help="Delete the demo database and seed a fresh clinic (dates ending today).")
def demo(host: str, port: int, reset: bool) -> None:
    """Run a demo clinic on this machine, with months of realistic history.

    Creates (or reuses) a SQLite database in the data folder (`var/` in the current
    folder, or in ALLIANCE_DATA_DIR), seeds a clinic from the simulator (an
    administrator, a supervisor, three therapists, about forty clients with check-ins,
    ruptures and signals, two of them with a client portal account), prints the address,
    the demo logins and a check-in link to try the client's form, and serves it with
    gunicorn. The data folder also keeps the
    demo's secret key and password. Press Ctrl+C to stop.

    \b
    Example:
      alliance demo
      alliance demo --port 8080 --reset
    """
    folder = data_folder()
    # The demo always uses its own local database, key and e-mail (printed, never sent).
    os.environ.pop("DATABASE_URL", None)
    try:
        os.environ.update(demo_environment(folder, host, port))
        password = _kept(folder / PASSWORD_FILE, new_password)
    except OSError as exc:
        raise click.ClickException(
            f"cannot use the data folder {folder} ({exc.strerror}); run the demo in a "
            "writable folder or set ALLIANCE_DATA_DIR") from None

    from alliance.cli.server import prepare_server, setup_django

    setup_django()
    from django.conf import settings
    from django.db import connections

    from alliance.web import demo as seeding
    from alliance.web import localtime

    if reset:
        _remove_database(Path(settings.SQLITE_PATH))
    prepare_server()   # migrate, collectstatic
    started = time.perf_counter()
    seeded = seeding.seed_demo(password)
    elapsed = time.perf_counter() - started
    if not seeded.created and not seeding.password_matches(password):
        seeding.set_password(password)
    link = seeding.checkin_link(seeded.clinic)
    attention = seeding.attention_count(seeded.clinic)
    connections.close_all()

    base = settings.BASE_URL
    click.echo("")
    if seeded.created:
        click.echo(f"Seeded the demo clinic '{seeded.clinic.name}' in {elapsed:.1f} s "
                   f"({folder}).")
    else:
        click.echo(f"Using the demo clinic '{seeded.clinic.name}' in {folder}, seeded on "
                   f"{localtime.format_date(seeded.clinic.created_at, seeded.clinic)}; "
                   "`alliance demo --reset` starts "
                   "afresh with dates ending today.")
    click.echo(f"{attention} signals need attention across the caseloads. Times are the "
               f"clinic's, in {seeded.clinic.time_zone} (ALLIANCE_TIME_ZONE when seeding).")
    click.echo("")
    click.echo(f"  Open {base}/ and sign in as:")
    width = max(len(login.email) for login in (*seeded.logins, *seeded.client_logins))
    for login in seeded.logins:
        click.echo(f"    {login.email:<{width}}  {login.name} ({login.role})")
    if seeded.client_logins:
        click.echo(f"  Clients sign in to the client portal at {base}/portal/sign-in/ as:")
        for login in seeded.client_logins:
            click.echo(f"    {login.email:<{width}}  {login.name}")
    click.echo(f"  Password (every login): {password}")
    click.echo("")
    click.echo("  A client's check-in, as it arrives on their phone (works once):")
    click.echo(f"    {base}{link.path}")
    click.echo("")
    click.echo("  Check-ins go out by themselves: record an attended session and the e-mail to")
    click.echo("  the client appears in this terminal (the demo prints e-mails, never sends).")
    click.echo("")
    run_server(host, port, workers=2, threads=4, prepare=False)


COMMANDS = [demo]
