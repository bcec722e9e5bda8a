"""Options that several commands share."""

from __future__ import annotations

import click


def dask_address(ctx: click.Context, param: click.Parameter, value: str | None) -> str | int | None:
    """--dask: a scheduler address as given, or the number N of 'local:N' (a usage error
    when N is not a whole number ≥ 1)."""
    if value is None:
        return None
    from alliance.core.cluster import parse_address

    try:
        return parse_address(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
