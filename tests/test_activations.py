"""Activations: derivatives vs finite differences, sup constants, buffers, registry."""
import warnings

import numpy as np
import pytest

from numerics.activations import ACTIVATION_NAMES, get_activation, warn_if_not_smooth
from rbmtheory.errors import RBMInputError

# points away from the kinks of ReLU (sigma') and ELU (sigma'') at 0
Z = np.concatenate([np.linspace(-6.0, -0.05, 60), np.linspace(0.05, 6.0, 60)])
H = 1e-5


def central(fn, z, h=H):
    return (fn(z + h) - fn(z - h)) / (2.0 * h)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_first_derivative_matches_finite_differences(name):
    act = get_activation(name)
    np.testing.assert_allclose(act.derivative(Z), central(act.value, Z), atol=1e-9)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_second_derivative_matches_finite_differences(name):
    act = get_activation(name)
    np.testing.assert_allclose(act.second_derivative(Z), central(act.derivative, Z), atol=1e-9)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_sup_constants_are_attained_suprema(name):
    act = get_activation(name)
    grid = np.linspace(-12.0, 12.0, 240_001)  # contains 0 and +-sqrt 2 to 1e-4
    d1 = np.abs(act.derivative(grid)).max()
    assert d1 <= act.sup_derivative * (1 + 1e-12)
    assert d1 >= act.sup_derivative - 1e-6
    if np.isfinite(act.sup_second_derivative):
        d2 = np.abs(act.second_derivative(grid)).max()
        assert d2 <= act.sup_second_derivative * (1 + 1e-12)
        assert d2 >= act.sup_second_derivative - 1e-6


def test_gelu_sup_derivative_value():
    assert get_activation("gelu").sup_derivative == pytest.approx(1.1289041452, abs=1e-9)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@pytest.mark.parametrize("method", ["value", "derivative", "second_derivative"])
def test_out_buffer_and_in_place(name, method):
    fn = getattr(get_activation(name), method)
    expected = fn(Z)
    buf = np.empty_like(Z)
    assert fn(Z, out=buf) is buf
    np.testing.assert_array_equal(buf, expected)
    z = Z.copy()
    fn(z, out=z)
    np.testing.assert_array_equal(z, expected)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_extreme_inputs_stay_finite_without_warnings(name):
    act = get_activation(name)
    z = np.array([-1e300, -800.0, -40.0, 0.0, 40.0, 800.0, 1e300])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in (act.value, act.derivative, act.second_derivative):
            assert np.all(np.isfinite(fn(z)))


def test_fast_tanh_is_accurate():
    z = np.concatenate([np.linspace(-30, 30, 100_001), [-400.0, 400.0]])
    np.testing.assert_allclose(get_activation("tanh").value(z), np.tanh(z), rtol=0, atol=4e-16)


def test_reference_values():
    z = np.array([-1.0, 0.5, 2.0])
    np.testing.assert_allclose(get_activation("sigmoid").value(z), 1 / (1 + np.exp(-z)))
    np.testing.assert_allclose(get_activation("elu").value(z), [np.expm1(-1.0), 0.5, 2.0])
    np.testing.assert_allclose(get_activation("relu").value(z), [0.0, 0.5, 2.0])
    np.testing.assert_allclose(get_activation("gelu").value([1.0]), [0.8413447460685429])


def test_scalar_input():
    assert float(get_activation("tanh").value(0.5)) == pytest.approx(np.tanh(0.5), abs=1e-16)


def test_registry():
    assert ACTIVATION_NAMES == ("tanh", "sigmoid", "gelu", "elu", "relu")
    assert get_activation(" GELU ") is get_activation("gelu")
    act = get_activation("elu")
    assert get_activation(act) is act
    with pytest.raises(RBMInputError, match=r"unknown activation 'swish' \(known: tanh, sigmoid"):
        get_activation("swish")
    with pytest.raises(RBMInputError, match="unknown activation 3"):
        get_activation(3)


def test_smoothness_flags_and_warning():
    assert [get_activation(n).smooth for n in ACTIVATION_NAMES] == [True, True, True, True, False]
    with pytest.warns(UserWarning, match="'relu' is not C\\^1: the training results"):
        warn_if_not_smooth("relu", "training")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_not_smooth("tanh", "training")


def test_bad_out_buffer():
    with pytest.raises(RBMInputError, match=r"out= must be a float64 array of shape \(3,\)"):
        get_activation("tanh").value(np.zeros(3), out=np.zeros(4))
