"""Reading tabular input (CSV exports) with errors that point at the bad cell.

The core reads only the files it is handed. Every reader here reports a
problem with the file name, the line number as an editor shows it (header is
line 1) and the column, so a researcher can open the file and fix it.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .columns import MAX_MAGNITUDE
from .errors import InputError

#: Header line plus one because pandas rows are 0-based.
FIRST_DATA_LINE = 2

#: First bytes of spreadsheet workbooks (xlsx/ods are zip archives; xls is OLE2).
_WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def read_csv(path: str | Path, *, required: Sequence[str] = (),
             numeric: Iterable[str] = (), integer: Iterable[str] = (),
             allow_missing: Iterable[str] | bool = True,
             max_columns: int | None = None,
             columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a CSV file, check the columns it must have, and parse numeric columns.

    Parameters
    ----------
    path : file to read.
    required : columns that must be present.
    numeric : columns that must hold numbers (empty cells become NaN).
    integer : numeric columns whose values must be whole numbers.
    allow_missing : True (empty cells allowed in numeric columns), False, or
        the names of the numeric columns that may have empty cells.
    max_columns : the most columns the file may have (None: no limit); a wider file is
        refused after reading its header line only.
    columns : keep only these columns (None: all). Every row is still read and checked
        for its number of fields; when one of them is missing, all are kept (so the
        error names every column of the file).

    Notes
    -----
    Read as exported by the usual tools: a UTF-8 byte order mark and Windows
    line endings are accepted, ``NA`` is a missing number, and the unnamed
    row-name column that R's ``write.csv`` puts first is dropped.

    Raises
    ------
    InputError
        When the file is missing, empty or malformed (not UTF-8, a spreadsheet
        workbook, separated by ';'), a column is missing, or a cell of a
        numeric column does not hold a number (or one larger than
        ``MAX_MAGNITUDE``), or it has more than ``max_columns`` columns. The
        message names the file, the line and the column.

    Every check of the columns takes time proportional to their number (a file of
    20,000 columns is read in well under a second).
    """
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise InputError("file not found", file=name)
    if path.is_dir():
        raise InputError("is a folder, not a CSV file", file=name)
    integer = set(integer)
    numeric = list(dict.fromkeys([*numeric, *integer]))
    numeric_set = set(numeric)
    header = _header(path)
    if max_columns is not None and len(header) > max_columns:
        raise InputError(f"the file has {len(header):,} columns; at most {max_columns:,} are "
                         "accepted here (remove the columns that are not needed)",
                         file=name, line=1)
    # On the header as written: pandas renames a repeated name ("a", "a.1"). Counted once
    # (a count per column made a 20,000-column file take minutes).
    duplicated = sorted(c for c, n in Counter(c.strip() for c in header).items() if c and n > 1)
    if duplicated:
        raise InputError(f"duplicate column names: {', '.join(duplicated)}", file=name, line=1)
    if len(header) == 1:
        for separator, called in ((";", "';'"), ("\t", "tabs")):
            if separator in header[0]:
                raise InputError(f"the file seems to use {called} as separator; save it with "
                                 "commas (in Excel: Save As 'CSV UTF-8 (Comma delimited)')",
                                 file=name, line=1)
    # Identifiers stay text ("007" is not 7); numeric columns are parsed by the
    # fast C reader and checked cell by cell only when it could not parse them.
    missing_markers = ["", "NA", "NaN", "nan"]
    # Most files are plain (no quoting, no stray spaces, no missing identifiers): pyarrow
    # reads them several times faster and in less memory. Anything else, including every
    # file with an error to report, is read by pandas below, which words the errors.
    if columns is not None and not {*columns} <= {c.strip() for c in header}:
        columns = None
    keep = None if columns is None else [c for c in header if c.strip() in set(columns)]
    frame = _read_plain_csv(path, header, numeric_set, missing_markers, keep)
    if frame is None:
        try:
            frame = pd.read_csv(
                path, engine="c", skipinitialspace=True, keep_default_na=False,
                dtype={c: str for c in header if c.strip() not in numeric_set},
                na_values={c: (missing_markers if c.strip() in numeric_set else [""])
                           for c in header})
        except pd.errors.EmptyDataError:
            raise InputError("the file is empty (no header line)", file=name) from None
        except pd.errors.ParserError as exc:
            raise _malformed(exc, name) from None
        except UnicodeDecodeError:
            raise _not_utf8(path) from None
        if header and not header[0].strip() and _row_names(frame.iloc[:, 0]):
            frame = frame.iloc[:, 1:]
        if keep is not None:
            frame = frame[keep]
    lines = _record_lines(path, len(frame))
    if lines is not None:
        frame.attrs["lines"] = lines
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise InputError("the file has a header but no data rows", file=name)

    return _checked(frame, name, required, numeric, integer, allow_missing, lines=lines,
                    header_line=1)


