"""Every command answers -h with a description and an example, and fails in one line.

Exit status: 0 success, 1 bad data or input, 2 a usage error (README, "Exit status").
"""

import importlib
import pkgutil

import click
import pytest
from click.testing import CliRunner

import alliance.cli
from alliance.cli.main import COMMANDS, cli


def all_commands(group=cli, path=()):
    yield path, group
    if isinstance(group, click.Group):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            yield from all_commands(group.get_command(ctx, name), (*path, name))


ALL = list(all_commands())


def invoke(args):
    return CliRunner().invoke(cli, args, prog_name="alliance")


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=lambda p: " ".join(p) or "alliance")
def test_every_command_has_help_with_an_example(path):
    result = CliRunner().invoke(cli, [*path, "-h"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    command = dict(ALL)[path]
    if not isinstance(command, click.Group) or not path:
        assert "Example" in result.output, f"'alliance {' '.join(path)} -h' shows no example"


def test_every_command_a_module_defines_is_listed_under_its_own_name():
    defined = {}
    for info in pkgutil.iter_modules(alliance.cli.__path__):
        if info.name == "main":
            continue
        module = importlib.import_module(f"alliance.cli.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            defined[command.name] = info.name
    assert defined == COMMANDS


def test_an_unknown_command_is_a_clean_error():
    result = invoke(["no-such-command"])
    assert result.exit_code == 2
    assert result.stderr == "Error: No such command 'no-such-command' (see 'alliance -h')\n"


# `alliance manage` hands its arguments to Django's own command line.
@pytest.mark.parametrize("path", [p for p, c in ALL
                                  if p and not isinstance(c, click.Group) and p != ("manage",)],
                         ids=lambda p: " ".join(p))
def test_every_usage_error_exits_2_with_one_line_naming_the_help(path):
    result = invoke([*path, "--no-such-option"])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr == (f"Error: No such option '--no-such-option' "
                             f"(see 'alliance {' '.join(path)} -h')\n")


@pytest.mark.parametrize("args, message", [
    (["rci", "--pre", "x", "--post", "2", "--sd", "3", "--reliability", ".8"],
     "Error: Invalid value for '--pre': 'x' is not a valid float (see 'alliance rci -h')"),
    (["rci", "--pre", "1"], "Error: Missing option '--post' (see 'alliance rci -h')"),
    (["psychometrics", "f.csv", "--items", "a,b", "--missing", "some"],
     "Error: Invalid value for '--missing': 'some' is not one of 'listwise', 'pairwise' "
     "(see 'alliance psychometrics -h')"),
])
def test_bad_option_values_and_missing_options_are_usage_errors_in_one_line(args, message):
    result = invoke(args)
    assert (result.exit_code, result.stderr) == (2, message + "\n")


def test_bad_data_exits_1_with_one_line(tmp_path):
    result = invoke(["rci", "--pre", "1", "--post", "2", "--sd", "3", "--reliability", "1"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: reliability")
    result = invoke(["psychometrics", str(tmp_path / "none.csv"), "--items", "a,b"])
    assert (result.exit_code, result.stderr) == (1, f"Error: {tmp_path / 'none.csv'}: file "
                                                    "not found\n")


def test_a_bare_group_prints_its_help():
    result = invoke(["analyze"])
    assert "Usage: alliance analyze" in result.output and "within-between" in result.output


@pytest.mark.parametrize("limit", [30, 45, 61, 81])
def test_the_list_of_commands_says_what_each_command_says(limit):
    from alliance.cli.main import _summary

    ctx = click.Context(cli)
    for name in COMMANDS:
        real = cli.get_command(ctx, name).get_short_help_str(limit)
        assert _summary(name).get_short_help_str(limit) == real, name


def test_the_help_lists_every_command_without_importing_them():
    import subprocess
    import sys

    code = ("import sys; from click.testing import CliRunner; from alliance.cli.main import cli;"
            "out = CliRunner().invoke(cli, ['-h']).output;"
            "print(sorted(m for m in sys.modules if m.startswith('alliance.cli.')));"
            "print(out)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    loaded, listing = done.stdout.split("\n", 1)
    assert loaded == "['alliance.cli.main']"
    assert all(f"  {name} " in listing for name in COMMANDS)
