"""Entry point of the `alliance` command.

Each command group lives in its own module and is registered below. A command
parses its arguments, calls the core, and prints; errors raised on purpose by
the core become a one-line message and exit status 1, never a traceback.

Exit status: 0 success; 1 bad data or input (a file, a value the core refuses,
a failed check); 2 a usage error (an unknown command or option, a missing or
malformed argument); 3 a computing cluster that cannot be used (--dask: its
scheduler does not answer, dask is not installed, or it lost the work). Every
error is one line on standard error, ``Error: ...``.
"""

from __future__ import annotations

import importlib
import sys

import click

from alliance import __version__
from alliance.core.errors import AllianceError, ClusterError


class AllianceGroup(click.Group):
    """The top-level group: imports a command's module only when that command is used,
    and turns core errors into clean command-line errors."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            module = importlib.import_module(f"alliance.cli.{COMMANDS[name]}")
            for command in module.COMMANDS:
                self.add_command(command)
        return self.commands.get(name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ClusterError as exc:
            error = click.ClickException(str(exc))
            error.exit_code = CLUSTER_UNUSABLE
            raise error from None
        except AllianceError as exc:
            raise click.ClickException(str(exc)) from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """As click's main, but every error is one line: click prints a usage error as the
        usage, a hint and the message (three lines)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except _NO_ARGS_IS_HELP as exc:
            # A bare group (`alliance`, `alliance analyze`) prints its help, as click does.
            exc.show()
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} -h')" if exc.ctx is not None else ""
            _fail(exc.format_message().rstrip(".") + hint, exc.exit_code)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(1)
        # Without standalone mode click returns the code of an explicit exit (e.g. after
        # -h) and None after a command that returned normally.
        sys.exit(code if isinstance(code, int) else 0)


#: Exit status when the computing cluster (--dask) cannot be used.
CLUSTER_UNUSABLE = 3

# click 8.2 and later raise this when a group is called without a command.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def _fail(message: str, code: int):
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    click.echo(f"Error: {line}", err=True)
    sys.exit(code)


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


# Every command and the module (in alliance.cli) that defines it. A module is imported
# only when one of its commands runs, so `alliance signals` does not pay for importing
# the statistics of `alliance analyze`. Each module lists its commands in COMMANDS.
COMMANDS: dict[str, str] = {
    "instruments": "instruments",
    "score": "instruments",
    "psychometrics": "psychometrics",
    "rci": "psychometrics",
    "cutoff": "psychometrics",
    "signals": "signals",
    "analyze": "analyze",
    "simulate": "simulate",
    "evaluate": "evaluate",
    "demo": "demo",
    "serve": "server",
    "manage": "server",
    "createclinic": "server",
    "worker": "server",
    "api-token": "api",
    "report": "report",
    "client": "clients",
    "backup": "backup",
    "restore": "backup",
    "audit": "audit",
    "fhir": "fhir",
    "import": "transfer",
    "export": "transfer",
}
