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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands in `alliance -h`, from SUMMARIES: importing every command's
        module to read its help took most of the two seconds `alliance -h` needed."""
        rows = []
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        for name in names:
            command = self.commands.get(name) or _summary(name)
            rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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

# What `alliance -h` shows of each command (its `short_help`, or the first paragraph of its
# help): a test checks that it says what the command itself says.
SUMMARIES: dict[str, str] = {
    'analyze': 'Research analyses of session data (long format: one row per client session).',
    'api-token': 'Create, list and revoke tokens for the REST API.',
    'audit': 'The audit trail: who read, changed or exported client data, and every sign-in.',
    'backup': 'Back up the database to PATH (a new file) while the server keeps running.',
    'client': "A client's data: export everything held about them, or erase it.",
    'createclinic': 'Create a clinic and its first administrator, and print their set-password link.',
    'cutoff': 'Clinical cutoff (Jacobson & Truax a, b or c).',
    'demo': 'Run a demo clinic on this machine, with months of realistic history.',
    'evaluate': 'Check signal rules against a known truth (for example a simulated clinic).',
    'export': 'Take data out of a clinic: pseudonymised research exports.',
    'fhir': 'Exchange instruments with other systems as HL7 FHIR R4 Questionnaires.',
    'import': 'Bring data from another system into a clinic.',
    'instruments': 'Instrument definitions: the bundled ones, and checking your own.',
    'manage': "Run a Django management command with Alliance's settings.",
    'psychometrics': 'Alpha, omega and item statistics of a scale.',
    'rci': 'Reliable change index of one client.',
    'report': 'PDF reports: a clinic report, and a case report for the record or for the client.',
    'restore': 'Restore the database from a backup made by `alliance backup`.',
    'score': 'Score a wide CSV or Parquet file: one row per administration, one column per item id.',
    'serve': 'Run the web application with gunicorn (a production WSGI server).',
    'signals': 'Find alliance ruptures and their repair in a long-format CSV or Parquet file (one row per client session), with the exact rule of docs/signals.md.',
    'simulate': 'Simulate a clinic: clients nested in therapists, session-by-session client and therapist alliance (bond, goals, tasks), wellbeing, no-shows and dropouts, with planted V-shaped ruptures, some repaired.',
    'worker': 'Run the background worker: it recomputes signals and sends what goes out by itself.',
}

#: Commands whose summary is a `short_help` (shown whole, never shortened).
_SHORT_HELP = {"cutoff", "psychometrics", "rci"}


def _summary(name: str) -> click.Command:
    """A stand-in with the command's summary, for the list of commands only."""
    if name in _SHORT_HELP:
        return click.Command(name, short_help=SUMMARIES[name])
    return click.Command(name, help=SUMMARIES[name])
