"""Every command answers -h with a description and an example."""

import click
import pytest
from click.testing import CliRunner

from alliance.cli.main import cli


def all_commands(group=cli, path=()):
    yield path, group
    if isinstance(group, click.Group):
        for name, command in group.commands.items():
            yield from all_commands(command, (*path, name))


COMMANDS = list(all_commands())


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "alliance")
def test_every_command_has_help_with_an_example(path):
    result = CliRunner().invoke(cli, [*path, "-h"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    command = dict(COMMANDS)[path]
    if not isinstance(command, click.Group) or not path:
        assert "Example" in result.output, f"'alliance {' '.join(path)} -h' shows no example"


def test_an_unknown_command_is_a_clean_error():
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output
