"""Server commands: run the web application, manage its database, create the first clinic.

Django is imported only when one of these commands runs, so the research commands start
fast and work without any web configuration.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

SETTINGS_MODULE = "alliance.web.settings"

# The demo's keys, in files of its data folder (`alliance demo` makes them; the other
# commands run in the same folder find them).
SECRET_KEY_FILE = "demo-secret-key"
# The key that encrypts free text at rest: beside the database, never in it.
ENCRYPTION_KEY_FILE = "demo-encryption-key"


def data_folder() -> Path:
    """The folder holding the demo's database, key and password: `var/` in ALLIANCE_DATA_DIR.

    The same rule as the settings' SQLITE_PATH (ALLIANCE_DATA_DIR, else the current folder).
    """
    from alliance.web.env import env_str

    base = Path(env_str("ALLIANCE_DATA_DIR", str(Path.cwd()))).expanduser().resolve()
    return base / "var"


def _demo_keys() -> None:
    """In the demo's data folder, commands find its keys without being told.

    `alliance demo` keeps its secret key and encryption key in files of its data folder and
    hands them to its server; `alliance audit verify`, `backup`, `restore` and `manage` run
    in the same folder use them too, unless keys or another database are configured.
    """
    if os.environ.get("DATABASE_URL"):
        return
    folder = data_folder()
    encryption, secret = folder / ENCRYPTION_KEY_FILE, folder / SECRET_KEY_FILE
    if (encryption.is_file() and not os.environ.get("ALLIANCE_ENCRYPTION_KEYS")
            and not os.environ.get("ALLIANCE_ENCRYPTION_KEY_FILE")):
        os.environ["ALLIANCE_ENCRYPTION_KEY_FILE"] = str(encryption)
    if secret.is_file() and not os.environ.get("ALLIANCE_SECRET_KEY"):
        os.environ["ALLIANCE_SECRET_KEY"] = secret.read_text(encoding="utf-8").strip()


def setup_django() -> None:
    """Configure Django with our settings (from the environment); clean error when they are bad."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    if os.environ["DJANGO_SETTINGS_MODULE"] == SETTINGS_MODULE:
        _demo_keys()
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django
        from django.conf import settings

        settings.DATABASES  # noqa: B018 - reading a setting loads and checks them all
        django.setup()
    except ImproperlyConfigured as exc:
        raise click.ClickException(f"configuration: {exc}") from None


def call_command(*args: str, **options) -> None:
    from django.core import management

    management.call_command(*args, **options)