def _read_plain_csv(path: Path, header: list[str], numeric: set[str],
                    missing_markers: list[str], keep: list[str] | None) -> pd.DataFrame | None:
    """The file as `read_csv` reads it with pandas, read by pyarrow; None when the file is
    not plain enough to be sure of that (pandas then reads it and words any error).

    Plain: at least two named columns, every row as wide as the header, UTF-8, numbers
    pandas would parse the same way (finite, no stray spaces), text cells not starting
    with a space (pandas skips it). Empty text cells are missing, as pandas reads them.
    Only the columns in ``keep`` (all when None) are converted.
    """
    if len(header) < 2 or not all(c.strip() for c in header):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as arrow_csv

    types = {c: pa.float64() if c.strip() in numeric else pa.string() for c in header}
    try:
        # One thread: on two cores as fast, and the peak memory about 30 MB lower a million
        # rows (no blocks parsed ahead).
        table = arrow_csv.read_csv(
            path, read_options=arrow_csv.ReadOptions(use_threads=False), parse_options=arrow_csv.ParseOptions(newlines_in_values=True),
            convert_options=arrow_csv.ConvertOptions(
                column_types=types, null_values=missing_markers, strings_can_be_null=False,
                quoted_strings_can_be_null=False, include_columns=keep))
    except (pa.ArrowInvalid, OSError):
        return None
    if table.column_names != (header if keep is None else keep) or table.num_rows == 0:
        return None
    for index, column in enumerate(table.column_names):
        values = table.column(index)
        if types[column] == pa.float64():
            # Infinities and other spellings of NaN ("NAN") are left to pandas and its checks.
            if pc.any(pc.invert(pc.is_finite(values))).as_py():
                return None
        else:
            if pc.any(pc.starts_with(values, " ")).as_py() or \
                    pc.any(pc.starts_with(values, "\t")).as_py():
                return None
            # pandas reads an empty text cell as missing (na_values [""] for text columns).
            table = table.set_column(index, column, pc.if_else(
                pc.equal(values, ""), pa.scalar(None, pa.string()), values))
    return table.to_pandas(self_destruct=True, split_blocks=True)


def _checked(frame: pd.DataFrame, name: str, required, numeric, integer, allow_missing, *,
             lines, header_line: int | None) -> pd.DataFrame:
    """Check the required columns and parse the numeric ones (CSV and Parquet alike)."""
    present = set(frame.columns)
    missing = [c for c in required if c not in present]
    if missing:
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)}"
            f" (the file has: {', '.join(frame.columns)})", file=name, line=header_line)

    for column in numeric:
        if column not in present:
            raise InputError(f"missing column '{column}' (the file has: {', '.join(frame.columns)})",
                             file=name, line=header_line)
        may_be_empty = allow_missing if isinstance(allow_missing, bool) else column in set(allow_missing)
        frame[column] = _to_number(frame[column], name, column, lines=lines,
                                   whole=column in integer, may_be_empty=may_be_empty)
    return frame


def is_parquet(path: str | Path) -> bool:
    """Whether a path names Parquet data: a ``.parquet`` file, or a folder of them."""
    path = Path(path)
    if path.is_dir():
        return any(path.glob("*.parquet"))
    return path.suffix.lower() in (".parquet", ".pq")


