"""Activations: derivatives vs finite differences, sup constants, buffers, registry.

tanh and GELU have two implementations: the JIT kernels of ``numerics._fastmath``
(used by the registry when llvmlite is installed) and the numpy/scipy reference
(``Tanh(fast=False)``, ``GELU(fast=False)``); the generic tests run on both, the
accuracy tests compare them with each other and with mpmath.
"""
import math
import threading
import warnings

import mpmath
import numpy as np
import pytest

from numerics import _fastmath, activations
from numerics.activations import ACTIVATION_NAMES, GELU, Tanh, fast_kernels, get_activation, warn_if_not_smooth
from rbmtheory.errors import RBMInputError

FAST = fast_kernels() is not None
needs_fast = pytest.mark.skipif(not FAST, reason="llvmlite not installed or RBMTHEORY_FASTMATH=0")
TINY = np.finfo(np.float64).tiny

# every registered activation (tanh, GELU: fast path if available) plus the numpy references
VARIANTS = [pytest.param(get_activation(n), id=n) for n in ACTIVATION_NAMES] + [
    pytest.param(Tanh(fast=False), id="tanh-numpy"),
    pytest.param(GELU(fast=False), id="gelu-numpy"),
]

# points away from the kinks of ReLU (sigma') and ELU (sigma'') at 0
Z = np.concatenate([np.linspace(-6.0, -0.05, 60), np.linspace(0.05, 6.0, 60)])
H = 1e-5


def central(fn, z, h=H):
    return (fn(z + h) - fn(z - h)) / (2.0 * h)


@pytest.mark.parametrize("act", VARIANTS)
def test_first_derivative_matches_finite_differences(act):
    np.testing.assert_allclose(act.derivative(Z), central(act.value, Z), atol=1e-9)


@pytest.mark.parametrize("act", VARIANTS)
def test_second_derivative_matches_finite_differences(act):
    np.testing.assert_allclose(act.second_derivative(Z), central(act.derivative, Z), atol=1e-9)


@pytest.mark.parametrize("act", VARIANTS)
def test_sup_constants_are_attained_suprema(act):
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


@pytest.mark.parametrize("act", VARIANTS)
@pytest.mark.parametrize("method", ["value", "derivative", "second_derivative"])
def test_out_buffer_and_in_place(act, method):
    fn = getattr(act, method)
    expected = fn(Z)
    buf = np.empty_like(Z)
    assert fn(Z, out=buf) is buf
    np.testing.assert_array_equal(buf, expected)
    z = Z.copy()
    fn(z, out=z)
    np.testing.assert_array_equal(z, expected)


@pytest.mark.parametrize("act", VARIANTS)
def test_extreme_inputs_stay_finite_without_warnings(act):
    z = np.array([-1e300, -800.0, -40.0, 0.0, 40.0, 800.0, 1e300])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in (act.value, act.derivative, act.second_derivative):
            assert np.all(np.isfinite(fn(z)))


@pytest.mark.parametrize("act", [get_activation("tanh"), Tanh(fast=False)], ids=["registry", "numpy"])
def test_fast_tanh_is_accurate(act):
    z = np.concatenate([np.linspace(-30, 30, 100_001), [-400.0, 400.0, -1e300, 1e300]])
    np.testing.assert_allclose(act.value(z), np.tanh(z), rtol=0, atol=4e-16)


def test_reference_values():
    z = np.array([-1.0, 0.5, 2.0])
    np.testing.assert_allclose(get_activation("sigmoid").value(z), 1 / (1 + np.exp(-z)))
    np.testing.assert_allclose(get_activation("elu").value(z), [np.expm1(-1.0), 0.5, 2.0])
    np.testing.assert_allclose(get_activation("relu").value(z), [0.0, 0.5, 2.0])
    np.testing.assert_allclose(get_activation("gelu").value([1.0]), [0.8413447460685429])


def test_scalar_input():
    assert float(get_activation("tanh").value(0.5)) == pytest.approx(np.tanh(0.5), abs=1e-16)


@pytest.mark.parametrize("act", VARIANTS)
@pytest.mark.parametrize("method", ["value", "derivative", "second_derivative"])
def test_zero_dimensional_input(act, method):
    fn = getattr(act, method)
    assert fn(-0.3).shape == ()
    assert float(fn(-0.3)) == pytest.approx(float(fn(np.array([-0.3]))[0]), abs=1e-16)


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


# ---------------------------------------------------------------------------
# fast path (numerics._fastmath) against the numpy/scipy reference and mpmath

GELU_PRIME_ROOT = -0.7517915241  # GELU' = 0 here: no relative accuracy nearby, in any implementation


