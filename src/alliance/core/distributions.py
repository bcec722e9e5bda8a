"""Quantiles of the F distribution, in plain Python.

Written here rather than taken from scipy (``scipy.special.fdtri``) because importing
scipy.special takes several times as long as the whole `alliance psychometrics`
command on a plain CSV file. The tests compare these values with scipy's.
"""

from __future__ import annotations

import math

#: Most terms of the continued fraction before giving up (it needs about
#: √(a + b) terms; the Feldt interval of a million rows needs a few thousand).
_MAX_TERMS = 1_000_000
_TINY = 1e-300


#: Coefficients B_2n / (2n (2n − 1)) of Stirling's series for log Γ (DLMF 5.11.1).
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156)


def _stirling_correction(x: float) -> float:
    """log Γ(x) − ((x − ½) log x − x + ½ log 2π), for x ≥ 20 (to below 1e-18)."""
    inverse_square = 1.0 / (x * x)
    return sum(c * inverse_square ** n for n, c in enumerate(_STIRLING)) / x


def _log_beta(a: float, b: float) -> float:
    """log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b).

    With one large argument, log Γ(b) − log Γ(a + b) is taken from Stirling's
    series as one small difference: subtracting two large math.lgamma values
    would lose their digits (about 1e-9 of a million's log Γ).
    """
    small, big = min(a, b), max(a, b)
    if big < 20.0:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    total = small + big
    return (math.lgamma(small) - (big - 0.5) * math.log1p(small / big)
            - small * math.log(total) + small
            + _stirling_correction(big) - _stirling_correction(total))


def _beta_fraction(a: float, b: float, x: float) -> float:
    """1 + d1/(1 + d2/(1 + …)), the continued fraction of I_x(a, b) (DLMF 8.17.22).

    Evaluated with the modified Lentz method; it converges quickly for
    x < (a + 1)/(a + b + 2).
    """
    value, c, d = 1.0, 1.0, 0.0
    for j in range(1, _MAX_TERMS):
        m = j // 2
        if j % 2:
            term = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        else:
            term = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1.0 + term * d
        d = 1.0 / (d if d != 0.0 else _TINY)
        c = 1.0 + term / c
        if c == 0.0:
            c = _TINY
        delta = c * d
        value *= delta
        if abs(delta - 1.0) < 1e-16:
            return value
    raise ArithmeticError(f"the incomplete beta fraction did not converge (a={a}, b={b})")


def _beta_tails(a: float, b: float, x: float, xc: float, log_beta: float
                ) -> tuple[float, float, float]:
    """I_x(a, b), 1 − I_x(a, b) and x^a (1 − x)^b / B(a, b), given x and xc = 1 − x.

    The smaller of the two tails has full relative precision: it is computed from
    the fraction on its own side (I_x(a, b) = 1 − I_(1−x)(b, a)).
    """
    log_x = math.log(x) if x < 0.5 else math.log1p(-xc)
    log_xc = math.log(xc) if xc < 0.5 else math.log1p(-x)
    front = math.exp(a * log_x + b * log_xc - log_beta)
    if x < (a + 1.0) / (a + b + 2.0):
        lower = front / (a * _beta_fraction(a, b, x))
        return lower, 1.0 - lower, front
    upper = front / (b * _beta_fraction(b, a, xc))
    return 1.0 - upper, upper, front


def f_quantile(p: float, dfn: float, dfd: float) -> float:
    """The p-quantile of the F distribution with dfn and dfd degrees of freedom.

    Examples
    --------
    >>> round(f_quantile(0.975, 999, 8991), 6), round(f_quantile(0.025, 999, 8991), 6)
    (1.094994, 0.910086)
    >>> round(f_quantile(0.5, 1, 1), 12)
    1.0

    Notes
    -----
    F = (dfd · y) / (dfn · (1 − y)) with y ~ Beta(dfn/2, dfd/2), so
    P(F ≤ f) = I_y(dfn/2, dfd/2) at y = dfn·f / (dfn·f + dfd), the regularised
    incomplete beta function, computed by its continued fraction (DLMF 8.17.22;
    the same function as R's ``pf`` and scipy's ``fdtr``). The quantile is the
    root in s = log f of log P(F ≤ e^s) = log p (for p ≤ 1/2; of the upper tail
    otherwise, so that the smaller tail is matched to full precision), found by
    Newton's method (d P/d s = y^a (1 − y)^b / B(a, b)) kept inside a bracket
    that bisection narrows when a step would leave it. The F tails are powers of
    f, so log P is close to linear in s and Newton converges in a few steps.

    References
    ----------
    NIST Digital Library of Mathematical Functions, §8.17 (incomplete beta
    function), https://dlmf.nist.gov/8.17.
    """
    if not (dfn > 0 and dfd > 0) or math.isinf(dfn) or math.isinf(dfd):
        raise ValueError(f"degrees of freedom must be positive and finite, got {dfn}, {dfd}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"a probability must lie between 0 and 1, got {p}")
    if p == 0.0:
        return 0.0
    if p == 1.0:
        return math.inf
    a, b = dfn / 2.0, dfd / 2.0
    log_beta = _log_beta(a, b)
    upper_tail = p > 0.5
    target = math.log1p(-p) if upper_tail else math.log(p)

    log_ratio = math.log(dfd) - math.log(dfn)

    def excess(s: float) -> tuple[float, float]:
        """log P(tail) − log target at f = e^s, and its derivative in s."""
        scale = dfn * _exp(s)
        total = scale + dfd
        if math.isinf(total):  # dfn·f beyond the doubles (f itself may not be)
            ratio = math.exp(log_ratio - s)  # dfd / (dfn·f)
            y, yc = 1.0 / (1.0 + ratio), ratio / (1.0 + ratio)
        else:
            y, yc = scale / total, dfd / total
        # With small degrees of freedom the search may pass f where y or 1 − y is 0 in
        # double precision (the quantile itself may lie beyond the doubles): a tail is 0.
        if yc == 0.0:
            lower, upper, front = 1.0, 0.0, 0.0
        elif y == 0.0:
            lower, upper, front = 0.0, 1.0, 0.0
        else:
            lower, upper, front = _beta_tails(a, b, y, yc, log_beta)
        tail = upper if upper_tail else lower
        if tail <= 0.0:  # below the smallest double: log 0
            return -math.inf, 0.0
        slope = (-front if upper_tail else front) / tail
        return math.log(tail) - target, slope

    # The lower tail rises with s, the upper falls; `low` and `high` bracket the root.
    low, high = -math.inf, math.inf
    s = 0.0
    for _ in range(400):
        value, slope = excess(s)
        if value == 0.0:
            return _exp(s)
        below = (value < 0.0) != upper_tail
        if below:
            low = s
        else:
            high = s
        step = -value / slope if slope != 0.0 and math.isfinite(value) else math.nan
        if math.isfinite(low) and math.isfinite(high):
            following = s + step
            if not low < following < high:  # Newton would leave the bracket: bisect
                following = (low + high) / 2.0
        elif math.isfinite(step):
            following = s + max(-8.0, min(8.0, step))
        else:
            following = s + (8.0 if below else -8.0)
        if abs(following - s) <= 2e-16 * max(1.0, abs(s)) or high - low <= 4e-16 * max(
                1.0, abs(s)):
            return _exp(following)
        s = following
    raise ArithmeticError(f"the F quantile did not converge (p={p}, dfn={dfn}, dfd={dfd})")


def _exp(s: float) -> float:
    """e^s, infinity above the largest double."""
    try:
        return math.exp(s)
    except OverflowError:
        return math.inf
