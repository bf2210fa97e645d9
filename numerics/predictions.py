"""Predictions along the full trajectory: Lambda, the Lyapunov constant C_lead, S_bound.

Every quantity is computed per data point along x(t), the full model's trajectory
from :func:`numerics.engine.integrate_full` on the dt grid (THEORY.md §3 and §5).

Nodes
-----
Each integrator step [t_j, t_{j+1}] has three nodes: its start (t_j, x_j), its
midpoint and its end, evaluated at the left limit of t_{j+1} so that a step never
mixes two pieces of a piecewise-constant field (the convention of
:mod:`numerics.integrators`). The midpoint state is the cubic Hermite interpolant of
the grid trajectory,

    x_{j+1/2} = (x_j + x_{j+1}) / 2 + dt (F(t_j, x_j) - F(t_{j+1}^-, x_{j+1})) / 8,

accurate to O(dt^4), the order of RK4. On these nodes

* Lambda(t) = int_0^t V(s, x(s)) ds (paper eq. 3.2) by Simpson's rule per step,
  dt/6 (V_start + 4 V_mid + V_end): order 4, so the quadrature is never less
  accurate than the integrator (euler, rk2 or rk4) that produced the trajectory;
* the Lyapunov ODE (THEORY.md §5)

      P' = A P + P A^T + tau(t) Sigma(t),   P(0) = 0,

  A(t) = D_x F(t, x(t)) (``field.jacobian``), Sigma(t) = Cov(F^omega(t, x(t)))
  (:mod:`numerics.theory_bridge`), by classical RK4 on the same grid and nodes
  (k2, k3 at the midpoint), vectorised over the data points. With A = 0 this is the
  same rule as Lambda, so trace P(T) = h Lambda(T) exactly for uniform switching.

Then E|x(t) - x_h(t)|^2 = trace P(t) + o(h): C_lead = trace P(T) / h and
C_lead_sup = sup_t trace P(t) / h (for the sup_t E|e|^2 metric).

Switching and tau (:func:`step_tau`)
------------------------------------
tau_j is the expected length of the switching interval that holds integrator step j
(THEORY.md §5): the error is a sum over pairs of steps in the same interval, so
E[e e^T] ~ sum_j dt tau_j Phi_j Sigma_j Phi_j^T with tau_j = dt sum_{j'} P(j, j' in
the same interval) = dt E[L_j], L_j the number of steps of the interval holding j.

* uniform or a given grid: tau_j = the length of the interval holding step j (= h);
* random switching (:class:`numerics.schedules.RandomSwitching`: a batch at step 0,
  then a fresh batch at each step with probability s = dt/h): L_j = B_j + F_j with
  the backward age B_j (steps since the last draw, step j included, capped at j + 1
  by the draw at step 0) and the forward residual F_j (steps after j before the next
  draw, capped at the n - 1 - j steps left before T), independent, with
  P(B_j >= b) = (1-s)^(b-1) for b <= j + 1 and P(F_j >= f) = (1-s)^f for f <= n-1-j:

      E B_j = (1 - (1-s)^(j+1)) / s,   E F_j = (1-s) (1 - (1-s)^(n-1-j)) / s,
      tau_j = dt (E B_j + E F_j) = h [2 - s - (1-s)^(j+1) - (1-s)^(n-j)]

  which tends to 2h - dt away from both ends (THEORY.md §5 states the cap at t for
  the backward age; the forward residual is capped at T as well).

C_lead is reported as trace P(T) / h for every switching rule (h the mean interval
length), so random switching shows the size-biased factor of about 2 - dt/h.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from numerics.engine import integrate_full
from numerics.fieldfile import Problem
from numerics.fields import Field
from numerics.integrators import left_limit
from numerics.schedules import BatchSampler, GridSwitching, RandomSwitching, SwitchRule, scheme_sampler
from numerics.theory_bridge import NumericDesign, lipschitz_pi, numeric_design, s_bound
from rbmtheory.errors import RBMInputError
from rbmtheory.schemes.base import Scheme

FloatArray = NDArray[np.float64]

#: Simpson / RK4 weights of the start, midpoint and end nodes of a step
NODE_WEIGHTS = np.array([1.0, 4.0, 1.0]) / 6.0


@dataclass(frozen=True)
class Nodes:
    """Start, midpoint and end nodes of each of the n steps: ``t (n, 3)``, ``x (n, 3, N, d)``."""

    times: FloatArray
    t: FloatArray
    x: FloatArray

    @property
    def dt(self) -> FloatArray:
        """Step lengths (n,)."""
        return np.diff(self.times)

    @property
    def weights(self) -> FloatArray:
        """Quadrature weights (n, 3): dt_j (1, 4, 1) / 6."""
        return self.dt[:, None] * NODE_WEIGHTS


def trajectory_nodes(problem: Problem, dt: float, method: str) -> Nodes:
    """The full trajectory on the dt grid and its Hermite midpoints (module docstring)."""
    times, X = integrate_full(problem, dt, method)
    field = problem.field
    steps = np.diff(times)
    t_nodes = np.column_stack([times[:-1], times[:-1] + steps / 2, [left_limit(t) for t in times[1:]]])
    start = np.stack([field.evaluate(t, x) for t, x in zip(t_nodes[:, 0], X[:-1])])
    end = np.stack([field.evaluate(t, x) for t, x in zip(t_nodes[:, 2], X[1:])])
    mid = (X[:-1] + X[1:]) / 2 + steps[:, None, None] * (start - end) / 8
    return Nodes(times, t_nodes, np.stack([X[:-1], mid, X[1:]], axis=1))


@dataclass(frozen=True)
class NodeMoments:
    """At every node: V ``(n, 3, N)``, Sigma ``(n, 3, N, d, d)`` and A = D_x F ``(n, 3, N, d, d)``."""

    variance: FloatArray
    covariance: FloatArray
    jacobian: FloatArray


def node_moments(field: Field, design: NumericDesign, nodes: Nodes) -> NodeMoments:
    """V, Sigma (from the bridge) and the Jacobian of the full field at every node."""
    n, _, N, d = nodes.x.shape
    var, cov, jac = np.empty((n, 3, N)), np.empty((n, 3, N, d, d)), np.empty((n, 3, N, d, d))
    for j in range(n):
        for c in range(3):
            t, x = float(nodes.t[j, c]), nodes.x[j, c]
            f = field.contributions(t, x)
            var[j, c], cov[j, c], jac[j, c] = design.variance(f), design.covariance(f), field.jacobian(t, x)
    return NodeMoments(var, cov, jac)


def cumulative_lambda(moments: NodeMoments, nodes: Nodes) -> FloatArray:
    """Lambda(t_j) = int_0^{t_j} V dt by Simpson's rule per step, ``(n+1, N)``."""
    per_step = np.einsum("jc,jcn->jn", nodes.weights, moments.variance)
    return np.concatenate([np.zeros((1, per_step.shape[1])), np.cumsum(per_step, axis=0)])


