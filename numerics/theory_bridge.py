"""The one place where the symbolic results of :mod:`rbmtheory` become numbers.

Nothing here re-derives a formula: every number comes from the sympy layer, either
through :func:`sympy.lambdify` (expressions with free symbols) or by rounding an
exact rational to float64 (constant matrices such as Delta).

* :class:`NumericDesign` — the variance structure of a concrete scheme (THEORY.md §3):

      Cov(F^omega) = sum_{i,k} Delta_ik f_i f_k^T,    V = E|F^omega - F|^2 = trace Cov,

  with Delta_ik = pi_ik / (pi_i pi_k) - 1 from :func:`rbmtheory.variance.design_matrix`.
  For an exchangeable scheme the p x p matrix is never formed: the lambdified
  :func:`rbmtheory.variance.pointwise_variance` V = c_s s^2 + c_m |m|^2 is evaluated
  on (s^2, |m|^2) for V and, because it is linear in both, on the matrices
  (S, m m^T) for Cov, with S = (1/p) sum_i (f_i - m)(f_i - m)^T. The matrix form is
  the same reduction as the scalar one (Delta_ii = a, Delta_ik = b, THEORY.md §3) with
  outer products in place of inner products: Cov = c_s S + c_m m m^T.
* :func:`lipschitz_pi` — L_pi = max_B sum_{i in B} L_i / pi_i (THEORY.md §4) for float
  L_i, exact via :func:`rbmtheory.levers.lipschitz_pi`.
* :func:`s_bound` — S_bound = (2 + L_pi) Lambda exp((2 + h) L_pi T) (THEORY.md §5),
  lambdified from :data:`rbmtheory.constants.S_BOUND`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike, NDArray

from rbmtheory import levers
from rbmtheory.constants import H, L_PI, LAMBDA, S_BOUND, T
from rbmtheory.errors import RBMInputError
from rbmtheory.schemes.base import P, Scheme
from rbmtheory.schemes.registry import scheme_from_spec
from rbmtheory.variance import M2, S2, design_matrix, pointwise_variance

FloatArray = NDArray[np.float64]

#: S_bound(Lambda, L_pi, T, h), broadcasting over numpy arrays
_S_BOUND: Callable[..., Any] = sp.lambdify((LAMBDA, L_PI, T, H), S_BOUND, "numpy")


def concrete_scheme(scheme: Scheme | str, p: int) -> Scheme:
    """``scheme`` (an object or a spec string) with p = ``p`` neurons.

    A symbolic-p scheme is instantiated at ``p``; a concrete one must already have it.
    """
    if isinstance(scheme, str):
        return scheme_from_spec(scheme, p=p)
    if not scheme.concrete:
        return scheme.at(p)
    if int(scheme.p) != p:
        raise RBMInputError(f"scheme {scheme.spec()} has p = {scheme.p} but the field has p = {p} neurons")
    return scheme


def _numeric_symbols(expr: sp.Expr, allowed: set[sp.Symbol], scheme: Scheme) -> None:
    """Refuse symbolic scheme parameters (e.g. q) that have no numeric value."""
    extra = expr.free_symbols - allowed
    if extra:
        names = ", ".join(sorted(str(s) for s in extra))
        raise RBMInputError(f"scheme {scheme.spec()} has symbolic parameters ({names}); give numbers")


@dataclass(frozen=True)
class NumericDesign:
    """The variance structure of a concrete scheme with ``p`` neurons (THEORY.md §3).

    Exactly one of ``pointwise`` (exchangeable: the lambdified c_s s2 + c_m m2) and
    ``delta`` (otherwise: the float p x p design matrix) is set.
    """

    scheme: Scheme
    p: int
    pointwise: Callable[[Any, Any], Any] | None
    delta: FloatArray | None

    @property
    def exchangeable(self) -> bool:
        return self.pointwise is not None

    def _check(self, contributions: ArrayLike) -> FloatArray:
        f = np.asarray(contributions, dtype=np.float64)
        if f.ndim < 2 or f.shape[-2] != self.p:
            raise RBMInputError(
                f"contributions have shape {f.shape}; the scheme {self.scheme.spec()} needs (..., p={self.p}, d)"
            )
        return f

    def _apply(self, spread: FloatArray, mean: FloatArray) -> FloatArray:
        """c_s * spread + c_m * mean, shaped like ``spread`` (a zero form gives zeros)."""
        return np.zeros_like(spread) + self.pointwise(spread, mean)

    def variance(self, contributions: ArrayLike) -> FloatArray:
        """V = sum_ik Delta_ik <f_i, f_k> for ``contributions (..., p, d)`` -> ``(...)``."""
        f = self._check(contributions)
        if self.delta is not None:
            return np.sum(f * (self.delta @ f), axis=(-2, -1))
        m = f.mean(axis=-2)
        centred = f - m[..., None, :]
        s2 = np.sum(centred**2, axis=(-2, -1)) / self.p
        return self._apply(s2, np.sum(m**2, axis=-1))

    def covariance(self, contributions: ArrayLike) -> FloatArray:
        """Cov(F^omega) = sum_ik Delta_ik f_i f_k^T for ``contributions (..., p, d)`` -> ``(..., d, d)``."""
        f = self._check(contributions)
        if self.delta is not None:
            return np.swapaxes(f, -1, -2) @ (self.delta @ f)
        m = f.mean(axis=-2)
        centred = f - m[..., None, :]
        spread = np.swapaxes(centred, -1, -2) @ centred / self.p
        return self._apply(spread, m[..., :, None] * m[..., None, :])


def numeric_design(scheme: Scheme | str, p: int | None = None) -> NumericDesign:
    """The :class:`NumericDesign` of ``scheme`` with ``p`` neurons (default: the scheme's p).

    An exchangeable scheme with a symbolic p keeps p symbolic in the lambdified
    expression (no p x p object is built, so large p is cheap). At p = 1 there is no
    pair i != k and the 1 x 1 Delta is used directly.

    >>> d = numeric_design("pick-one", p=2)
    >>> float(d.variance([[1.0, 0.0], [0.0, 1.0]]))
    2.0
    """
    if p is None:
        if isinstance(scheme, str) or not scheme.concrete:
            raise RBMInputError("numeric_design needs p for a scheme with a symbolic number of neurons")
        p = int(scheme.p)
    if isinstance(scheme, str):
        scheme = scheme_from_spec(scheme)
    if scheme.exchangeable and p >= 2 and not scheme.concrete:
        expr = pointwise_variance(scheme)
        _numeric_symbols(expr, {S2, M2, P}, scheme)
        with_p = sp.lambdify((S2, M2, P), expr, "numpy")
        return NumericDesign(scheme.at(p), p, lambda s2, m2: with_p(s2, m2, p), None)
    scheme = concrete_scheme(scheme, p)
    if scheme.exchangeable and p >= 2:
        expr = pointwise_variance(scheme)
        _numeric_symbols(expr, {S2, M2}, scheme)
        return NumericDesign(scheme, p, sp.lambdify((S2, M2), expr, "numpy"), None)
    delta = design_matrix(scheme)
    _numeric_symbols(delta, set(), scheme)
    return NumericDesign(scheme, p, None, np.array(delta.tolist(), dtype=np.float64))


def _design(scheme: Scheme | NumericDesign, contributions: ArrayLike) -> NumericDesign:
    if isinstance(scheme, NumericDesign):
        return scheme
    return numeric_design(scheme, np.shape(contributions)[-2])


def variance(scheme: Scheme | NumericDesign, contributions: ArrayLike) -> FloatArray:
    """V = E|F^omega - F|^2 at the states whose neuron contributions are ``(..., p, d)``.

    Build the design once with :func:`numeric_design` and pass it when calling in a loop.
    """
    return _design(scheme, contributions).variance(contributions)


def covariance(scheme: Scheme | NumericDesign, contributions: ArrayLike) -> FloatArray:
    """Cov(F^omega) ``(..., d, d)`` for contributions ``(..., p, d)`` (trace = :func:`variance`)."""
    return _design(scheme, contributions).covariance(contributions)


def _common_integers(values: FloatArray) -> tuple[list[int], int]:
    """Exact integers M_i and D with values_i = M_i / D (float64 values are dyadic)."""
    fractions = [Fraction(float(v)) for v in values]
    denominator = max(f.denominator for f in fractions)
    return [int(f * denominator) for f in fractions], denominator


def lipschitz_pi(scheme: Scheme | str, lipschitz: ArrayLike) -> float:
    """L_pi = max_B sum_{i in B} L_i / pi_i for the neuron-wise constants ``lipschitz`` (THEORY.md §4).

    The floats are converted exactly: L_i = M_i / D with integers M_i and a common
    power of two D; L_pi is homogeneous of degree one in L, so the exact
    :func:`rbmtheory.levers.lipschitz_pi` of the integers M_i divided by D is the exact
    value (integers keep the exact layer fast at p = 256).

    >>> lipschitz_pi("all-subsets", [0.5, 0.25, 0.25])
    2.0
    """
    values = np.asarray(lipschitz, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise RBMInputError(f"Lipschitz constants must be finite and non-negative, got {values}")
    scheme = concrete_scheme(scheme, values.size)
    integers, denominator = _common_integers(values)
    exact = levers.lipschitz_pi(scheme, [sp.Integer(m) for m in integers])
    return float(sp.Rational(exact) / denominator)


def s_bound(lam: ArrayLike, l_pi: ArrayLike, horizon: ArrayLike, h: ArrayLike) -> FloatArray:
    """S_bound = (2 + L_pi) Lambda exp((2 + h) L_pi T) (THEORY.md §5), broadcasting.

    >>> float(s_bound(1.0, 0.0, 1.0, 0.1))
    2.0
    """
    with np.errstate(over="ignore"):
        return np.asarray(_S_BOUND(np.asarray(lam, float), np.asarray(l_pi, float), horizon, h), dtype=np.float64)
