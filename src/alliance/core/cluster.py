"""Ruptures and scores on a Dask cluster: the same engine, one partition at a time.

The data are Parquet (a file or a folder of files) that every worker can read at
the same path. They are cut into pieces of whole row groups
(`alliance.core.tables.parquet_pieces`); each worker reads and checks its pieces
itself, so the driver never holds the data.

- **Scores** depend only on their own row: each piece is scored where it was read
  and the results come back in the data's order (`map_pieces`), so the output is
  the single-process output, row for row.
- **Ruptures** of a client depend only on that client's rows, and on one number
  that depends on every client, the pooled within-client SD (rules sd1/sd2). The
  rows are shuffled by client (a hash of the identifier: every row of a client in
  the same partition, in any order and wherever it was in the data, so the data
  need not be sorted); each partition first gives its running sums for the pooled
  SD (`PooledSums`), then, with the pooled SD of all partitions, `detect_ruptures`
  finds its clients' ruptures — the same function the single-process command runs.
  Only the pooled SD's sum is added in a different order, so thresholds may differ
  from the single-process ones in the last bits of a float.

Dask (``dask`` and ``distributed``) is an optional dependency: ``pip install
'alliance[dask]'``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import pandas as pd

from .errors import ClusterError, InputError
from .partitioned import PooledSums, RuptureSummary, detect_in_batch
from .tables import ParquetPiece, parquet_pieces, read_parquet_piece

#: Seconds to wait for a scheduler to answer before giving up.
CONNECT_TIMEOUT = 10

#: Rows of a piece (whole row groups) unless the caller asks for another size.
PIECE_ROWS = 1_000_000

_LOCAL = re.compile(r"local:(\d+)")


def parse_address(address: str) -> str | int:
    """A scheduler address as given, or the number of local worker processes for 'local:N'.

    Raises
    ------
    ValueError
        'local:' followed by anything but a whole number ≥ 1, or an empty address.
    """
    address = address.strip()
    if not address:
        raise ValueError("give a scheduler address (host:port) or local:N")
    if address.startswith("local:"):
        match = _LOCAL.fullmatch(address)
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"{address!r}: local:N needs a whole number of worker "
                             "processes, N ≥ 1")
        return int(match.group(1))
    return address


@contextmanager
def connect(address: str | int):
    """A Dask client: to the scheduler at ``address``, or, for a number N, to a new cluster
    of N worker processes on this machine (one thread each), closed afterwards.

    Raises
    ------
    ClusterError
        Dask is not installed, or the scheduler does not answer within CONNECT_TIMEOUT.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ClusterError("--dask needs the packages dask and distributed: "
                           "pip install 'alliance[dask]'") from None
    import logging

    if isinstance(address, int):
        # ":0": any free port for its status page (the default 8787 may be taken).
        cluster = LocalCluster(n_workers=address, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
        try:
            with Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        why = _first_line(exc) or f"no answer within {CONNECT_TIMEOUT} s"
        raise ClusterError(f"cannot reach the Dask scheduler at {address} ({why})") from None
    try:
        yield client
    finally:
        client.close()


def map_pieces(client, path: str, work: Callable[[pd.DataFrame], object], *,
               read: dict, rows: int = PIECE_ROWS, ahead: int | None = None) -> Iterator:
    """``work`` applied on the workers to each checked piece of the Parquet data at ``path``,
    the results yielded in the data's order.

    ``read`` holds the keyword arguments of `read_parquet_piece` (required, numeric, …).
    At most ``ahead`` pieces (default: twice the workers) are in flight or waiting to be
    collected, so the results held on the cluster stay bounded too.
    """
    pieces = parquet_pieces(path, required=read.get("required", ()),
                            numeric=read.get("numeric", ()), integer=read.get("integer", ()),
                            rows=rows)
    task = partial(_read_and_work, read=read, work=work)
    ahead = ahead or 2 * max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))
    queue = []
    with _lost_work():
        for piece in pieces:
            queue.append(client.submit(task, piece, pure=False))
            if len(queue) >= ahead:
                yield _collect(queue.pop(0))
        while queue:
            yield _collect(queue.pop(0))


