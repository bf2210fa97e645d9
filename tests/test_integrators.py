"""Fixed-step integrators: step polynomials, orders, breakpoints (numerics.integrators)."""
import numpy as np
import pytest
from scipy.linalg import expm

from numerics.fields import ConstantField
from numerics.integrators import METHODS, get_method, integrate, step_matrix, time_grid
from rbmtheory.errors import RBMInputError

TAYLOR_TERMS = {"euler": 1, "rk2": 2, "rk4": 4}


@pytest.mark.parametrize("method", METHODS)
def test_step_matrix_is_the_truncated_exponential(method):
    Z = 0.3 * np.random.default_rng(0).standard_normal((3, 3))
    term, poly = np.eye(3), np.eye(3)
    for k in range(1, TAYLOR_TERMS[method] + 1):
        term = term @ Z / k
        poly = poly + term
    np.testing.assert_allclose(step_matrix(method, Z, 1.0), poly, atol=1e-15)


@pytest.mark.parametrize("method", METHODS)
def test_observed_order(method):
    A = np.array([[0.0, 1.0], [-1.0, -0.1]])
    exact = expm(A) @ np.array([1.0, 0.0])

    def rhs(t, x, out):
        np.matmul(x, A.T, out=out)

    errors = [np.linalg.norm(integrate(rhs, method, [1.0, 0.0], time_grid(1.0, dt))[-1] - exact) for dt in (0.05, 0.025)]
    assert np.log2(errors[0] / errors[1]) == pytest.approx(get_method(method).order, abs=0.15)


@pytest.mark.parametrize("method", METHODS)
def test_piecewise_constant_field_is_integrated_exactly(method):
    """c = 1 before t = 0.5 and 3 after: every stage of a step must see its own piece."""
    field = ConstantField(lambda t: np.full((1, 1), 1.0 if t < 0.5 else 3.0), time_breakpoints=[0.5])
    times = time_grid(1.0, 0.1, field.time_breakpoints)
    assert times[5] == 0.5

    def rhs(t, x, out):
        field.evaluate(t, x, out=out)

    assert integrate(rhs, method, np.zeros((1, 1)), times)[-1, 0, 0] == pytest.approx(2.0, abs=1e-14)


def test_breakpoint_off_the_grid_is_refused():
    with pytest.raises(RBMInputError, match="time breakpoint = 0.35 is not a multiple of dt = 0.1"):
        time_grid(1.0, 0.1, [0.35])


def test_unknown_method():
    with pytest.raises(RBMInputError, match="unknown integrator 'heun'"):
        get_method("heun")