def read_table(path: str | Path, *, required: Sequence[str] = (),
               numeric: Iterable[str] = (), integer: Iterable[str] = (),
               allow_missing: Iterable[str] | bool = True,
               columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a CSV file (see `read_csv`) or Parquet data (see `read_parquet`).

    ``columns`` limits the columns returned (a CSV file is still read whole).
    """
    if is_parquet(path):
        return read_parquet(path, required=required, numeric=numeric, integer=integer,
                            allow_missing=allow_missing, columns=columns)
    return read_csv(path, required=required, numeric=numeric, integer=integer,
                    allow_missing=allow_missing, columns=columns)


def read_parquet(path: str | Path, *, required: Sequence[str] = (),
                 numeric: Iterable[str] = (), integer: Iterable[str] = (),
                 allow_missing: Iterable[str] | bool = True,
                 columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a Parquet file (or a folder of Parquet files) with the checks of `read_csv`.

    Errors name the data row (``row 1`` is the first) instead of a line. Text
    columns stay text; numeric columns may be stored as numbers or as text.
    """
    frames = list(iter_parquet(path, required=required, numeric=numeric, integer=integer,
                               allow_missing=allow_missing, columns=columns, batch_rows=None))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return frame


def iter_parquet(path: str | Path, *, required: Sequence[str] = (),
                 numeric: Iterable[str] = (), integer: Iterable[str] = (),
                 allow_missing: Iterable[str] | bool = True,
                 columns: Sequence[str] | None = None,
                 batch_rows: int | None = 1_000_000) -> Iterator[pd.DataFrame]:
    """Parquet data in batches of about ``batch_rows`` rows (all at once with None), checked.

    Memory stays bounded by the batch, whatever the size of the data. Each batch
    has a fresh index; ``attrs["first_row"]`` is the position of its first row
    in the data (0-based), so errors name the data row.
    """
    name, opened, schema_names = _open_parquet(path, required, numeric, integer)
    wanted = None if columns is None else [c for c in dict.fromkeys(columns) if c in schema_names]
    first = 0

    # One file after another, one batch at a time: pyarrow's dataset scanner would read
    # the column chunks of every row group ahead, so its memory grew with the data.
    def read():
        for _, handle in opened:
            if batch_rows:
                yield from handle.iter_batches(batch_size=batch_rows, columns=wanted)
            else:
                yield handle.read(columns=wanted)

    seen = False
    for batch in read():
        if batch.num_rows == 0:
            continue
        seen = True
        yield _parquet_frame(batch, first, name, required, numeric, integer, allow_missing)
        first += batch.num_rows
    if not seen:
        raise InputError("the file has no data rows", file=name)


@dataclass(frozen=True)
class ParquetPiece:
    """Consecutive row groups of one Parquet file: a part of the data that one process
    reads on its own (see `parquet_pieces`, `read_parquet_piece`).

    ``name`` is the data's path as the user gave it (a file or a folder), for errors;
    ``first_row`` the position of the piece's first row in the data (0-based).
    """

    name: str
    file: str
    row_groups: tuple[int, ...]
    first_row: int
    rows: int
    #: Read only the first rows (the columns' types, without reading the whole piece).
    limit: int | None = None


def parquet_pieces(path: str | Path, *, required: Sequence[str] = (),
                   numeric: Iterable[str] = (), integer: Iterable[str] = (),
                   rows: int = 1_000_000) -> list[ParquetPiece]:
    """Cut Parquet data (a file or a folder) into pieces of whole row groups, each of
    at least ``rows`` rows where the row groups allow (a row group is never split).

    Reads only the files' metadata; a missing column is an error here, before any work.
    """
    name, opened, _ = _open_parquet(path, required, numeric, integer)
    pieces: list[ParquetPiece] = []
    first = 0
    for file, handle in opened:
        groups: list[int] = []
        size = start = 0
        for index in range(handle.metadata.num_row_groups):
            count = handle.metadata.row_group(index).num_rows
            if count == 0:
                continue
            if not groups:
                start = first
            groups.append(index)
            size += count
            first += count
            if size >= rows:
                pieces.append(ParquetPiece(name, file, tuple(groups), start, size))
                groups, size = [], 0
        if groups:
            pieces.append(ParquetPiece(name, file, tuple(groups), start, size))
    if not pieces:
        raise InputError("the file has no data rows", file=name)
    return pieces


def read_parquet_piece(piece: ParquetPiece, *, required: Sequence[str] = (),
                       numeric: Iterable[str] = (), integer: Iterable[str] = (),
                       allow_missing: Iterable[str] | bool = True,
                       columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One piece of `parquet_pieces`, read and checked as `iter_parquet` checks a batch."""
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(piece.file)
        if piece.limit is not None:
            table = next(handle.iter_batches(batch_size=piece.limit, columns=columns,
                                             row_groups=list(piece.row_groups)))
        else:
            table = handle.read_row_groups(list(piece.row_groups), columns=columns)
    except OSError as exc:
        raise InputError(f"not a readable Parquet file ({str(exc).splitlines()[0]})",
                         file=piece.name) from None
    return _parquet_frame(table, piece.first_row, piece.name, required,
                          list(dict.fromkeys([*numeric, *integer])), set(integer), allow_missing)


def _open_parquet(path: str | Path, required: Sequence[str], numeric: Iterable[str],
                  integer: Iterable[str]):
    """(name, [(file, ParquetFile)], column names), after checking the required columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    name = str(path)
    if not path.exists():
        raise InputError("file not found", file=name)
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise InputError("the folder holds no .parquet files", file=name)
    try:
        opened = [(str(file), pq.ParquetFile(file)) for file in files]
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"not a readable Parquet file ({str(exc).splitlines()[0]})",
                         file=name) from None
    schema_names = opened[0][1].schema_arrow.names
    absent = [c for c in dict.fromkeys([*required, *numeric, *integer]) if c not in schema_names]
    if absent:
        raise InputError(
            f"missing column{'s' if len(absent) > 1 else ''} {', '.join(repr(c) for c in absent)}"
            f" (the file has: {', '.join(schema_names)})", file=name)
    return name, opened, schema_names


def _parquet_frame(batch, first: int, name: str, required: Sequence[str], numeric, integer,
                   allow_missing) -> pd.DataFrame:
    """A pyarrow batch or table as a checked frame whose errors name the data row."""
    integer = set(integer)
    numeric = list(dict.fromkeys([*numeric, *integer]))
    frame = batch.to_pandas()
    for column in required:
        values = frame[column]
        if column not in numeric and pd.api.types.is_numeric_dtype(values):
            # Identifiers are text, as read_csv reads them (7, not 7.0).
            text = values.astype("Int64" if values.dropna().mod(1).eq(0).all() else float)
            frame[column] = text.astype(str).where(values.notna())
    lines = np.arange(first + 1, first + len(frame) + 1)
    frame.attrs["first_row"] = first
    return _checked(frame, name, required, numeric, integer, allow_missing,
                    lines=_Rows(lines), header_line=None)


class _Rows(np.ndarray):
    """Data-row numbers of a Parquet batch: errors say "row N" instead of "line N"."""

    def __new__(cls, values):
        return np.asarray(values).view(cls)


def file_line(frame: pd.DataFrame, row: int) -> int | None:
    """The line of the file, as an editor shows it, of the frame's row at position ``row``.

    Usually ``row + FIRST_DATA_LINE``; :func:`read_csv` records the lines when blank
    lines or line breaks inside quoted cells make them differ.
    """
    if "first_row" in frame.attrs:  # Parquet: no lines
        return None
    lines = frame.attrs.get("lines")
    return int(lines[row]) if lines is not None else row + FIRST_DATA_LINE


def _record_lines(path: Path, n_rows: int) -> tuple[int, ...] | None:
    """The first line of each data row, or None when it is simply row + FIRST_DATA_LINE."""
    newlines, last = 0, b""
    with path.open("rb") as handle:  # in pieces: the whole file need not be in memory
        for piece in iter(lambda: handle.read(1 << 20), b""):
            newlines += piece.count(b"\n")
            last = piece[-1:]
    if newlines + (last != b"\n") == n_rows + 1:
        return None
    starts = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        end = 0
        for record in reader:
            start, end = end + 1, reader.line_num
            # pandas skips blank and whitespace-only lines.
            if len(record) > 1 or "".join(record).strip():
                starts.append(start)
    return tuple(starts[1:]) if len(starts) == n_rows + 1 else None


def _header(path: Path) -> list[str]:
    with path.open("rb") as handle:
        if handle.read(4).startswith(_WORKBOOK_SIGNATURES):
            raise InputError("an Excel workbook (or another spreadsheet file), not a CSV file: "
                             "in Excel, Save As 'CSV UTF-8 (Comma delimited)'", file=str(path))
    try:
        # utf-8-sig drops the byte order mark of Excel's "CSV UTF-8", as pandas does.
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle), [])
    except UnicodeDecodeError:
        raise _not_utf8(path) from None


