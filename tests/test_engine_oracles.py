"""The Monte Carlo engine against the exact oracles of THEORY.md section 10.

Each statistical check asks the simulated E|x_h(T) - x(T)|^2 to lie within 4 Monte
Carlo standard errors of the exact value. With a correct engine one check fails with
probability about 6e-5 (two-sided normal tail at 4 sigma, for a large number of
realizations); a test with k checks fails with probability at most k * 6e-5. The
seeds are fixed, so the outcome is deterministic. The fields are mild (|A^omega| h
of order one) so that |e|^2 is not heavy-tailed and the normal approximation holds.

The oracle with ``method="rk4"`` uses the RK4 step matrix, so it is exact for the
engine at any dt; the exact-flow oracle (expm) is compared at a small dt.
"""
import numpy as np
import pytest
import sympy as sp

from numerics.engine import integrate_full, reference_check, run_error_sweep
from numerics.fieldfile import Problem
from numerics.fields import ConstantField, LinearField
from numerics.linear_oracle import constant_field_mse, constant_field_variance, linear_oracle
from rbmtheory.errors import RBMInputError
from rbmtheory.schemes import Family
from rbmtheory.schemes.registry import scheme_from_spec

T = 1.0
M = 3000


def _linear_problem(p=4, d=2, seed=1, scale=0.4):
    rng = np.random.default_rng(seed)
    field = LinearField(scale * rng.standard_normal((p, d, d)), 0.3 * rng.standard_normal((p, d)))
    return Problem(field, rng.standard_normal((3, d)), T, "linear")


def _family():
    return Family(batches=[[0, 1], [1, 2, 3], [2], [0, 3]], probs=[sp.Rational(1, 4)] * 4)


SCHEMES = {
    "family": _family,
    "pick-one": lambda: scheme_from_spec("pick-one", p=4),
    "bernoulli": lambda: scheme_from_spec("bernoulli(q=1/2)", p=4),
    "disjoint": lambda: scheme_from_spec("disjoint(r=2)", p=4),
}


def _within(stats, exact, k=4.0):
    simulated, se = stats.mse_t[-1], stats.mse_t_se[-1]
    assert np.all(se > 0)
    assert np.all(np.abs(simulated - exact) <= k * se), (simulated, exact, se)


@pytest.mark.parametrize("switching", ["uniform", "random"])
@pytest.mark.parametrize("name", SCHEMES)
def test_linear_field_matches_exact_moment_recursion(name, switching):
    problem, scheme = _linear_problem(), SCHEMES[name]()
    hs = [0.25, 0.125]
    sweep = run_error_sweep(problem, scheme, hs, dt=1 / 32, switching=switching, realizations=M, seed=11)
    for h, stats in zip(hs, sweep):
        oracle = linear_oracle(problem.field, scheme, problem.x0, T, h, switching=switching, dt=1 / 32, method="rk4")
        _within(stats, oracle.mse)
        assert stats.mse_t_avg[-1] == pytest.approx(stats.mse_t[-1].mean())


def test_non_uniform_grid_matches_oracle():
    problem, scheme = _linear_problem(), SCHEMES["bernoulli"]()
    grid = [0.0, 0.125, 0.5, 0.625, 1.0]
    (stats,) = run_error_sweep(problem, scheme, None, switching=grid, dt=1 / 32, realizations=M, seed=2)
    oracle = linear_oracle(problem.field, scheme, problem.x0, T, None, switching=grid, dt=1 / 32, method="rk4")
    _within(stats, oracle.mse)
    assert stats.h == T / 4 and stats.switching == "grid(K=4)"


def test_exact_flow_oracle_at_small_dt():
    """With dt = h/16 the RK4 error is negligible: simulation within 4 SE of the expm oracle."""
    problem, scheme = _linear_problem(), SCHEMES["pick-one"]()
    h, dt = 0.125, 0.125 / 16
    exact = linear_oracle(problem.field, scheme, problem.x0, T, h, dt=dt)
    rk4 = linear_oracle(problem.field, scheme, problem.x0, T, h, dt=dt, method="rk4")
    np.testing.assert_allclose(rk4.mse, exact.mse, rtol=1e-6)
    np.testing.assert_allclose(exact.reference, problem.field.exact_solution(T, problem.x0), rtol=1e-12)
    (stats,) = run_error_sweep(problem, scheme, [h], dt=dt, realizations=M, seed=5)
    _within(stats, exact.mse)


