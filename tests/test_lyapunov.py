"""Predictions along the trajectory (numerics.predictions) against exact oracles (THEORY.md §5, §10)."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from numerics.fieldfile import Problem, default_problem
from numerics.fields import ConstantField, LinearField
from numerics.linear_oracle import constant_field_mse, linear_oracle
from numerics.predictions import predict_trajectory, step_tau
from numerics.schedules import grid_switching, random_switching, uniform_switching
from rbmtheory.schemes.registry import scheme_from_spec


def _rule(switching, h, T, dt):
    return (uniform_switching if switching == "uniform" else random_switching)(h, T, dt)


@pytest.fixture(scope="module")
def constant_problem():
    c = np.random.default_rng(0).standard_normal((6, 2))
    return Problem(ConstantField(c), np.zeros((2, 2)), 1.0, "constant")


@pytest.fixture(scope="module")
def linear_problem():
    rng = np.random.default_rng(0)
    field = LinearField(0.4 * rng.standard_normal((4, 2, 2)))
    return Problem(field, rng.standard_normal((3, 2)), 1.0, "linear")


@pytest.mark.parametrize("spec", ["balanced(r=2)", "disjoint(r=3)", "bernoulli(q=1/3)"])
def test_constant_field_c_lead_is_lambda(constant_problem, spec):
    """A = 0: trace P(T) = h Lambda(T) for uniform switching (same quadrature)."""
    scheme = scheme_from_spec(spec, p=6)
    pred = predict_trajectory(constant_problem, scheme, 0.01, "rk4")
    lead = pred.leading_order(uniform_switching(0.05, 1.0, 0.01))
    np.testing.assert_allclose(lead.c_lead, pred.lam, rtol=1e-12)
    np.testing.assert_allclose(lead.c_lead_sup, pred.lam, rtol=1e-12)
    exact = constant_field_mse(constant_problem.field, scheme, 1.0, 0.05, dt=0.01)
    assert lead.mean_c_lead * 0.05 == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("h", [0.05, 0.01])
def test_constant_field_random_switching_is_exact(constant_problem, h):
    """The size-biased tau_j makes trace P(T) the exact random-switching error of a constant field."""
    scheme = scheme_from_spec("pick-one", p=6)
    dt = h / 5
    pred = predict_trajectory(constant_problem, scheme, dt, "rk4")
    lead = pred.leading_order(random_switching(h, 1.0, dt))
    exact = constant_field_mse(constant_problem.field, scheme, 1.0, h, switching="random", dt=dt)
    assert lead.trace[-1].mean() == pytest.approx(exact, rel=1e-10)


def test_time_dependent_constant_field():
    field = ConstantField(lambda t: np.array([[np.cos(3 * t), 1.0], [t, -t], [0.5, np.sin(t)]]))
    problem = Problem(field, np.zeros((1, 2)), 1.0, "c(t)")
    pred = predict_trajectory(problem, "pick-one", 0.01, "rk4")
    ts = np.linspace(0, 1, 20001)
    V = [float(pred.design.variance(field.values(t))) for t in ts]
    assert pred.lam[0] == pytest.approx(np.trapezoid(V, ts), rel=1e-7)
    lead = pred.leading_order(uniform_switching(0.1, 1.0, 0.01))
    assert lead.c_lead[0] == pytest.approx(pred.lam[0], rel=1e-12)


def test_step_tau():
    dt, h, T = 0.01, 0.05, 1.0
    np.testing.assert_allclose(step_tau(uniform_switching(h, T, dt), np.full(100, dt)), h)
    grid = grid_switching([0.0, 0.1, 0.4, 1.0], T, dt)
    tau = step_tau(grid, np.full(100, dt))
    assert tau[0] == pytest.approx(0.1) and tau[20] == pytest.approx(0.3) and tau[-1] == pytest.approx(0.6)
    rule = random_switching(h, T, dt)
    tau = step_tau(rule, np.full(100, dt))
    j = np.arange(100)
    brute = dt * ((1 - rule.s) ** np.abs(j[:, None] - j[None, :])).sum(axis=1)
    np.testing.assert_allclose(tau, brute, rtol=1e-12)
    assert tau[50] == pytest.approx(2 * h - dt, rel=1e-3)
    assert tau[0] == pytest.approx(h * (1 - (1 - rule.s) ** 100), rel=1e-12)  # age dt + residual capped at T


@pytest.mark.parametrize("switching", ["uniform", "random"])
@pytest.mark.parametrize("spec", ["balanced(r=2)", "bernoulli(q=1/2)"])
def test_linear_field_c_lead_vs_exact_oracle(linear_problem, spec, switching):
    """C_lead against the exact E|e(T)|^2 / h (engine-exact RK4 moments) at small h."""
    h, dt = 0.005, 0.00125
    scheme = scheme_from_spec(spec, p=4)
    pred = predict_trajectory(linear_problem, scheme, dt, "rk4")
    lead = pred.leading_order(_rule(switching, h, 1.0, dt))
    oracle = linear_oracle(linear_problem.field, scheme, linear_problem.x0, 1.0, h, switching=switching, dt=dt,
                           method="rk4")
    ratios = oracle.mse / h / lead.c_lead
    assert np.all((0.97 < ratios) & (ratios < 1.03)), ratios


def test_lyapunov_matches_a_tight_ode_solve(linear_problem):
    """RK4 on the dt grid with Hermite midpoints against solve_ivp on (x, P)."""
    scheme = scheme_from_spec("pick-one", p=4)
    pred = predict_trajectory(linear_problem, scheme, 0.01, "rk4")
    lead = pred.leading_order(uniform_switching(0.02, 1.0, 0.01))
    field, design = linear_problem.field, pred.design
    A = field.A_total()

    def rhs(t, y):
        x, P = y[:2], y[2:].reshape(2, 2)
        sigma = design.covariance(field.contributions(t, x[None])[0])
        return np.concatenate([A @ x, (A @ P + P @ A.T + 0.02 * sigma).ravel()])

    for n, x0 in enumerate(linear_problem.x0):
        sol = solve_ivp(rhs, (0, 1), np.concatenate([x0, np.zeros(4)]), rtol=1e-11, atol=1e-13)
        assert lead.trace[-1, n] == pytest.approx(np.trace(sol.y[2:, -1].reshape(2, 2)), rel=1e-7)


def test_monte_carlo_lambda_agrees_with_the_design_matrix():
    problem = default_problem(0, n_points=4)
    pred = predict_trajectory(problem, "disjoint(r=8)", 0.05, "rk4")
    mc = pred.monte_carlo_lambda(400, seed=1)
    z = (mc.mean - pred.lam) / mc.se
    assert np.all(np.abs(z) < 4.5), z
    assert abs(mc.mean_avg - pred.lam.mean()) < 4.5 * mc.se_avg


def test_s_bound_and_l_pi_per_point():
    problem = default_problem(0, n_points=4)
    pred = predict_trajectory(problem, "pick-one", 0.05, "rk4")
    assert pred.l_pi == pytest.approx(24 * problem.field.lipschitz_constants().max(), rel=1e-12)
    bound = pred.s_bound(0.1)
    assert bound.shape == (4,) and np.all(bound > pred.lam)
