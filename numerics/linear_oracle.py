"""Exact oracles of the random-batch error for linear and constant fields (THEORY.md section 10).

Linear (affine) neurons f_i(x) = A_i x + c_i, a scheme with finitely many batches
B_j of probabilities q_j (any law that ``enumerate()``s), HT weights 1/pi_i with the
law's exact pi_i converted to float. In augmented coordinates x^ = (x, 1) the batch
field is linear, x^' = A^_j x^ with A^_j = [[A^{B_j}, c^{B_j}], [0, 0]] and
A^{B_j} = sum_{i in B_j} A_i / pi_i, so the first two moments mu = E x^, S = E x^ x^^T
follow exactly:

* uniform or grid switching (intervals tau_k, a fresh batch on each):
  mu_k = E[E] mu_{k-1},  S_k = E[E S_{k-1} E^T],  E = exp(A^_omega tau_k);
* random switching (a fresh batch at each integrator step after the first with
  probability s = dt/h): carry mu_j = E[x^ 1{batch = j}], S_j likewise; at every
  step after the first, mix mu_j <- (1 - s) mu_j + s q_j sum_l mu_l (S_j alike),
  then propagate with P_j = exp(A^_j dt);

and E|x_h(T) - x(T)|^2 = tr S_K - 2 mu_K . x(T) + |x(T)|^2 (on the x block).

``method=None`` uses the exact flows (scipy.linalg.expm), to be compared with a
simulation whose dt is small enough for its integrator error to vanish (RK4: per
step O(dt^5)). ``method="rk4"`` (or any registered method) replaces every flow by the
integrator's own step matrix R(dt A^) (for RK4 the polynomial I + Z + Z^2/2 + Z^3/6 +
Z^4/24, Z = dt A^; :func:`numerics.integrators.step_matrix`) and the reference x(T)
by R(dt A^)^n x^0 -- the engine's full reference -- so oracle and simulation then
agree exactly in expectation, for any dt.

Constant fields f_i = c_i (THEORY.md section 10): the error is a sum of independent
interval errors, E|e(T)|^2 = V sum_k tau_k^2 with V = sum_ik Delta_ik <c_i, c_k>;
on the uniform grid (T/h integer) this is h Lambda(T), Lambda(T) = T V. With random
switching the batch held at steps j and l is the same draw with probability
(1 - s)^|j - l| and independent draws are uncorrelated, so
E|e(T)|^2 = V dt^2 [n + 2 sum_{m=1}^{n-1} (n - m) (1 - s)^m]  (exact, n = T/dt).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg import expm

from numerics.fields import ConstantField, LinearField
from numerics.integrators import get_method, step_matrix
from numerics.schedules import GridSwitching, switching_rules
from rbmtheory.errors import RBMInputError
from rbmtheory.schemes.base import Scheme
from rbmtheory.variance import design_matrix

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class OracleResult:
    """E|x_h(T) - x(T)|^2 per data point ``mse (N,)``, its mean ``mse_avg``, E x_h(T) and x(T)."""

    mse: FloatArray
    mse_avg: float
    mean: FloatArray  # (N, d)
    reference: FloatArray  # (N, d)


def _check_scheme(scheme: Scheme, p: int) -> None:
    if not scheme.concrete or int(scheme.p) != p:
        raise RBMInputError(f"scheme {scheme.spec()} has p = {scheme.p} neurons but the field has p = {p}")


def augmented_batch_matrices(field: LinearField, scheme: Scheme) -> tuple[FloatArray, FloatArray]:
    """Augmented batch matrices A^_j ``(J, d+1, d+1)`` and probabilities q_j ``(J,)``."""
    if not isinstance(field, LinearField):
        raise RBMInputError(f"the linear oracle needs a LinearField, got {type(field).__name__}")
    _check_scheme(scheme, field.p)
    law = scheme.law()
    inv_pi = 1.0 / np.array([float(v) for v in law.inclusion_vector()])
    support = list(law.enumerate())
    weights = np.zeros((len(support), field.p))
    for j, (batch, _) in enumerate(support):
        members = sorted(batch)
        weights[j, members] = inv_pi[members]
    d = field.d
    gen = np.zeros((len(support), d + 1, d + 1))
    gen[:, :d, :d] = np.tensordot(weights, field.A, axes=1)
    gen[:, :d, d] = weights @ field.c
    return gen, np.array([float(q) for _, q in support])


def _augmented(field: LinearField) -> FloatArray:
    gen = np.zeros((field.d + 1, field.d + 1))
    gen[: field.d, : field.d], gen[: field.d, field.d] = field.A_total(), field.c_total()
    return gen


def _flow(gen: FloatArray, tau: float, dt: float, method: str | None) -> FloatArray:
    """exp(gen tau), or the integrator's step matrix to the power tau/dt; stacked over a leading axis."""
    if method is None:
        return np.stack([expm(g * tau) for g in gen.reshape(-1, *gen.shape[-2:])]).reshape(gen.shape)
    steps = int(round(tau / dt))
    one = np.stack([step_matrix(method, g, dt) for g in gen.reshape(-1, *gen.shape[-2:])])
    return np.linalg.matrix_power(one, steps).reshape(gen.shape)


