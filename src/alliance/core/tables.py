"""Reading tabular input (CSV exports) with errors that point at the bad cell.

The core reads only the files it is handed. Every reader here reports a
problem with the file name, the line number as an editor shows it (header is
line 1) and the column, so a researcher can open the file and fix it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError

#: Header line plus one because pandas rows are 0-based.
FIRST_DATA_LINE = 2


def read_csv(path: str | Path, *, required: Sequence[str] = (),
             numeric: Iterable[str] = (), integer: Iterable[str] = (),
             allow_missing: Iterable[str] | bool = True) -> pd.DataFrame:
    """Read a CSV file, check the columns it must have, and parse numeric columns.

    Parameters
    ----------
    path : file to read.
    required : columns that must be present.
    numeric : columns that must hold numbers (empty cells become NaN).
    integer : numeric columns whose values must be whole numbers.
    allow_missing : True (empty cells allowed in numeric columns), False, or
        the names of the numeric columns that may have empty cells.

    Raises
    ------
    InputError
        When the file is missing, empty or malformed, a column is missing, or a
        cell of a numeric column does not hold a number. The message names the
        file, the line and the column.
    """
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise InputError("file not found", file=name)
    if path.is_dir():
        raise InputError("is a folder, not a CSV file", file=name)
    integer = set(integer)
    numeric = list(dict.fromkeys([*numeric, *integer]))
    header = _header(path)
    # Identifiers stay text ("007" is not 7); numeric columns are parsed by the
    # fast C reader and checked cell by cell only when it could not parse them.
    missing_markers = ["", "NA", "NaN", "nan"]
    try:
        frame = pd.read_csv(
            path, engine="c", skipinitialspace=True, keep_default_na=False,
            dtype={c: str for c in header if c.strip() not in numeric},
            na_values={c: (missing_markers if c.strip() in numeric else [""]) for c in header})
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty (no header line)", file=name) from None
    except pd.errors.ParserError as exc:
        raise InputError(f"malformed CSV: {_parser_detail(exc)}", file=name) from None
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", file=name) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise InputError("the file has a header but no data rows", file=name)
    duplicated = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if duplicated:
        raise InputError(f"duplicate column names: {', '.join(duplicated)}", file=name, line=1)

    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)}"
            f" (the file has: {', '.join(frame.columns)})", file=name, line=1)

    for column in numeric:
        if column not in frame.columns:
            raise InputError(f"missing column '{column}' (the file has: {', '.join(frame.columns)})",
                             file=name, line=1)
        may_be_empty = allow_missing if isinstance(allow_missing, bool) else column in set(allow_missing)
        frame[column] = _to_number(frame[column], name, column,
                                   whole=column in integer, may_be_empty=may_be_empty)
    return frame


def _header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return next(csv.reader(handle), [])
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", file=str(path)) from None


def _to_number(values: pd.Series, file: str, column: str, *, whole: bool,
               may_be_empty: bool) -> pd.Series:
    if not pd.api.types.is_numeric_dtype(values):
        text = values.astype(object)
        parsed = pd.to_numeric(text.where(text.isna(), text.astype(str).str.strip()),
                               errors="coerce")
        bad = parsed.isna() & values.notna()
    else:
        parsed = values.astype(float)
        bad = pd.Series(False, index=values.index)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{values.iloc[row]!r} is not a number", file=file,
                         line=row + FIRST_DATA_LINE, column=column)
    if not np.isfinite(parsed.dropna().to_numpy(dtype=float)).all():
        row = int(np.flatnonzero(~np.isfinite(parsed.fillna(0).to_numpy(dtype=float)))[0])
        raise InputError(f"{values.iloc[row]!r} is not a finite number", file=file,
                         line=row + FIRST_DATA_LINE, column=column)
    if not may_be_empty and parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise InputError("empty cell where a number is required", file=file,
                         line=row + FIRST_DATA_LINE, column=column)
    if whole:
        present = parsed.dropna()
        fractional = present != np.round(present)
        if fractional.any():
            row = int(np.flatnonzero((parsed != np.round(parsed)).fillna(False).to_numpy())[0])
            raise InputError(f"{parsed.iloc[row]:g} is not a whole number", file=file,
                             line=row + FIRST_DATA_LINE, column=column)
    return parsed.astype(float)


def _parser_detail(exc: Exception) -> str:
    text = str(exc).strip()
    # pandas says "Error tokenizing data. C error: Expected 5 fields in line 3, saw 6"
    return text.split("C error: ", 1)[-1]


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a frame as CSV without the index, creating the folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
