"""Every command answers -h with a description and an example."""

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
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output
