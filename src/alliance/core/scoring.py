"""Scoring: turning item responses into scores, and scores onto a common metric."""

from __future__ import annotations

import numpy as np


def pomp(score, minimum: float, maximum: float):
    """Percent of maximum possible: place a score on 0–100 whatever its scale.

    Parameters
    ----------
    score : float or array-like
    minimum, maximum : the lowest and highest possible score of the scale.

    Returns
    -------
    float or numpy.ndarray, 0 at the scale minimum and 100 at its maximum.

    Notes
    -----
    POMP = (score − min) / (max − min) × 100. It makes scores comparable across
    instruments with different ranges (e.g. a 1–5 WAI-SR mean and a 0–10 slider).

    References
    ----------
    Cohen, P., Cohen, J., Aiken, L. S., & West, S. G. (1999). The problem of units
    and the circumstance for POMP. Multivariate Behavioral Research, 34(3), 315–346.
    """
    if not maximum > minimum:
        raise ValueError(f"scale maximum ({maximum}) must be greater than its minimum ({minimum})")
    result = (np.asarray(score, dtype=float) - minimum) / (maximum - minimum) * 100.0
    return float(result) if result.ndim == 0 else result