def ruptures_on_cluster(client, path: str, client_column: str, session: str, score: str, *,
                        rule: str = "sd2", reference: str = "previous", window: int = 3,
                        pooled_sd: float | None = None, sd: float | None = None,
                        reliability: float | None = None, rows: int = PIECE_ROWS,
                        ) -> tuple[RuptureSummary, Iterator[pd.DataFrame]]:
    """`detect_ruptures` over Parquet data on a Dask cluster, partitioned by client.

    Returns
    -------
    (summary, tables)
        As `alliance.core.partitioned.ruptures_in_batches`: ``tables`` yields one rupture
        table per partition (the clients of a partition in the order the shuffle left
        them); the summary is complete once ``tables`` is exhausted.
    """
    import dask.dataframe as dd
    from dask import delayed

    read = {"required": [client_column, session, score], "numeric": [score],
            "integer": [session], "allow_missing": [score],
            "columns": [client_column, session, score]}
    pieces = parquet_pieces(path, required=read["required"], numeric=read["numeric"],
                            integer=read["integer"], rows=rows)
    reader = partial(_read_session_rows, read=read, client=client_column, session=session)
    with _lost_work():
        rows_ = dd.from_map(reader, pieces, meta=_meta(pieces[0], reader), label="read",
                            enforce_metadata=False)
        # Kept on the workers (spilled to their disks when memory runs short) for the
        # two passes: the pooled SD, then detection.
        shuffled = client.persist(rows_.shuffle(on=client_column, npartitions=len(pieces)))
        parts = shuffled.to_delayed()
        source = "given"
        if rule != "rci" and pooled_sd is None:
            sums = PooledSums()
            for part in client.gather(client.compute(
                    [delayed(_pooled_sums)(p, client_column, score) for p in parts])):
                sums.merge(part)
            pooled_sd, source = sums.checked(), "estimated from the input"
        found = client.compute([delayed(_detect)(p, client_column, session, score, rule,
                                                 reference, window, pooled_sd, sd, reliability)
                                for p in parts])
        del shuffled, parts
    summary = RuptureSummary(rule=rule, parameters={})

    def tables() -> Iterator[pd.DataFrame]:
        with _lost_work():
            for future in found:
                result = _collect(future)
                summary.add(result, source)
                yield result.ruptures

    return summary, tables()


# ------------------------------------------------------------------ on the workers


def _read_and_work(piece: ParquetPiece, read: dict, work: Callable) -> object:
    return work(read_parquet_piece(piece, **read))


def _read_session_rows(piece: ParquetPiece, read: dict, client: str,
                       session: str) -> pd.DataFrame:
    frame = read_parquet_piece(piece, **read)
    frame.attrs.clear()   # Dask's frames carry no attributes
    if frame[session].isna().any() or (frame[session] < 0).any():
        raise InputError("session numbers must be present and not negative",
                         file=piece.name, column=session)
    if frame[client].isna().any():
        raise InputError("empty client identifier", file=piece.name, column=client)
    return frame


def _pooled_sums(frame: pd.DataFrame, client: str, score: str) -> PooledSums:
    sums = PooledSums()
    sums.add(frame[client].astype(str).to_numpy(), frame[score].to_numpy(dtype=float))
    return sums


def _detect(frame: pd.DataFrame, client: str, session: str, score: str, *options):
    if not len(frame):
        return None
    return detect_in_batch(frame, client, session, score, *options)


def _meta(piece: ParquetPiece, reader) -> pd.DataFrame:
    """The partitions' columns and types, from the first rows of the first piece."""
    head = ParquetPiece(piece.name, piece.file, piece.row_groups[:1], piece.first_row,
                        piece.rows, limit=16)
    return reader(head).iloc[:0]


# ------------------------------------------------------------------ on the driver


def _collect(future):
    result = future.result()
    future.release()
    return result


@contextmanager
def _lost_work():
    """A worker that died or a lost connection is a ClusterError; data errors pass as they are."""
    try:
        from distributed import CancelledError
        from distributed.comm.core import CommClosedError
        from distributed.scheduler import KilledWorker
    except ImportError:  # pragma: no cover (connect() checked the import)
        yield
        return
    try:
        yield
    except (KilledWorker, CancelledError, CommClosedError) as exc:
        # CommClosedError is an OSError: caught here, it is not taken for a file problem.
        why = _first_line(exc) or type(exc).__name__
        raise ClusterError(f"the Dask cluster lost the work ({why})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