def _lift(x0: ArrayLike, d: int) -> FloatArray:
    x0 = np.asarray(x0, dtype=np.float64)
    if x0.ndim != 2 or x0.shape[1] != d:
        raise RBMInputError(f"x0 has shape {x0.shape}; expected (N, {d})")
    return np.concatenate([x0, np.ones((x0.shape[0], 1))], axis=1)


def _result(mu: FloatArray, S: FloatArray, ref: FloatArray, d: int) -> OracleResult:
    x_ref = ref[:, :d]
    mean = mu[:, :d]
    second = np.trace(S[:, :d, :d], axis1=1, axis2=2)
    mse = second - 2.0 * np.einsum("nd,nd->n", mean, x_ref) + np.einsum("nd,nd->n", x_ref, x_ref)
    return OracleResult(mse=mse, mse_avg=float(mse.mean()), mean=mean, reference=x_ref)


def _grid_moments(
    gen: FloatArray, q: FloatArray, x: FloatArray, rule: GridSwitching, dt: float, method: str | None
) -> tuple[FloatArray, FloatArray]:
    """Interval recursion mu_k = E[E] mu_{k-1}, S_k = E[E S E^T] on the rule's intervals."""
    mu, S = x.copy(), np.einsum("na,nb->nab", x, x)
    flows: dict[int, FloatArray] = {}
    for m in rule.interval_steps():
        if m not in flows:
            flows[m] = _flow(gen, m * dt, dt, method)
        E = flows[m]
        mu = np.einsum("j,jab,nb->na", q, E, mu)
        S = np.einsum("j,jab,nbc,jdc->nad", q, E, S, E, optimize=True)
    return mu, S


def _random_moments(
    gen: FloatArray, q: FloatArray, x: FloatArray, s: float, n: int, dt: float, method: str | None
) -> tuple[FloatArray, FloatArray]:
    """Joint moments with the current batch, mixed with probability s at steps 1..n-1."""
    P = _flow(gen, dt, dt, method)
    mu = q[:, None, None] * x[None]
    S = q[:, None, None, None] * np.einsum("na,nb->nab", x, x)[None]
    for j in range(n):
        if j > 0:
            mu = (1.0 - s) * mu + s * q[:, None, None] * mu.sum(axis=0)
            S = (1.0 - s) * S + s * q[:, None, None, None] * S.sum(axis=0)
        mu = np.einsum("jab,jnb->jna", P, mu)
        S = np.einsum("jab,jnbc,jdc->jnad", P, S, P, optimize=True)
    return mu.sum(axis=0), S.sum(axis=0)


def linear_oracle(
    field: LinearField,
    scheme: Scheme,
    x0: ArrayLike,
    T: float,
    h: float | None,
    *,
    switching: str | ArrayLike = "uniform",
    dt: float | None = None,
    method: str | None = None,
) -> OracleResult:
    """Exact E|x_h(T) - x(T)|^2 per data point for a linear field (module docstring).

    ``switching``, ``h`` and ``dt`` as in :func:`numerics.engine.run_error_sweep`
    (``h=None`` with an explicit grid; dt defaults to h/4 and matters for random
    switching, s = dt/h, and with ``method``). ``method=None``: exact flows;
    ``method="rk4"`` etc.: the integrator's step matrices (exact for the engine).
    """
    if method is not None:
        get_method(method)
    gen, q = augmented_batch_matrices(field, scheme)
    (rule,), dt = switching_rules(None if h is None else [h], switching, T, dt)
    x = _lift(x0, field.d)
    if isinstance(rule, GridSwitching):
        mu, S = _grid_moments(gen, q, x, rule, dt, method)
    else:
        mu, S = _random_moments(gen, q, x, rule.s, int(round(T / dt)), dt, method)
    full = _flow(_augmented(field), T, dt, method)
    return _result(mu, S, x @ full.T, field.d)


# ------------------------------------------------------------------- constant fields


def constant_field_variance(field: ConstantField, scheme: Scheme) -> float:
    """V = sum_ik Delta_ik <c_i, c_k> = E|F^omega - F|^2 (THEORY.md section 3), Delta exact."""
    if not isinstance(field, ConstantField) or field.time_dependent:
        raise RBMInputError("the constant-field oracle needs a time-independent ConstantField")
    _check_scheme(scheme, field.p)
    # exact Delta rounded here, not through numerics.theory_bridge: the oracle stays independent
    delta = np.array(design_matrix(scheme).tolist(), dtype=np.float64)
    c = field.values(0.0)
    return float(np.einsum("ik,id,kd->", delta, c, c))


def constant_field_mse(
    field: ConstantField,
    scheme: Scheme,
    T: float,
    h: float | None,
    *,
    switching: str | ArrayLike = "uniform",
    dt: float | None = None,
) -> float:
    """Exact E|e(T)|^2 for a constant field: V sum_k tau_k^2 (uniform: h Lambda(T)), or the
    random-switching sum of the module docstring. The same for every data point."""
    V = constant_field_variance(field, scheme)
    (rule,), dt = switching_rules(None if h is None else [h], switching, T, dt)
    if isinstance(rule, GridSwitching):
        return V * float(np.sum((rule.interval_steps() * dt) ** 2))
    n = int(round(T / dt))
    lags = np.arange(1, n)
    return V * dt**2 * float(n + 2.0 * np.sum((n - lags) * (1.0 - rule.s) ** lags))
