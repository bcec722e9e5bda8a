"""Numeric columns of a plain CSV file, read without pandas.

Importing pandas takes longer than a command such as `alliance psychometrics` needs
for a whole questionnaire export. A plain file (UTF-8, comma-separated, no quoting,
no blank lines, every row as wide as the header, every selected cell a plain decimal
number or a missing marker) is read here with the standard library; for any other
file `read_numeric_columns` returns None and the caller reads it with
`alliance.core.tables.read_csv`, which reads it the same way and words every error
(file, line and column).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: What `alliance.core.tables.read_csv` reads as a missing number.
MISSING_MARKERS = frozenset({"", "NA", "NaN", "nan"})

#: A plain decimal number, ASCII digits only (`float` would also take "1_0", "١٢", "inf").
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)

#: Largest magnitude accepted in a numeric column: squares and sums of larger
#: values overflow (inf, nan) in the statistics downstream.
MAX_MAGNITUDE = 1e15

#: Larger files are left to the C readers: this one is for questionnaires, not clinics.
MAX_BYTES = 8 * 2**20


def read_numeric_columns(path: str | Path,
                         columns: Sequence[str]) -> dict[str, np.ndarray] | None:
    """The ``columns`` of a plain CSV file as float arrays (NaN where empty), or None.

    Row ``r`` (0-based) of every array is line ``r + 2`` of the file. None when the
    file is missing, large, not plain, lacks a column, or has a number larger than
    ``MAX_MAGNITUDE`` in size (what read_csv refuses): the caller then reads it with
    read_csv.
    """
    path = Path(path)
    try:
        if not path.is_file() or path.stat().st_size > MAX_BYTES:
            return None
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None
    if '"' in text or "\r" in text.replace("\r\n", "\n") or "\x00" in text:
        return None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if len(rows) < 2:
        return None
    header = rows[0]
    width = len(header)
    stripped = [name.strip() for name in header]
    if (width < 2 or not all(stripped) or len(set(stripped)) < width
            or any(name not in stripped for name in columns)
            or any(len(row) != width for row in rows[1:])):
        return None
    result = {}
    for name in dict.fromkeys(columns):
        index = stripped.index(name)
        cells = [row[index] for row in rows[1:]]
        if not all(cell in MISSING_MARKERS or _NUMBER.fullmatch(cell) for cell in cells):
            return None
        values = np.array([float("nan") if cell in MISSING_MARKERS else float(cell)
                           for cell in cells])
        if (np.abs(values) > MAX_MAGNITUDE).any():
            return None
        result[name] = values
    return result
