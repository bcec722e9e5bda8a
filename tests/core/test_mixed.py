"""The REML criterion of alliance.core.mixed against a direct dense computation.

The blockwise formulas (Woodbury, determinant lemma, a rank-one update per
group) must give the same criterion as building V and inverting it; agreement
to 1e-8 relative. Agreement with lme4 itself is tested in test_analysis.py and
test_expected.py.
"""

import numpy as np
import pytest

from alliance.core.errors import InputError
from alliance.core import mixed
from alliance.core.mixed import _Problem, fit_reml


def dense_criterion(y, X, units, Z, groups, theta):
    n, p = X.shape
    q = Z.shape[1]
    labels = np.unique(units)
    rows, cols = np.tril_indices(q)
    order = np.lexsort([rows, cols])
    L = np.zeros((q, q))
    L[rows[order], cols[order]] = theta[: len(rows)]
    V = np.eye(n)
    for label in labels:
        at = units == label
        V[np.ix_(at, at)] += Z[at] @ L @ L.T @ Z[at].T
    if groups is not None:
        same = groups[:, None] == groups[None, :]
        V += theta[-1] ** 2 * same
    Vi = np.linalg.inv(V)
    XVX = X.T @ Vi @ X
    beta = np.linalg.solve(XVX, X.T @ Vi @ y)
    r2 = (y - X @ beta) @ Vi @ (y - X @ beta)
    df = n - p
    return (np.linalg.slogdet(V)[1] + np.linalg.slogdet(XVX)[1]
            + df * (1 + np.log(2 * np.pi * r2 / df)))


def small_data(q, seed=0, n_units=12, per_unit=6):
    rng = np.random.default_rng(seed)
    units = np.repeat([f"u{i:02d}" for i in range(n_units)], per_unit)
    groups = np.array([f"g{int(u[1:]) % 3}" for u in units])
    t = np.tile(np.arange(1, per_unit + 1), n_units).astype(float)
    Z = np.column_stack([np.ones_like(t), np.log(t), t / 10][:q])
    X = np.column_stack([np.ones_like(t), rng.normal(size=len(t)), t])
    y = X @ [1.0, 0.5, 0.2] + rng.normal(size=len(t))
    return y, X, units, Z, groups


@pytest.mark.parametrize("q", [1, 2, 3])
@pytest.mark.parametrize("with_groups", [False, True])
def test_the_blockwise_criterion_equals_the_dense_one(q, with_groups):
    y, X, units, Z, groups = small_data(q)
    groups = groups if with_groups else None
    problem = _Problem(y, X, units, Z, groups)
    rng = np.random.default_rng(q)
    n_theta = q * (q + 1) // 2 + (1 if with_groups else 0)
    for theta in (rng.uniform(0.1, 1.5, n_theta), np.r_[np.zeros(n_theta - 1), 0.7]):
        assert problem.deviance(theta) == pytest.approx(
            dense_criterion(y, X, units, Z, groups, theta), rel=1e-8)



