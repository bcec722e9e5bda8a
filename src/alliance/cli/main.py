"""Entry point of the `alliance` command.

Each command group lives in its own module and is registered below. A command
parses its arguments, calls the core, and prints; errors raised on purpose by
the core become a one-line message and exit status 1, never a traceback.
"""

from __future__ import annotations

import click

from alliance import __version__
from alliance.core.errors import AllianceError


class AllianceGroup(click.Group):
    """A click group that turns core errors into clean command-line errors."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except AllianceError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=AllianceGroup, context_settings={"help_option_names": ["-h", "--help"],
                                                  "max_content_width": 100})
@click.version_option(__version__, prog_name="alliance")
def cli() -> None:
    """Alliance: measure, monitor and strengthen the therapeutic alliance.

    Research commands work on CSV exports (long format: one row per client
    session) and print a readable table, or JSON with --json.

    \b
    Example:
      alliance simulate --clients 200 --sessions 12 --seed 1 --out sim/
      alliance signals sim/sessions.csv --score alliance --rule sd1
    """


# Command groups, one module each. Each module exposes COMMANDS, a list of click commands.
COMMAND_MODULES: tuple[str, ...] = (
    "analyze",
    "psychometrics",
    "instruments",
    "simulate",
    "signals",
    "server",
    "demo",
)


def _register() -> None:
    import importlib

    for name in COMMAND_MODULES:
        module = importlib.import_module(f"alliance.cli.{name}")
        for command in module.COMMANDS:
            cli.add_command(command)


_register()