def _dense_z():
    rng = np.random.default_rng(20240607)
    return np.concatenate([
        np.linspace(-40.0, 40.0, 800_001),
        rng.uniform(-40.0, 40.0, 200_000),
        rng.normal(0.0, 3.0, 200_000),
        [0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, 1e-8, -1e-8],
    ])


def _mpmath_truth(z):
    """GELU, GELU', GELU'' at the float64 points z, rounded from 30-digit mpmath."""
    out = np.empty((3, z.size))
    with mpmath.workdps(30):
        for j, x in enumerate(z):
            x = mpmath.mpf(float(x))
            cdf, pdf = mpmath.ncdf(x), mpmath.npdf(x)
            out[:, j] = float(x * cdf), float(cdf + x * pdf), float(pdf * (2 - x * x))
    return out


@pytest.fixture(scope="module")
def truth_points():
    rng = np.random.default_rng(11)
    z = np.concatenate([
        np.linspace(-40.0, 40.0, 1601),
        rng.uniform(-40.0, -20.0, 300),  # the left tail, where scipy's ndtr is least accurate
        rng.uniform(-38.5, -37.0, 100),  # GELU(z) crosses into the subnormal range near -37.6
        rng.normal(0.0, 2.0, 300),
        [0.0, 1e-10, -1e-10, math.sqrt(2.0), -math.sqrt(2.0), GELU_PRIME_ROOT],
    ])
    return z, _mpmath_truth(z)


@needs_fast
def test_fast_path_is_the_default():
    assert get_activation("gelu").fast and get_activation("tanh").fast
    assert not GELU(fast=False).fast and not Tanh(fast=False).fast
    assert GELU(fast=True).fast


@needs_fast
def test_fast_gelu_matches_scipy_on_a_dense_grid():
    """|fast - scipy| <= 1e-14, and <= 1e-13 relative where scipy is accurate to that (z >= -20)."""
    z = _dense_z()
    fast, ref = GELU(), GELU(fast=False)
    for method in ("value", "derivative", "second_derivative"):
        a, b = getattr(fast, method)(z), getattr(ref, method)(z)
        assert np.abs(a - b).max() <= 1e-14, method
        rel_ok = (np.abs(b) > TINY) & (z >= -20.0)
        if method == "derivative":
            rel_ok &= np.abs(z - GELU_PRIME_ROOT) > 0.05
        if method != "second_derivative":  # numpy's exp(-z^2/2) loses ~z^2 eps: compared with mpmath below
            rel = np.abs(a - b)[rel_ok] / np.abs(b[rel_ok])
            assert rel.max() <= 1e-13, method


@needs_fast
def test_fast_gelu_is_accurate_against_mpmath(truth_points):
    """Relative error <= 2e-15 (spec: 1e-13) wherever the result is a normal float, on all of [-40, 40]."""
    z, (value, d1, d2) = truth_points
    act = GELU()
    v = act.value(z)
    normal = np.abs(value) > TINY
    assert np.max(np.abs(v - value)[normal] / np.abs(value[normal])) <= 2e-15
    assert np.max(np.abs(v - value)[~normal]) <= 1e-323  # subnormal results: two ulps at most
    assert np.abs(v - value).max() <= 1e-14
    # derivatives: relative to the size of their terms (both have a root)
    phi = np.exp(-0.5 * np.minimum(z * z, 1600.0)) / math.sqrt(2.0 * math.pi)
    cdf = 0.5 * np.vectorize(math.erfc)(-z / math.sqrt(2.0))
    assert np.max(np.abs(act.derivative(z) - d1) / (cdf + np.abs(z) * phi + TINY)) <= 2e-15
    assert np.max(np.abs(act.second_derivative(z) - d2) / (phi * (2.0 + z * z) + TINY)) <= 2e-15
    assert np.abs(act.derivative(z) - d1).max() <= 1e-14
    assert np.abs(act.second_derivative(z) - d2).max() <= 1e-14


def test_reference_gelu_against_mpmath(truth_points):
    """The scipy path: 1e-14 absolute; relative 1e-13 for z >= -20, but ~2.4e-13 in the far tail."""
    z, (value, _, _) = truth_points
    v = GELU(fast=False).value(z)
    assert np.abs(v - value).max() <= 1e-14
    ok = (np.abs(value) > TINY) & (z >= -20.0)
    assert np.max(np.abs(v - value)[ok] / np.abs(value[ok])) <= 1e-13
    tail = (np.abs(value) > TINY) & (z < -20.0)
    assert np.max(np.abs(v - value)[tail] / np.abs(value[tail])) <= 5e-13