def _not_utf8(path: Path) -> InputError:
    """Point at the first line that is not UTF-8 (often a Latin-1 or Windows-1252 export)."""
    for number, line in enumerate(path.read_bytes().split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return InputError("not a UTF-8 text file (save it as 'CSV UTF-8')", file=str(path),
                              line=number)
    return InputError("not a UTF-8 text file (save it as 'CSV UTF-8')", file=str(path))


def _row_names(values: pd.Series) -> bool:
    """Whether an unnamed first column holds R's row names (distinct whole numbers)."""
    text = values.astype(str).str.strip()
    return bool(text.str.fullmatch(r"\d+").all()) and text.is_unique


def _to_number(values: pd.Series, file: str, column: str, *, lines: Sequence[int] | None,
               whole: bool, may_be_empty: bool) -> pd.Series:
    rows = isinstance(lines, _Rows)

    def line(row: int) -> int | None:
        if rows:
            return None
        return int(lines[row]) if lines is not None else row + FIRST_DATA_LINE

    def where(row: int) -> str:
        return f" (row {int(lines[row])})" if rows else ""

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
        value = values.iloc[row]
        hint = ""
        if re.fullmatch(r"\s*[-+]?\d*,\d+\s*", str(value)):
            hint = f" (a decimal comma? write {str(value).strip().replace(',', '.')})"
        raise InputError(f"{value!r} is not a number{hint}{where(row)}", file=file,
                         line=line(row), column=column)
    if not np.isfinite(parsed.dropna().to_numpy(dtype=float)).all():
        row = int(np.flatnonzero(~np.isfinite(parsed.fillna(0).to_numpy(dtype=float)))[0])
        raise InputError(f"{_shown(values.iloc[row])} is not a finite number{where(row)}",
                         file=file, line=line(row), column=column)
    huge = (parsed.abs() > MAX_MAGNITUDE).to_numpy()
    if huge.any():
        row = int(np.flatnonzero(huge)[0])
        raise InputError(f"{_shown(values.iloc[row])} is too large (more than {MAX_MAGNITUDE:g} in "
                         f"size){where(row)}", file=file, line=line(row), column=column)
    if not may_be_empty and parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise InputError(f"empty cell where a number is required{where(row)}", file=file,
                         line=line(row), column=column)
    if whole:
        present = parsed.dropna()
        fractional = present != np.round(present)
        if fractional.any():
            row = int(np.flatnonzero((parsed != np.round(parsed)).fillna(False).to_numpy())[0])
            raise InputError(f"{parsed.iloc[row]:g} is not a whole number{where(row)}",
                             file=file, line=line(row), column=column)
    return parsed.astype(float)


def _shown(value: object) -> str:
    """A cell as the user typed it: text quoted, a number parsed by the reader as written."""
    return f"{float(value):g}" if isinstance(value, (float, np.floating)) else repr(value)


def _malformed(exc: Exception, file: str) -> InputError:
    text = str(exc).strip()
    # pandas says "Error tokenizing data. C error: Expected 5 fields in line 3, saw 6"
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if found:
        expected, line, saw = map(int, found.groups())
        return InputError(f"{saw} fields where the header has {expected} (a decimal comma, or a "
                          "comma inside a cell that is not quoted?)", file=file, line=line)
    return InputError(f"malformed CSV: {text.split('C error: ', 1)[-1]}", file=file)


#: What a spreadsheet may take as the start of a formula when it opens a CSV file (OWASP,
#: "CSV Injection"): = + - @, and a tab or carriage return before one of them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: A plain decimal number: a spreadsheet reads it as that number, never as a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise_cell(value: object) -> object:
    """A text cell that a spreadsheet could run as a formula, with a ``'`` put before it.

    Only text (``str``) is changed, and only when it begins with one of
    ``FORMULA_STARTS`` and is not a plain number: ``=HYPERLINK(...)``, ``@SUM(...)`` and
    ``-2+3+cmd|...`` become ``'=HYPERLINK(...)`` …; the text ``-2`` and every value that
    is not text (a score of -2 written as a number) stay as they are. The ``'`` makes
    Excel and LibreOffice show the cell as text; a program reading the file sees it as
    part of the value.
    """
    if (isinstance(value, str) and value.startswith(FORMULA_STARTS)
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise_cell` applied to its text columns.

    Numeric columns (and numbers in a mixed column) are left unchanged, so they stay
    numbers in the CSV file.
    """
    text = [c for c in frame.columns
            if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])]
    if not text:
        return frame
    frame = frame.copy()
    for column in text:
        frame[column] = frame[column].map(neutralise_cell, na_action="ignore")
    return frame


def write_csv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a frame as CSV without the index, creating the folder if needed.

    Raises
    ------
    InputError
        When the folder cannot be created or the file cannot be written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename and str(exc.filename) != str(path) else ""
        raise InputError(f"cannot write the file ({exc.strerror or exc}{where})",
                         file=str(path)) from None