def _lyapunov_rhs(P: FloatArray, A: FloatArray, source: FloatArray) -> FloatArray:
    """A P + P A^T + source, batched over the leading axis."""
    AP = A @ P
    return AP + np.swapaxes(AP, -1, -2) + source


def lyapunov(moments: NodeMoments, nodes: Nodes, tau: FloatArray) -> tuple[FloatArray, FloatArray]:
    """RK4 on P' = A P + P A^T + tau Sigma, P(0) = 0: (trace P(t_j) ``(n+1, N)``, P(T) ``(N, d, d)``)."""
    n, _, N, d = nodes.x.shape
    P = np.zeros((N, d, d))
    trace = np.zeros((n + 1, N))
    for j, dt in enumerate(nodes.dt):
        A, S = moments.jacobian[j], tau[j] * moments.covariance[j]
        k1 = _lyapunov_rhs(P, A[0], S[0])
        k2 = _lyapunov_rhs(P + dt / 2 * k1, A[1], S[1])
        k3 = _lyapunov_rhs(P + dt / 2 * k2, A[1], S[1])
        k4 = _lyapunov_rhs(P + dt * k3, A[2], S[2])
        P = P + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        trace[j + 1] = np.trace(P, axis1=-2, axis2=-1)
    return trace, P


def step_tau(rule: SwitchRule, dt: FloatArray) -> FloatArray:
    """tau_j, the expected length of the switching interval holding step j (module docstring)."""
    if isinstance(rule, GridSwitching):
        interval = np.cumsum(rule.starts) - 1
        return np.bincount(interval, weights=dt)[interval]
    if isinstance(rule, RandomSwitching):
        n, s = dt.size, rule.s
        j, stay = np.arange(n), 1.0 - rule.s
        backward = (1.0 - stay ** (j + 1)) / s
        forward = stay * (1.0 - stay ** (n - 1 - j)) / s
        return dt * (backward + forward)
    raise TypeError(f"unknown switching rule {rule!r}")


