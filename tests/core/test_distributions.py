"""The F quantile of alliance.core.distributions against scipy.special.fdtri.

scipy stays a dependency of the project (other modules use it); the quantile is written
in plain Python only so that `alliance psychometrics` does not import it.
"""

import math

import pytest
from scipy.special import fdtri

from alliance.core.distributions import f_quantile
from alliance.core.psychometrics import alpha_confidence_interval

PROBABILITIES = [1e-12, 1e-6, 0.001, 0.025, 0.05, 0.3, 0.5, 0.7, 0.95, 0.975, 0.999, 1 - 1e-6]
DEGREES = [0.5, 1, 2, 3, 4.5, 10, 29, 99, 891, 8991, 1e5, 1e6]


@pytest.mark.parametrize("p", PROBABILITIES)
def test_the_f_quantile_agrees_with_scipy_to_1e_10_relative(p):
    worst = 0.0
    for dfn in DEGREES:
        for dfd in DEGREES:
            ours, theirs = f_quantile(p, dfn, dfd), float(fdtri(dfn, dfd, p))
            worst = max(worst, abs(ours - theirs) / theirs)
    assert worst <= 1e-10


def test_the_f_quantile_of_the_feldt_intervals_of_a_thousand_rows():
    # Both ends of the 95 % interval of 1,000 rows and 10 items, as the command uses them.
    for p in (0.025, 0.975):
        assert f_quantile(p, 999, 8991) == pytest.approx(fdtri(999, 8991, p), rel=1e-13)


def test_the_f_quantile_inverts_known_values():
    # F(1, 1) is the square of a standard Cauchy variable: its quantile is tan(π p / 2)².
    for p in (0.1, 0.5, 0.9):
        assert f_quantile(p, 1, 1) == pytest.approx(math.tan(math.pi * p / 2) ** 2, rel=1e-13)
    # F(2, 2): P(F ≤ f) = f / (1 + f), so the quantile is p / (1 − p).
    for p in (0.01, 0.25, 0.99):
        assert f_quantile(p, 2, 2) == pytest.approx(p / (1 - p), rel=1e-13)


def test_the_ends_and_bad_arguments():
    assert f_quantile(0.0, 3, 4) == 0.0
    assert f_quantile(1.0, 3, 4) == math.inf
    with pytest.raises(ValueError, match="between 0 and 1"):
        f_quantile(1.5, 3, 4)
    with pytest.raises(ValueError, match="between 0 and 1"):
        f_quantile(math.nan, 3, 4)
    with pytest.raises(ValueError, match="positive and finite"):
        f_quantile(0.5, 0, 4)
    with pytest.raises(ValueError, match="positive and finite"):
        f_quantile(0.5, 3, math.inf)


def test_the_feldt_interval_is_the_one_scipy_gives():
    alpha, n, k = 0.81, 57, 7
    expected = (1 - (1 - alpha) * fdtri(n - 1, (n - 1) * (k - 1), 0.975),
                1 - (1 - alpha) * fdtri(n - 1, (n - 1) * (k - 1), 0.025))
    assert alpha_confidence_interval(alpha, n, k) == pytest.approx(expected, rel=1e-12)


def test_small_degrees_of_freedom_give_the_quantile_or_its_limit_not_a_math_error():
    # With a fraction of a degree of freedom the F quantile can lie at 1e±300 or beyond
    # the doubles: the search passes points where y or 1 − y is 0 in double precision.
    # 5.7e306: dfn·f overflows, f does not (scipy's fdtri stops at 4.5e301 here); F(m, n)
    # and 1/F(n, m) have the same distribution.
    assert f_quantile(0.3, 999, 0.001) == pytest.approx(1 / f_quantile(0.7, 0.001, 999),
                                                        rel=1e-12)
    assert f_quantile(1e-10, 0.1, 2) == pytest.approx(1e-200, rel=0.1)  # P ≈ C·f^0.05
    assert f_quantile(0.975, 0.001, 0.001) == math.inf
    assert f_quantile(0.5, 2, 0.001) == math.inf
    for p, dfn, dfd in [(0.025, 0.001, 1), (0.5, 0.001, 1e7), (1e-200, 1, 1)]:
        assert 0.0 <= f_quantile(p, dfn, dfd) < 1e-290