@pytest.mark.parametrize("q", [1, 2, 3])
def test_the_sparse_sum_over_groups_equals_the_dense_criterion(q, monkeypatch):
    # Many units: the sum over each group's units is a sparse product instead of reduceat.
    monkeypatch.setattr(mixed, "SPARSE_UNITS", 0)
    y, X, units, Z, groups = small_data(q)
    problem = _Problem(y, X, units, Z, groups)
    theta = np.random.default_rng(q).uniform(0.1, 1.5, q * (q + 1) // 2 + 1)
    assert problem.deviance(theta) == pytest.approx(
        dense_criterion(y, X, units, Z, groups, theta), rel=1e-8)


@pytest.mark.parametrize("q", [1, 2])
def test_the_criterion_and_its_differences_come_from_one_evaluation_of_all_points(q):
    y, X, units, Z, groups = small_data(q)
    problem = _Problem(y, X, units, Z, groups)
    theta = np.r_[np.random.default_rng(0).uniform(0.2, 1.2, q * (q + 1) // 2), 0.0]
    value, gradient = problem.value_and_gradient(theta)
    assert value == problem.deviance(theta)
    for k, step in enumerate(1e-5 * np.maximum(1.0, np.abs(theta))):
        up, down = theta.copy(), theta.copy()
        up[k] += step
        down[k] -= step
        expected = ((problem.deviance(up) - value) / step if theta[k] == 0   # forward at 0
                    else (problem.deviance(up) - problem.deviance(down)) / (2 * step))
        assert gradient[k] == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_stopping_after_a_clean_first_start_finds_what_every_start_finds(monkeypatch):
    # The first start is kept alone only at an interior optimum that no zero-variance
    # point beats; on these data (some with a variance near or at zero, and lagged
    # outcomes, whose criterion can have two minima) running every start never does better.
    rng = np.random.default_rng(7)
    kept = 0
    for trial in range(24):
        n_units = int(rng.integers(8, 30))
        units = np.repeat(np.arange(n_units), rng.integers(3, 9, n_units))
        n = len(units)
        sd = rng.choice([0.0, 0.05, 0.3, 1.0])
        lag = np.r_[0.0, rng.normal(size=n - 1)]
        y = 0.5 * lag + rng.normal(0, sd, n_units)[units] + rng.normal(size=n)
        y[1:] += 0.4 * y[:-1] * (units[1:] == units[:-1])
        X = np.column_stack([np.ones(n), lag])
        groups = units % 3 if trial % 2 else None
        monkeypatch.setattr(mixed, "INTERIOR", 1e-3)
        quick = fit_reml(y, X, ["a", "b"], units, np.ones(n), groups=groups)
        monkeypatch.setattr(mixed, "INTERIOR", np.inf)        # never stop after the first
        full = fit_reml(y, X, ["a", "b"], units, np.ones(n), groups=groups)
        assert quick.reml_criterion <= full.reml_criterion + 1e-7
        assert quick.fe == pytest.approx(full.fe, rel=1e-4, abs=1e-6)
        kept += bool(np.all(quick.theta > 1e-3))
    assert kept >= 6  # the quick path was taken often enough to be tested

def test_a_unit_in_two_groups_is_refused():
    y, X, units, Z, groups = small_data(1)
    groups = groups.copy()
    groups[0] = "elsewhere"
    with pytest.raises(InputError, match="more than one group"):
        fit_reml(y, X, ["a", "b", "c"], units, Z, groups=groups)


def test_collinear_fixed_effects_are_refused():
    y, X, units, Z, _ = small_data(1)
    X = np.column_stack([X, 2 * X[:, 1]])
    with pytest.raises(InputError, match="cannot be told apart"):
        fit_reml(y, X, ["a", "b", "c", "d"], units, Z)


def test_a_three_parameter_random_effect_converges_to_a_flat_optimum():
    y, X, units, Z, _ = small_data(3, n_units=40)
    fit = fit_reml(y, X, ["intercept", "x", "t"], units, Z)
    assert np.isfinite(fit.reml_criterion)
    problem = _Problem(y, X, units, Z, None)
    assert problem.deviance(fit.theta) == pytest.approx(fit.reml_criterion)
    # No start nearby does better.
    rng = np.random.default_rng(5)
    for _ in range(20):
        nearby = np.abs(fit.theta + rng.normal(0, 0.05, len(fit.theta)))
        assert problem.deviance(nearby) >= fit.reml_criterion - 1e-9


def test_fits_in_several_threads_leave_blas_as_they_found_it():
    """BLAS has one thread setting per process: two fits that overlap (a web server's
    threads) and end in another order than they began restore the setting from before."""
    from threadpoolctl import ThreadpoolController

    from alliance.core import mixed

    def blas_threads():
        return {i["num_threads"] for i in ThreadpoolController().info()
                if i["user_api"] == "blas"}

    with ThreadpoolController().limit(limits=2, user_api="blas"):
        before = blas_threads()
        first, second = mixed._one_blas_thread(), mixed._one_blas_thread()
        first.__enter__()
        second.__enter__()
        assert blas_threads() == {1}
        first.__exit__(None, None, None)
        assert blas_threads() == {1}  # the second fit still runs
        second.__exit__(None, None, None)
        assert blas_threads() == before
