"""Signals: what in a case needs attention, and why.

Every detector returns `Signal` records carrying their rule, parameters, the
data that fired them and a one-sentence explanation in plain language.
Detection at a session uses only data up to that session; later sessions only
change a rupture's repair state. See docs/signals.md.

Main entry points
-----------------
detect_ruptures : the vectorised rupture–repair engine (one case or a whole clinic).
"""

from .records import SIGNAL_TYPES, Signal, signals_frame
from .ruptures import (PooledSD, RuptureResult, detect_ruptures, pooled_within_sd,
                       rupture_signals)

__all__ = [
    "SIGNAL_TYPES", "PooledSD", "RuptureResult", "Signal", "detect_ruptures",
    "pooled_within_sd", "rupture_signals", "signals_frame",
]