def test_random_switching_roughly_doubles_the_error():
    """THEORY.md section 5: random / uniform E|e(T)|^2 -> 2 - dt/h at leading order."""
    problem, scheme = _linear_problem(scale=0.2), SCHEMES["disjoint"]()
    h, dt = 1 / 64, 1 / 512
    kw = dict(dt=dt, method="rk4")
    ratio = (
        linear_oracle(problem.field, scheme, problem.x0, T, h, switching="random", **kw).mse_avg
        / linear_oracle(problem.field, scheme, problem.x0, T, h, **kw).mse_avg
    )
    assert ratio == pytest.approx(2 - dt / h, rel=0.05)


@pytest.mark.parametrize("spec", ["pick-one", "bernoulli(q=1/3)", "drop-one"])
@pytest.mark.parametrize("switching", ["uniform", "random"])
def test_constant_field_error_is_h_lambda(spec, switching):
    rng = np.random.default_rng(4)
    field = ConstantField(rng.standard_normal((4, 2)))
    problem = Problem(field, rng.standard_normal((2, 2)), T, "constant")
    scheme = scheme_from_spec(spec, p=4)
    h = 0.125
    exact = constant_field_mse(field, scheme, T, h, switching=switching, dt=h / 4)
    if switching == "uniform":
        assert exact == pytest.approx(h * T * constant_field_variance(field, scheme), rel=1e-12)
    (stats,) = run_error_sweep(problem, scheme, [h], switching=switching, realizations=M, seed=8)
    _within(stats, np.full(2, exact))


def test_constant_oracle_equals_linear_oracle_with_zero_matrices():
    rng = np.random.default_rng(6)
    c = rng.standard_normal((4, 2))
    scheme = scheme_from_spec("bernoulli(q=1/2)", p=4)
    linear = LinearField(np.zeros((4, 2, 2)), c)
    for switching in ("uniform", "random"):
        lin = linear_oracle(linear, scheme, np.zeros((1, 2)), T, 0.25, switching=switching, dt=1 / 16)
        const = constant_field_mse(ConstantField(c), scheme, T, 0.25, switching=switching, dt=1 / 16)
        assert lin.mse[0] == pytest.approx(const, rel=1e-10)


def test_single_batch_has_zero_error():
    problem = _linear_problem()
    (stats,) = run_error_sweep(problem, scheme_from_spec("single", p=4), [0.25], realizations=32)
    assert np.max(stats.mse_t) < 1e-28 and stats.e_sup_avg < 1e-28


def test_blow_up_raises_with_h_and_time():
    """Full field A = 0 is harmless, but pick-one gives A^omega = +-80 I: the state overflows."""
    A = np.stack([40.0 * np.eye(2), -40.0 * np.eye(2)])
    problem = Problem(LinearField(A), np.ones((1, 2)), 20.0, "explosive")
    with pytest.raises(RBMInputError, match=r"h = 10: the random trajectory blew up at t = [0-9.]+"):
        run_error_sweep(problem, scheme_from_spec("pick-one", p=2), [10.0], dt=0.1, realizations=8)


def test_full_blow_up_raises():
    problem = Problem(LinearField(np.stack([400.0 * np.eye(2)])), np.ones((1, 2)), 10.0, "explosive")
    with pytest.raises(RBMInputError, match="full trajectory blew up"):
        integrate_full(problem, 0.01, "rk4")


def test_reference_uses_the_engine_integrator():
    problem = _linear_problem()
    times, X = integrate_full(problem, 1 / 32, "rk4")
    assert times.shape == (33,) and X.shape == (33, 3, 2)
    oracle = linear_oracle(problem.field, SCHEMES["pick-one"](), problem.x0, T, 0.25, dt=1 / 32, method="rk4")
    np.testing.assert_allclose(X[-1], oracle.reference, rtol=1e-13)
    assert 0 < reference_check(problem, 1 / 32, "rk4") < 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("switching", ["uniform", "random"])
def test_tight_agreement_with_many_realizations(switching):
    """M = 40000, p = 6, balanced(r=3): relative SE about 1 %, still within 4 SE."""
    problem = _linear_problem(p=6, seed=9, scale=0.3)
    scheme = scheme_from_spec("balanced(r=3)", p=6)
    hs = [0.25, 0.125, 0.0625]
    sweep = run_error_sweep(problem, scheme, hs, dt=1 / 64, switching=switching, realizations=40_000, seed=21)
    for h, stats in zip(hs, sweep):
        oracle = linear_oracle(problem.field, scheme, problem.x0, T, h, switching=switching, dt=1 / 64, method="rk4")
        _within(stats, oracle.mse)
        assert np.all(stats.mse_t_se[-1] < 0.015 * stats.mse_t[-1])