@click.command(context_settings={"ignore_unknown_options": True,
                                 "allow_interspersed_args": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command with Alliance's settings.

    Everything after `manage` is passed to Django unchanged; `alliance manage help`
    lists the commands.

    \b
    Example:
      alliance manage migrate
      alliance manage check --deploy
    """
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["alliance manage", *args])


def default_workers() -> int:
    # gunicorn's rule of thumb, capped: a small server does not need more.
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def gunicorn_command(host: str, port: int, workers: int, threads: int, *,
                     task_worker: bool = True) -> list[str]:
    """gunicorn's command line; with `task_worker`, gunicorn also runs `alliance worker`."""
    command = [sys.executable, "-m", "gunicorn", "alliance.web.wsgi:application",
               "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", str(threads),
               "--access-logfile", "-",
               "--forwarded-allow-ips", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")]
    if task_worker:
        command += ["--config", "python:alliance.web.gunicorn_hooks"]
    return command


def _run_system_checks() -> None:
    # A server must not start with an error the checks know of (e.g. no encryption key):
    # `call_command` skips them unless asked.
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", fail_level="ERROR")
    except SystemCheckError as exc:
        raise click.ClickException(str(exc).strip()) from None


def prepare_server() -> None:
    """Apply migrations and, outside debug mode, collect static files for WhiteNoise."""
    setup_django()
    from django.conf import settings
    from django.db import connections

    _run_system_checks()
    call_command("migrate", interactive=False, verbosity=0)
    if not settings.DEBUG:
        call_command("collectstatic", interactive=False, verbosity=0)
    connections.close_all()


def run_server(host: str, port: int, workers: int, threads: int, *, prepare: bool = True,
               task_worker: bool = True):
    """Prepare, then replace this process with gunicorn, so that signals reach it directly."""
    if prepare:
        prepare_server()
    else:
        setup_django()
    command = gunicorn_command(host, port, workers, threads, task_worker=task_worker)
    click.echo(f"Serving Alliance on http://{host}:{port}/ (press Ctrl+C to stop)", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, command, os.environ)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--workers", default=default_workers, show_default="2 × cores + 1, at most 8",
              type=click.IntRange(1, 64), help="gunicorn worker processes.")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Threads per worker.")
@click.option("--no-prepare", is_flag=True,
              help="Skip `migrate` and `collectstatic` before starting.")
@click.option("--no-worker", is_flag=True,
              help="Do not start the background worker (run `alliance worker` elsewhere).")
def serve(host: str, port: int, workers: int, threads: int, no_prepare: bool,
          no_worker: bool) -> None:
    """Run the web application with gunicorn (a production WSGI server).

    Applies database migrations and collects static files first (served by WhiteNoise),
    and starts one background worker beside the web processes (`alliance worker`: it
    recomputes signals after check-ins). Settings come from the environment:
    ALLIANCE_SECRET_KEY, ALLIANCE_ALLOWED_HOSTS, DATABASE_URL and the others listed in
    docs/web.md.

    \b
    Example:
      export ALLIANCE_SECRET_KEY=... DATABASE_URL=postgres://alliance@localhost/alliance
      alliance serve --host 0.0.0.0 --port 8000 --workers 4
    """
    run_server(host, port, workers, threads, prepare=not no_prepare, task_worker=not no_worker)


@click.command()
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(0.1, 60),
              help="Seconds between looks at an empty queue.")
@click.option("--batch", is_flag=True, help="Run the waiting tasks, then exit.")
@click.option("--exit-with", type=int, default=None, hidden=True,
              help="Stop when the process with this id (the web server) is gone.")
def worker(interval: float, batch: bool, exit_with: int | None) -> None:
    """Run the background worker: it recomputes signals and sends what goes out by itself.

    Takes its tasks from the database (Django's tasks framework, database backend) and,
    every half minute, runs the periodic jobs that are due and sends the due check-ins,
    reminders and notices (each exactly once, also with several workers). One worker is
    enough for a clinic; `alliance serve` starts one unless --no-worker is
    given, so run this yourself only when the web server runs without it (e.g. one worker
    beside several web machines). Stops cleanly on Ctrl+C or SIGTERM after the task it
    is running.

    \b
    Example:
      alliance worker
      alliance worker --batch
    """
    setup_django()
    import threading

    from alliance.web.outreach import jobs

    if exit_with is not None:
        _stop_when_gone(exit_with)
    stop = threading.Event()
    if batch:
        jobs.tick()  # what is due now; the tasks it queues run below
    else:
        jobs.run_in_background(stop)
    try:
        call_command("db_worker", interval=interval, batch=batch, reload=False,
                     startup_delay=False, verbosity=1)
    finally:
        stop.set()


def _stop_when_gone(pid: int) -> None:
    """Send ourselves SIGTERM (a clean stop) once process `pid` has gone, e.g. killed."""
    import signal
    import threading
    import time

    def watch():
        while os.getppid() == pid:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@click.command()
@click.argument("name")
@click.option("--admin-email", required=True,
              help="E-mail address of the clinic's first administrator.")
@click.option("--admin-name", default="", help="Their name as shown to colleagues.")
@click.option("--base-url", default=None,
              help="Address of the site, for the link [default: ALLIANCE_BASE_URL].")
def createclinic(name: str, admin_email: str, admin_name: str, base_url: str | None) -> None:
    """Create a clinic and its first administrator, and print their set-password link.

    Applies database migrations first, so it also works on a new database.

    \b
    Example:
      alliance createclinic "Riverside Counselling" --admin-email admin@riverside.example
    """
    setup_django()
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from alliance.web.clinics import services
    from alliance.web.errors import DomainError

    try:
        validate_email(admin_email)
    except ValidationError:
        raise click.BadParameter(f"{admin_email!r} is not an e-mail address",
                                 param_hint="--admin-email") from None
    call_command("migrate", interactive=False, verbosity=0)
    try:
        admin = services.create_clinic(name, admin_email, admin_name)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created clinic '{admin.clinic.name}' with administrator {admin.user.email}.")
    click.echo("They choose a password here (the link works once and expires):")
    click.echo(services.set_password_url(admin.user, base_url))


COMMANDS = [manage, serve, createclinic, worker]