@dataclass(frozen=True)
class LeadingOrder:
    """trace P(t_j) ``(n+1, N)`` for one switching rule with mean interval ``h``.

    Per data point: ``c_lead`` = trace P(T) / h and ``c_lead_sup`` = sup_t trace P(t) / h.
    Means over the data points are taken before the sup, to match the metric
    sup_t (1/N) sum_n E|e_n(t)|^2; the worst is the largest per-point value.
    """

    h: float
    tau: FloatArray
    trace: FloatArray

    @property
    def c_lead(self) -> FloatArray:
        return self.trace[-1] / self.h

    @property
    def c_lead_sup(self) -> FloatArray:
        return self.trace.max(axis=0) / self.h

    @property
    def mean_c_lead(self) -> float:
        return float(self.c_lead.mean())

    @property
    def mean_c_lead_sup(self) -> float:
        return float(self.trace.mean(axis=1).max() / self.h)

    @property
    def worst_c_lead(self) -> float:
        return float(self.c_lead.max())

    @property
    def worst_c_lead_sup(self) -> float:
        return float(self.c_lead_sup.max())


@dataclass(frozen=True)
class TrajectoryPrediction:
    """The h-independent part: nodes, moments, Lambda(t) ``(n+1, N)`` and L_pi."""

    problem: Problem
    design: NumericDesign
    nodes: Nodes
    moments: NodeMoments
    l_pi: float

    @cached_property
    def lambda_t(self) -> FloatArray:
        return cumulative_lambda(self.moments, self.nodes)

    @property
    def lam(self) -> FloatArray:
        """Lambda(T) per data point (N,)."""
        return self.lambda_t[-1]

    def leading_order(self, rule: SwitchRule) -> LeadingOrder:
        """trace P(t) with tau from ``rule`` (uniform, grid or random switching)."""
        tau = step_tau(rule, self.nodes.dt)
        trace, _ = lyapunov(self.moments, self.nodes, tau)
        return LeadingOrder(rule.h, tau, trace)

    def s_bound(self, h: float) -> FloatArray:
        """S_bound = (2 + L_pi) Lambda exp((2 + h) L_pi T) per data point (N,)."""
        return s_bound(self.lam, self.l_pi, self.problem.T, h)

    def monte_carlo_lambda(self, realizations: int, seed: int = 0) -> MonteCarloLambda:
        """Independent Monte Carlo estimate of Lambda(T) (:func:`monte_carlo_lambda`)."""
        sampler = scheme_sampler(self.design.scheme, self.problem.field.p)
        return monte_carlo_lambda(self.problem.field, sampler, self.nodes, realizations, seed)


def predict_trajectory(problem: Problem, scheme: Scheme | str, dt: float, method: str = "rk4") -> TrajectoryPrediction:
    """Everything h-independent along the full trajectory of ``problem``.

    ``scheme`` may have a symbolic p (it is taken at the field's p).
    """
    field = problem.field
    design = numeric_design(scheme, field.p)
    nodes = trajectory_nodes(problem, dt, method)
    moments = node_moments(field, design, nodes)
    return TrajectoryPrediction(problem, design, nodes, moments, lipschitz_pi(design.scheme, field.lipschitz_constants()))


@dataclass(frozen=True)
class MonteCarloLambda:
    """Per-realization estimates Lambda_m of Lambda(T), ``samples (M, N)`` (see :func:`monte_carlo_lambda`).

    One batch per node is shared by all data points, so the SE of the mean over the
    data points is taken from the per-realization data means, not from the per-point SEs.
    """

    samples: FloatArray

    @property
    def mean(self) -> FloatArray:
        return self.samples.mean(axis=0)

    @property
    def se(self) -> FloatArray:
        return self.samples.std(axis=0, ddof=1) / np.sqrt(self.samples.shape[0])

    @property
    def mean_avg(self) -> float:
        return float(self.samples.mean())

    @property
    def se_avg(self) -> float:
        per_realization = self.samples.mean(axis=1)
        return float(per_realization.std(ddof=1) / np.sqrt(per_realization.size))


def monte_carlo_lambda(
    field: Field, sampler: BatchSampler, nodes: Nodes, realizations: int, seed: int = 0
) -> MonteCarloLambda:
    """Lambda(T) by sampling batches, independently of the design matrix.

    Realization m draws an independent batch at every node and forms
    Lambda_m = sum_{nodes} w |F^omega(t, x) - F(t, x)|^2 with the Simpson weights w of
    :func:`cumulative_lambda`; E Lambda_m is that rule applied to V, so the mean over
    m estimates the same Lambda.
    """
    if realizations < 2:
        raise RBMInputError(f"the Monte Carlo estimate of Lambda needs at least 2 realizations, got {realizations}")
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    n, _, N, _ = nodes.x.shape
    total = np.zeros((realizations, N))
    for j in range(n):
        for c in range(3):
            f = field.contributions(float(nodes.t[j, c]), nodes.x[j, c])
            member = sampler.sample(rng, realizations).indicators(field.p)
            sampled = np.einsum("mp,npd->mnd", sampler.mask_weights(member), f)
            total += nodes.weights[j, c] * np.sum((sampled - f.sum(axis=1)) ** 2, axis=-1)
    return MonteCarloLambda(total)
