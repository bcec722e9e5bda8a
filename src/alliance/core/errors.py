"""Exceptions raised by the core.

Every error says what went wrong in words a user can act on. The command line
turns an `AllianceError` into a one-line message and a non-zero exit; the web
application turns it into a form error.
"""

from __future__ import annotations


class AllianceError(Exception):
    """Base class for every error the core raises on purpose."""


class InputError(AllianceError, ValueError):
    """Bad input data: names the file, line and column when they are known.

    ``line`` is the line number in the file as a text editor shows it
    (the header is line 1, the first data row line 2).
    """

    def __init__(self, problem: str, *, file: str | None = None,
                 line: int | None = None, column: str | None = None):
        self.problem = problem
        self.file = file
        self.line = line
        self.column = column
        super().__init__(self._message())

    def __reduce__(self):
        # Keyword arguments survive pickling (errors raised in another process, e.g. on
        # a Dask worker, arrive whole).
        return _input_error, (self.problem, self.file, self.line, self.column)

    def _message(self) -> str:
        where = []
        if self.file is not None:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.problem}" if where else self.problem


def _input_error(problem, file, line, column) -> InputError:
    return InputError(problem, file=file, line=line, column=column)


class DefinitionError(AllianceError, ValueError):
    """An instrument definition is broken: names the file, the field and the problem."""

    def __init__(self, problem: str, *, file: str | None = None, field: str | None = None):
        self.problem = problem
        self.file = file
        self.field = field
        where = ", ".join(p for p in (str(file) if file else None,
                                      f"field '{field}'" if field else None) if p)
        super().__init__(f"{where}: {problem}" if where else problem)


class ScoringError(AllianceError, ValueError):
    """A response cannot be scored: names the item and the offending value."""

    def __init__(self, problem: str, *, item: str | None = None, value: object = None):
        self.problem = problem
        self.item = item
        self.value = value
        prefix = f"item '{item}'" if item is not None else ""
        if item is not None and value is not None:
            prefix += f" (value {value!r})"
        super().__init__(f"{prefix}: {problem}" if prefix else problem)


class NotEnoughDataError(AllianceError):
    """There is too little data to compute something honestly; says how much is needed."""


class ClusterError(AllianceError):
    """The computing cluster cannot be used: its scheduler cannot be reached, its
    packages are not installed, or it lost the work (the command line exits with 3)."""
