"""Ruptures over data larger than memory: batches of whole clients.

The data come as an iterator of row batches (e.g. Parquet row groups, see
`alliance.core.tables.iter_parquet`) with each client's rows together (sorted
by client). Memory is bounded by a batch and the rows of one client, whatever
the number of administrations.

Ruptures need one number that depends on every client, the pooled
within-client SD (rules sd1/sd2), so they take two passes: the first sums each
client's squared deviations from their own mean, the second runs
`detect_ruptures` on each batch of whole clients with that pooled SD. The
ruptures are the same as `detect_ruptures` on all the data at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import InputError, NotEnoughDataError
from .signals.ruptures import STATES, RuptureResult, detect_ruptures


def whole_clients(batches: Iterable[pd.DataFrame], client: str) -> Iterator[pd.DataFrame]:
    """Regroup batches so that each holds only whole clients.

    The rows of the last client of a batch are held back and put in front of
    the next batch. Clients must come in ascending order (the data sorted by
    client): a client that comes back after another one is an error, found
    without remembering the clients already seen.

    Raises
    ------
    InputError
        A client's rows are not together (the data are not sorted by client).
    """
    held: pd.DataFrame | None = None
    last: str | None = None
    for batch in batches:
        if held is not None:
            batch = pd.concat([held, batch], ignore_index=True)
        ids = batch[client].astype(str).to_numpy()
        if len(ids) == 0:
            continue
        out_of_order = np.flatnonzero(ids[1:] < ids[:-1])
        if len(out_of_order) or (last is not None and ids[0] < last):
            at = int(out_of_order[0]) + 1 if len(out_of_order) else 0
            before = ids[at - 1] if at else last
            raise InputError(f"the rows must be sorted by client ('{ids[at]}' comes after "
                             f"'{before}'), so that each client's rows are together",
                             column=client)
        cut = int(np.searchsorted(ids, ids[-1], side="left"))
        held = batch.iloc[cut:]
        last = ids[-1]
        if cut:
            yield batch.iloc[:cut].reset_index(drop=True)
    if held is not None and len(held):
        yield held.reset_index(drop=True)


@dataclass
class PooledSums:
    """Running sums for the pooled within-client SD: squared deviations, rated sessions, clients."""

    squares: float = 0.0
    rated: int = 0
    clients: int = 0

    def add(self, client: np.ndarray, score: np.ndarray) -> None:
        rated = ~np.isnan(score)
        if not rated.any():
            return
        frame = pd.DataFrame({"client": client[rated], "score": score[rated]})
        means = frame.groupby("client", sort=False)["score"].transform("mean").to_numpy()
        deviation = frame["score"].to_numpy() - means
        self.squares += float(deviation @ deviation)
        self.rated += int(rated.sum())
        self.clients += int(frame["client"].nunique())

    def merge(self, other: PooledSums) -> None:
        """Add the sums of other clients (another batch or partition)."""
        self.squares += other.squares
        self.rated += other.rated
        self.clients += other.clients

    @property
    def value(self) -> float:
        return float(np.sqrt(self.squares / self.rated)) if self.rated else float("nan")

    def checked(self) -> float:
        """The pooled SD, or why it cannot be used."""
        if not self.rated:
            raise NotEnoughDataError("no rated sessions (every score is empty)")
        if not self.value > 0:
            raise NotEnoughDataError("every client's scores are constant, so the pooled "
                                     "within-client SD is 0; give the pooled SD explicitly")
        return self.value


@dataclass
class RuptureSummary:
    """What a partitioned run found: counts, and the parameters the rule used."""

    rule: str
    parameters: dict
    n_clients: int = 0
    n_rated: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))

    def add(self, result: RuptureResult | None, source: str) -> None:
        """Count one batch's result (None: a batch without rows); ``source`` says where
        the pooled SD came from."""
        if result is None:
            return
        if not self.parameters:
            self.parameters = dict(result.parameters)
            if self.rule != "rci":
                self.parameters["pooled_sd_source"] = source
        self.n_clients += result.n_clients
        self.n_rated += result.n_rated
        for state, count in result.counts().items():
            self.counts[state] += count

    def to_dict(self) -> dict:
        return {"rule": self.rule, "parameters": dict(self.parameters),
                "n_clients": self.n_clients, "n_rated_sessions": self.n_rated,
                "counts": dict(self.counts)}


def ruptures_in_batches(open_batches: Callable[[], Iterable[pd.DataFrame]], client: str,
                        session: str, score: str, *, rule: str = "sd2",
                        reference: str = "previous", window: int = 3,
                        pooled_sd: float | None = None, sd: float | None = None,
                        reliability: float | None = None,
                        ) -> tuple[RuptureSummary, Iterator[pd.DataFrame]]:
    """`detect_ruptures` over batches of rows, in bounded memory.

    Parameters
    ----------
    open_batches : returns a fresh iterator over the data's row batches (it is
        called twice when the pooled SD must be estimated).
    client, session, score : column names.
    rule, reference, window, pooled_sd, sd, reliability : as for `detect_ruptures`.

    Returns
    -------
    (summary, tables)
        ``tables`` yields one rupture table per batch of whole clients (the
        columns of ``RuptureResult.ruptures``); the summary's counts are
        complete once ``tables`` is exhausted.

    Examples
    --------
    >>> rows = pd.DataFrame({"client_id": ["a"] * 4 + ["b"] * 4,
    ...                      "session": [1, 2, 3, 4] * 2,
    ...                      "alliance": [7, 7, 3, 7, 6, 6, 6, 2]})
    >>> summary, tables = ruptures_in_batches(
    ...     lambda: [rows.iloc[:3], rows.iloc[3:6], rows.iloc[6:]],
    ...     "client_id", "session", "alliance", pooled_sd=1.0)
    >>> pd.concat(list(tables))[["client_id", "session", "state"]].to_numpy().tolist()
    [['a', 3, 'repaired'], ['b', 4, 'pending']]
    >>> summary.counts
    {'repaired': 1, 'unresolved': 0, 'pending': 1}
    """
    source = "given"
    if rule != "rci" and pooled_sd is None:
        sums = PooledSums()
        for batch in whole_clients(open_batches(), client):
            sums.add(batch[client].astype(str).to_numpy(),
                     batch[score].to_numpy(dtype=float))
        pooled_sd, source = sums.checked(), "estimated from the input"
    summary = RuptureSummary(rule=rule, parameters={})

    def tables() -> Iterator[pd.DataFrame]:
        for batch in whole_clients(open_batches(), client):
            result = detect_in_batch(batch, client, session, score, rule, reference, window,
                                     pooled_sd, sd, reliability)
            summary.add(result, source)
            yield result.ruptures

    return summary, tables()


def detect_in_batch(batch: pd.DataFrame, client: str, session: str, score: str, rule: str,
                    reference: str, window: int, pooled_sd: float | None, sd: float | None,
                    reliability: float | None) -> RuptureResult:
    """`detect_ruptures` on a batch of whole clients, with the clinic's pooled SD."""
    return detect_ruptures(
        batch[client].to_numpy(), batch[session].to_numpy(), batch[score].to_numpy(),
        rule=rule, reference=reference, window=window,
        pooled_sd=None if rule == "rci" else pooled_sd, sd=sd, reliability=reliability)

