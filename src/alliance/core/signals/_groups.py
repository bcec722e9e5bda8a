"""Array helpers shared by the detectors: grouping rows by client in session order.

Everything here works on whole arrays at once. A client's rows are made
contiguous by one sort; per-client running quantities are then computed with
shifted arrays and a segmented scan, never with a Python loop over clients or
sessions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError

#: Comparisons of a score with a threshold allow this much floating-point
#: rounding, so a score that is exactly on a threshold counts as on it whether
#: the threshold was computed for one client or for a whole clinic.
TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class Groups:
    """Rows sorted by client, then session.

    Attributes
    ----------
    order : positions in the input, sorted by client then session.
    code : client code of each sorted row (0 … n_clients − 1, first-appearance order).
    pos : 0-based position of the row within its client.
    size : number of rows of the row's client.
    first : index (in sorted order) of the first row of the row's client.
    labels : client identifiers, indexed by code.
    """

    order: np.ndarray
    code: np.ndarray
    pos: np.ndarray
    size: np.ndarray
    first: np.ndarray
    labels: np.ndarray

    @property
    def n(self) -> int:
        return len(self.order)

    @property
    def later(self) -> np.ndarray:
        """Number of rows of the same client after each row."""
        return self.size - 1 - self.pos


def client_codes(client) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (first-appearance order) and the distinct client identifiers."""
    if not (isinstance(client, pd.api.extensions.ExtensionArray)
            and pd.api.types.is_string_dtype(client.dtype)):
        # Text held by pyarrow (a string column as read from a file) is factorised as it
        # is: as Python objects a million identifiers would take about 150 MB more.
        client = np.asarray(client)
    codes, labels = pd.factorize(client, use_na_sentinel=True)
    if len(codes) and codes.min() < 0:
        row = int(np.flatnonzero(codes < 0)[0])
        raise InputError(f"row {row + 1} has no client identifier")
    return codes.astype(np.int64, copy=False), np.asarray(labels)


def session_numbers(session) -> np.ndarray:
    values = np.asarray(session, dtype=float)
    if values.size and not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values))[0])
        raise InputError(f"row {row + 1} has no session number")
    return values


def group_rows(codes: np.ndarray, labels: np.ndarray, session: np.ndarray,
               keep: np.ndarray | None = None) -> Groups:
    """Sort the kept rows by client, then session, and describe the client groups.

    Raises
    ------
    InputError
        When a client has two kept rows with the same session number.
    """
    rows = np.flatnonzero(keep) if keep is not None else np.arange(len(codes))
    code = codes[rows]
    sess = session[rows]
    if len(rows):
        order = _sort_by_client_then_session(code, sess)
        rows, code, sess = rows[order], code[order], sess[order]
    n = len(rows)
    start = np.empty(n, dtype=bool)
    if n:
        start[0] = True
        np.not_equal(code[1:], code[:-1], out=start[1:])
        same = ~start[1:] & (sess[1:] == sess[:-1])
        if same.any():
            i = int(np.flatnonzero(same)[0]) + 1
            raise InputError(f"client {labels[code[i]]!r} has more than one row for session "
                             f"{_plain_number(sess[i])}")
    starts = np.flatnonzero(start)
    group = np.cumsum(start) - 1
    first = starts[group]
    sizes = np.diff(np.append(starts, n))
    return Groups(order=rows, code=code, pos=np.arange(n) - first, size=sizes[group],
                  first=first, labels=labels)


def _sort_by_client_then_session(code: np.ndarray, sess: np.ndarray) -> np.ndarray:
    smin, smax = sess.min(), sess.max()
    span = smax - smin + 1
    whole = np.array_equal(sess, np.floor(sess))
    if whole and span * (code.max() + 1) < 2 ** 62:
        # One integer key: a single sort, or none at all when the export is already in order.
        key = code * np.int64(span) + (sess - smin).astype(np.int64)
        if key.size < 2 or (key[1:] > key[:-1]).all():
            return np.arange(len(key))
        return np.argsort(key, kind="stable")
    return np.lexsort((sess, code))


def shift(values: np.ndarray, lag: int, groups: Groups, fill=np.nan) -> np.ndarray:
    """The value ``lag`` rows earlier (lag > 0) or later (lag < 0) within the same client."""
    out = np.full(len(values), fill, dtype=np.result_type(values, type(fill)))
    if lag > 0:
        ok = groups.pos[lag:] >= lag
        out[lag:][ok] = values[:-lag][ok]
    elif lag < 0:
        k = -lag
        ok = groups.pos[:-k] + k < groups.size[:-k]
        out[:-k][ok] = values[k:][ok]
    else:
        out[:] = values
    return out


def cumsum_within(values: np.ndarray, groups: Groups) -> np.ndarray:
    """Running sum within each client (inclusive), by a segmented doubling scan.

    Each client's sums depend on that client's values only (and are added in
    the same order whatever else is in the input), so a case computed alone and
    within a whole clinic gives bit-for-bit the same result.
    """
    out = np.array(values, dtype=float, copy=True)
    pos = groups.pos
    step = 1
    longest = int(pos.max()) if len(pos) else 0
    while step <= longest:
        partner = np.where(pos[step:] >= step, out[:-step], 0.0)
        out[step:] += partner
        step *= 2
    return out


def run_lengths(flag: np.ndarray, groups: Groups) -> np.ndarray:
    """Length of the run of True ending at each row within its client (0 where False)."""
    n = len(flag)
    idx = np.arange(n)
    start = groups.pos == 0
    # The last row that breaks a run: a False row, or the row before a client's first row.
    breaks = np.where(~flag, idx, np.where(start, idx - 1, -1))
    last_break = np.maximum.accumulate(breaks) if n else breaks
    return np.where(flag, idx - last_break, 0)


def _plain_number(value: float):
    return int(value) if float(value).is_integer() else float(value)


def plain_sessions(values: np.ndarray) -> np.ndarray | pd.array:
    """Session numbers as integers when they are whole, else floats; NaN for none."""
    values = np.asarray(values, dtype=float)
    present = values[~np.isnan(values)]
    if np.array_equal(present, np.floor(present)):
        return pd.array(values, dtype="Int64")
    return values