@needs_fast
def test_fast_tanh_derivatives_match_reference():
    z = np.concatenate([np.linspace(-25.0, 25.0, 200_001), [-1e300, 1e300]])
    fast, ref = Tanh(), Tanh(fast=False)
    # both have |tanh error| <= 4e-16, which 2 th (th^2 - 1) amplifies up to 4x
    for method, atol in (("value", 5e-16), ("derivative", 1e-15), ("second_derivative", 4e-15)):
        np.testing.assert_allclose(getattr(fast, method)(z), getattr(ref, method)(z), rtol=0, atol=atol)


@needs_fast
@pytest.mark.parametrize("cls", [GELU, Tanh])
def test_fast_path_array_layouts(cls):
    """Strided, Fortran-ordered, aliased, 0-d, empty and read-only arrays: same values as the reference."""
    fast, ref = cls(), cls(fast=False)
    base = np.random.default_rng(3).normal(0.0, 4.0, (6, 10))
    for method in ("value", "derivative", "second_derivative"):
        f, r = getattr(fast, method), getattr(ref, method)
        for z in (base, base[:, ::3], base.T, np.asfortranarray(base), base[2, 3], np.empty((0, 4))):
            expected = r(z)
            np.testing.assert_allclose(f(z), expected, rtol=1e-14, atol=1e-15)
            out = np.asfortranarray(np.empty_like(expected)) if np.ndim(z) == 2 else np.empty_like(expected)
            assert f(z, out=out) is out
            np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-15)
        readonly = base.copy()
        readonly.flags.writeable = False
        np.testing.assert_allclose(f(readonly), r(base), rtol=1e-14, atol=1e-15)
        alias = base.copy()
        f(alias.view(), out=alias)  # out shares z's memory through another array object
        np.testing.assert_allclose(alias, r(base), rtol=1e-14, atol=1e-15)
        assert np.array_equal(f([0.5, -1.0]), f(np.array([0.5, -1.0])))


@pytest.mark.parametrize("act", VARIANTS[2:3] + VARIANTS[0:1] + VARIANTS[-2:], ids=["gelu", "tanh", "tanh-numpy", "gelu-numpy"])
def test_nan_propagates_and_infinite_limits(act):
    z = np.array([np.nan, np.inf, -np.inf])
    with np.errstate(invalid="ignore"):
        for fn in (act.value, act.derivative, act.second_derivative):
            assert np.isnan(fn(z)[0])
        v = act.value(z)
    if act.name == "tanh":
        assert v[1] == 1.0 and v[2] == -1.0
    else:
        assert v[1] == np.inf  # GELU(-inf) = -inf * 0 is NaN in both implementations


@needs_fast
def test_kernels_run_concurrently_in_threads():
    """The engine calls the kernels from worker threads (ctypes releases the GIL)."""
    rng = np.random.default_rng(5)
    inputs = [rng.normal(0.0, 3.0, 50_000) for _ in range(4)]
    expected = [GELU(fast=False).value(z) for z in inputs]
    results = [None] * len(inputs)
    act = get_activation("gelu")

    def work(j):
        for _ in range(5):
            results[j] = act.value(inputs[j])

    threads = [threading.Thread(target=work, args=(j,)) for j in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r, e in zip(results, expected):
        np.testing.assert_allclose(r, e, rtol=1e-13, atol=1e-15)


@needs_fast
def test_kernels_reject_unsuitable_arrays():
    with pytest.raises(ValueError, match="not C contiguous"):
        _fastmath.gelu_value(np.zeros(8)[::2])
    with pytest.raises(ValueError, match="float64"):
        _fastmath.gelu_value(np.zeros(8, dtype=np.float32))
    readonly = np.zeros(4)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="not writable"):
        _fastmath.tanh_value(readonly)
    _fastmath.gelu_value(np.zeros(0))  # empty: nothing to do


def test_numpy_fallback_when_llvmlite_is_missing(monkeypatch):
    monkeypatch.setattr(activations, "_fast_state", None)  # as if llvmlite were not importable
    z = np.linspace(-8.0, 8.0, 1001)
    for name, cls in (("gelu", GELU), ("tanh", Tanh)):
        act = get_activation(name)
        assert not act.fast
        for method in ("value", "derivative", "second_derivative"):
            assert np.array_equal(getattr(act, method)(z), getattr(cls(fast=False), method)(z))
        with pytest.raises(RBMInputError, match=r"fast=True\) needs llvmlite"):
            cls(fast=True)


def test_environment_variable_disables_the_fast_path(monkeypatch):
    monkeypatch.setenv(activations.FASTMATH_ENV, "0")
    monkeypatch.setattr(activations, "_fast_state", False)  # not looked up yet
    assert fast_kernels() is None
    assert not get_activation("gelu").fast


def test_kernels_need_llvmlite(monkeypatch):
    monkeypatch.setattr(_fastmath, "AVAILABLE", False)
    with pytest.raises(ImportError, match="needs llvmlite"):
        _fastmath.gelu_value(np.zeros(3))
