"""Printing results: readable tables by default, JSON for machines."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import click
import numpy as np


def to_plain(value: Any) -> Any:
    """Convert results (dataclasses, numpy scalars, NaN) into JSON-ready Python values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return to_plain(value.to_dict())
        return to_plain(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_json(value: Any) -> None:
    click.echo(json.dumps(to_plain(value), indent=2, ensure_ascii=False))


def format_cell(value: Any, digits: int = 3) -> str:
    value = to_plain(value)
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, list):
        return "[" + ", ".join(format_cell(v, digits) for v in value) + "]"
    return str(value)


def print_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None,
                *, digits: int = 3, title: str | None = None) -> None:
    """Print rows as an aligned plain-text table (numbers right-aligned)."""
    if title:
        click.echo(title)
    if not rows:
        click.echo("(none)")
        return
    columns = list(columns or rows[0].keys())
    cells = [[format_cell(row.get(c), digits) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    numeric = [all(_is_number(row.get(c)) for row in rows) for c in columns]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric)).rstrip()

    click.echo(line(columns))
    click.echo(line(["-" * w for w in widths]))
    for row in cells:
        click.echo(line(row))


def print_pairs(pairs: Sequence[tuple[str, Any]], *, digits: int = 3) -> None:
    """Print label: value lines, aligned."""
    width = max(len(label) for label, _ in pairs)
    for label, value in pairs:
        click.echo(f"{label.ljust(width)}  {format_cell(value, digits)}")


def _is_number(value: Any) -> bool:
    value = to_plain(value)
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
