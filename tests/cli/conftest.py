"""Helpers the command-line tests share, as fixtures.

- ``run(*args)`` runs ``alliance ARGS`` in-process (arguments turned into strings) and
  returns click's result (``exit_code``, ``output``, ``stdout``, ``stderr``).
- ``write(text, name=...)`` writes a file into the test's temporary directory and returns
  its path; the default name is the module's ``CSV_NAME`` (or ``data.csv``).
- ``assert_clean_error(result, *fragments, code=1)`` checks a clean failure: the exit
  status (1 bad data or input, 2 usage), no traceback, and each fragment in the output.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from alliance.cli.main import cli


@pytest.fixture
def run():
    def invoke(*args):
        return CliRunner().invoke(cli, [str(a) for a in args], prog_name="alliance")
    return invoke


@pytest.fixture
def write(tmp_path, request):
    default = getattr(request.module, "CSV_NAME", "data.csv")

    def write_file(text: str, name: str = default):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write_file


@pytest.fixture
def assert_clean_error():
    def check(result, *fragments, code: int = 1):
        assert result.exit_code == code, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        for fragment in fragments:
            assert fragment in result.output
    return check
