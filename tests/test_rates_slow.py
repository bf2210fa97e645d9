"""Slow statistical checks of the trajectory rate and its constants (run with -m slow).

* the fitted slope of sup_t E|e(t)|^2 lies in [0.85, 1.15] for the default neural
  field and the seven canonical schemes (single batch: EXACT), and S_bound h is never
  below the measured error;
* C_lead agrees with the measured E|e(T)|^2 / h at small h (ratio 0.9-1.1) for a
  linear and a neural field, uniform and random switching.
"""
import numpy as np
import pytest

from numerics.engine import run_error_sweep
from numerics.experiments import rate_trajectory
from numerics.fieldfile import Problem, default_problem
from numerics.fields import LinearField
from numerics.predictions import predict_trajectory
from numerics.rates import EXACT
from numerics.schedules import random_switching, uniform_switching
from numerics.theory_bridge import concrete_scheme

pytestmark = pytest.mark.slow

CANONICAL = ["single", "drop-one", "pick-one", "balanced(r=8)", "disjoint(r=8)", "all-subsets", "bernoulli(q=1/2)"]


@pytest.fixture(scope="module")
def neural():
    return default_problem(0)


@pytest.fixture(scope="module")
def linear():
    rng = np.random.default_rng(0)
    return Problem(LinearField(0.4 * rng.standard_normal((4, 2, 2))), rng.standard_normal((8, 2)), 1.0, "linear")


@pytest.mark.parametrize("spec", CANONICAL)
def test_sup_mse_slope_and_bound(neural, spec):
    result = rate_trajectory(neural, spec, realizations=1000, seed=0)
    verdict = result.fit
    if spec == "single":
        assert verdict.status == EXACT
        return
    assert 0.85 <= verdict.fit.slope <= 1.15, verdict.reason
    assert verdict.bound_ok, result.points()
    assert 0.85 <= verdict.constant_ratio <= 1.15, verdict.as_dict()


@pytest.mark.parametrize("switching", ["uniform", "random"])
@pytest.mark.parametrize("which, spec", [("linear", "balanced(r=2)"), ("neural", "disjoint(r=8)")])
def test_c_lead_against_measured_error(request, which, spec, switching):
    problem = request.getfixturevalue(which)
    h = 0.0125
    dt = h / 4
    scheme = concrete_scheme(spec, problem.field.p)
    (stats,) = run_error_sweep(problem, scheme, [h], dt=dt, switching=switching, realizations=3000, seed=5)
    rule = (uniform_switching if switching == "uniform" else random_switching)(h, problem.T, dt)
    lead = predict_trajectory(problem, scheme, dt, "rk4").leading_order(rule)
    ratio = stats.mse_t_avg[-1] / h / lead.mean_c_lead
    assert 0.9 <= ratio <= 1.1, (ratio, stats.mse_t_avg_se[-1] / stats.mse_t_avg[-1])
