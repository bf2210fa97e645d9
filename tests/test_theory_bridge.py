"""The numeric bridge against the exact symbolic layer (THEORY.md §3, §4, §5)."""
import time

import numpy as np
import pytest
import sympy as sp

from numerics.theory_bridge import covariance, lipschitz_pi, numeric_design, s_bound, variance
from rbmtheory.constants import H, L_PI, LAMBDA, S_BOUND, T
from rbmtheory.errors import RBMInputError
from rbmtheory.schemes.registry import scheme_from_spec
from rbmtheory.variance import covariance as exact_covariance
from rbmtheory.variance import variance as exact_variance
from schemes_catalogue import concrete_cases

CASES = [(spec, p) for spec, p in concrete_cases() if p is None or p <= 7]


def _scheme(spec, p):
    return scheme_from_spec(spec, p=p)


def _rational_contributions(p, d, seed):
    rng = np.random.default_rng(seed)
    ints = rng.integers(-6, 7, size=(p, d))
    return [[sp.Rational(int(v), 3) for v in row] for row in ints]


@pytest.mark.parametrize("spec, p", CASES)
def test_variance_matches_exact(spec, p):
    scheme = _scheme(spec, p)
    n = int(scheme.p)
    f = _rational_contributions(n, 2, seed=n)
    exact = float(exact_variance(scheme, f))
    numeric = variance(scheme, np.array(f, dtype=float))
    assert numeric == pytest.approx(exact, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("spec, p", CASES)
def test_covariance_matches_exact_and_trace_is_variance(spec, p):
    scheme = _scheme(spec, p)
    n = int(scheme.p)
    f = _rational_contributions(n, 3, seed=n + 1)
    design = numeric_design(scheme)
    cov = design.covariance(np.array(f, dtype=float))
    exact = np.array(exact_covariance(scheme, f).tolist(), dtype=float)
    np.testing.assert_allclose(cov, exact, rtol=1e-12, atol=1e-12)
    assert np.trace(cov) == pytest.approx(float(design.variance(np.array(f, dtype=float))), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("spec", ["balanced(r=3)", "bernoulli(q=1/3)", "drop-one", "disjoint(r=2)", "all-subsets"])
def test_symbolic_and_concrete_p_agree_and_broadcast(spec):
    rng = np.random.default_rng(1)
    f = rng.standard_normal((4, 5, 6, 2))  # (M, N, p, d)
    concrete = numeric_design(scheme_from_spec(spec, p=6))
    generic = numeric_design(spec, p=6)
    v = generic.variance(f)
    assert v.shape == (4, 5)
    np.testing.assert_allclose(v, concrete.variance(f), rtol=1e-12)
    cov = generic.covariance(f)
    assert cov.shape == (4, 5, 2, 2)
    np.testing.assert_allclose(np.trace(cov, axis1=-2, axis2=-1), v, rtol=1e-12)
    np.testing.assert_allclose(covariance(scheme_from_spec(spec, p=6), f), cov, rtol=1e-12)


def test_single_batch_has_zero_variance():
    f = np.random.default_rng(2).standard_normal((3, 8, 2))
    design = numeric_design("single", p=8)
    assert np.all(design.variance(f) == 0) and np.all(design.covariance(f) == 0)


def test_bad_inputs():
    with pytest.raises(RBMInputError, match="symbolic parameters"):
        numeric_design("bernoulli(q=q)", p=4)
    with pytest.raises(RBMInputError, match="p=4"):
        variance(numeric_design("pick-one", p=4), np.zeros((3, 2)))
    with pytest.raises(RBMInputError, match="field has p = 5"):
        lipschitz_pi(scheme_from_spec("balanced(r=2)", p=4), np.ones(5))
    with pytest.raises(RBMInputError, match="non-negative"):
        lipschitz_pi("pick-one", [1.0, -1.0])


def _brute_lipschitz_pi(scheme, values):
    pi = np.zeros(values.size)
    batches = list(scheme.law().enumerate())
    for batch, prob in batches:
        for i in batch:
            pi[i] += float(prob)
    return max(sum(values[i] / pi[i] for i in batch) for batch, _ in batches)


@pytest.mark.parametrize("spec, p", CASES)
def test_lipschitz_pi_matches_brute_force(spec, p):
    scheme = _scheme(spec, p)
    values = np.random.default_rng(int(scheme.p)).random(int(scheme.p)) * 3
    assert lipschitz_pi(scheme, values) == pytest.approx(_brute_lipschitz_pi(scheme, values), rel=1e-12)


def test_lipschitz_pi_is_exact_for_dyadic_values():
    values = np.array([0.5, 0.25, 0.125, 0.125])
    for spec, expected in [("pick-one", 2.0), ("all-subsets", 2.0), ("bernoulli(q=1/4)", 4.0)]:
        assert lipschitz_pi(spec, values) == expected


@pytest.mark.parametrize("spec", ["balanced(r=8)", "disjoint(r=8)", "bernoulli(q=0.3)", "all-subsets"])
def test_lipschitz_pi_is_fast_at_p_256(spec):
    values = np.random.default_rng(3).random(256)
    start = time.perf_counter()
    value = lipschitz_pi(spec, values)
    assert time.perf_counter() - start < 5.0
    assert value >= values.sum() * (1 - 1e-12)  # max_B >= E_B sum_{i in B} L_i / pi_i = L
    if spec == "disjoint(r=8)":  # blocks of 8 with pi = 1/32
        assert value == pytest.approx(32 * values.reshape(32, 8).sum(axis=1).max(), rel=1e-12)


def test_s_bound_matches_sympy():
    args = (0.7, 1.3, 1.0, 0.05)
    exact = float(S_BOUND.subs(dict(zip((LAMBDA, L_PI, T, H), args))))
    assert float(s_bound(*args)) == pytest.approx(exact, rel=1e-14)
    grid = s_bound(np.array([1.0, 2.0]), 1.5, 1.0, np.array([[0.1], [0.2]]))
    assert grid.shape == (2, 2)


def test_random_contributions_against_batch_average():
    """Cov from the bridge equals the empirical covariance over the enumerated batches."""
    scheme = scheme_from_spec("stratified(strata=[[0,1,2],[3,4]], r=[1,1])")
    f = np.random.default_rng(4).standard_normal((5, 2))
    batches = list(scheme.law().enumerate())
    pi = np.zeros(5)
    for batch, prob in batches:
        pi[list(batch)] += float(prob)
    full = f.sum(axis=0)
    deviations = [(float(prob), sum(f[i] / pi[i] for i in batch) - full) for batch, prob in batches]
    cov = sum(prob * np.outer(dev, dev) for prob, dev in deviations)
    np.testing.assert_allclose(covariance(scheme, f), cov, rtol=1e-12)
