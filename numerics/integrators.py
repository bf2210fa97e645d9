"""Fixed-grid explicit Runge-Kutta integrators behind one small contract.

Modelled on :class:`scipy.integrate.OdeSolver`: a method is a subclass of
:class:`FixedStepMethod` that declares ``name``, ``order`` and ``n_buffers`` and
implements :meth:`FixedStepMethod.step`; the :func:`register` decorator adds it to
:data:`METHODS`, so adding a method touches one place.

Contract
--------
* ``rhs(t, x, out)`` writes F(t, x) into the preallocated ``out`` (same shape as
  ``x``, any leading shape) and must not keep references to ``x`` or ``out``.
* A method instance owns ``n_buffers`` work arrays of the state shape, allocated
  once (fresh mid-sized temporaries cost page faults); ``step(rhs, t0, t1, x)``
  advances ``x`` from t0 to t1 *in place* and allocates nothing of the state size.
* Stages at the right end of a step are evaluated at the left limit
  ``np.nextafter(t1, -inf)`` (:func:`left_limit`), and steps never straddle a time
  breakpoint of the field (:func:`time_grid` puts every breakpoint on the grid), so
  every stage of a step sees the parameters of the piece the step lies in
  (:mod:`numerics.fields.base`, "Time breakpoints").

Methods: ``euler`` (order 1), ``rk2`` (explicit midpoint, order 2), ``rk4`` (classical,
order 4). On a linear field x' = A x one step is the polynomial R(dt A) of the
method (1 + z, 1 + z + z^2/2, 1 + z + ... + z^4/24); :func:`step_matrix` obtains it
by stepping the identity, for any registered method.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from numerics.fields._validate import positive_time
from rbmtheory.errors import RBMInputError

FloatArray = NDArray[np.float64]
RHS = Callable[[float, FloatArray, FloatArray], object]

#: relative tolerance for "the breakpoint lies on the grid"
GRID_RTOL = 1e-9


def left_limit(t: float) -> float:
    """The largest float below t: where right-end stages are evaluated."""
    return float(np.nextafter(t, -np.inf))


class FixedStepMethod(ABC):
    """One explicit step x(t0) -> x(t1) with preallocated buffers of ``shape``."""

    name: ClassVar[str]
    order: ClassVar[int]
    n_buffers: ClassVar[int]

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.buffers = [np.empty(shape) for _ in range(self.n_buffers)]

    @abstractmethod
    def step(self, rhs: RHS, t0: float, t1: float, x: FloatArray) -> None:
        """Advance ``x`` from t0 to t1 in place."""


METHODS: dict[str, type[FixedStepMethod]] = {}


def register(cls: type[FixedStepMethod]) -> type[FixedStepMethod]:
    """Class decorator: make ``cls`` available under ``cls.name``."""
    METHODS[cls.name] = cls
    return cls


def get_method(name: str) -> type[FixedStepMethod]:
    """The registered method class ``name``."""
    if name not in METHODS:
        raise RBMInputError(f"unknown integrator {name!r} (known: {', '.join(METHODS)})")
    return METHODS[name]


@register
class Euler(FixedStepMethod):
    """x1 = x0 + dt F(t0, x0)."""

    name, order, n_buffers = "euler", 1, 1

    def step(self, rhs: RHS, t0: float, t1: float, x: FloatArray) -> None:
        (k,) = self.buffers
        rhs(t0, x, k)
        k *= t1 - t0
        x += k


@register
class Midpoint(FixedStepMethod):
    """Explicit midpoint: x1 = x0 + dt F(t0 + dt/2, x0 + dt/2 F(t0, x0))."""

    name, order, n_buffers = "rk2", 2, 2

    def step(self, rhs: RHS, t0: float, t1: float, x: FloatArray) -> None:
        k, xs = self.buffers
        dt = t1 - t0
        rhs(t0, x, k)
        np.multiply(k, 0.5 * dt, out=xs)
        xs += x
        rhs(t0 + 0.5 * dt, xs, k)
        k *= dt
        x += k


@register
class RK4(FixedStepMethod):
    """Classical RK4: x1 = x0 + dt/6 (k1 + 2 k2 + 2 k3 + k4), k4 at the left limit of t1."""

    name, order, n_buffers = "rk4", 4, 3

    def step(self, rhs: RHS, t0: float, t1: float, x: FloatArray) -> None:
        k, xs, acc = self.buffers
        dt = t1 - t0
        tm = t0 + 0.5 * dt
        rhs(t0, x, k)
        np.copyto(acc, k)
        for c, t, w in ((0.5 * dt, tm, 2.0), (0.5 * dt, tm, 2.0), (dt, left_limit(t1), 1.0)):
            np.multiply(k, c, out=xs)  # xs = x + c k_previous
            xs += x
            rhs(t, xs, k)
            if w != 1.0:  # xs is free again: acc += w k, keeping k for the next stage
                np.multiply(k, w, out=xs)
                acc += xs
            else:
                acc += k
        acc *= dt / 6.0
        x += acc


def steps_of(value: float, dt: float, what: str, unit: str = "dt") -> int:
    """value / dt as an integer >= 1 (relative tolerance :data:`GRID_RTOL`), else a clear error.

    >>> steps_of(0.03, 0.02, "h")
    Traceback (most recent call last):
    ...
    rbmtheory.errors.RBMInputError: h = 0.03 is not a multiple of dt = 0.02
    """
    ratio = value / dt
    k = round(ratio)
    if k < 1 or abs(ratio - k) > GRID_RTOL * max(ratio, 1.0):
        raise RBMInputError(f"{what} = {value:.12g} is not a multiple of {unit} = {dt:.12g}")
    return k


def time_grid(T: float, dt: float, breakpoints: ArrayLike = ()) -> FloatArray:
    """t_j = j dt, j = 0..n (n = T/dt), with every breakpoint in (0, T) exactly on the grid.

    A breakpoint off the grid is an error (a step would straddle it). Grid times
    within rounding of a breakpoint are set to the breakpoint itself, so that the
    field's right-continuous piece lookup is exact.
    """
    T, dt = positive_time("T", T), positive_time("dt", dt)
    n = steps_of(T, dt, "T")
    times = np.arange(n + 1) * dt
    times[-1] = T
    for b in np.asarray(breakpoints, dtype=np.float64):
        if 0.0 < b < T:
            times[steps_of(float(b), dt, "the field's time breakpoint")] = b
    return times


def integrate(rhs: RHS, method: str, x0: ArrayLike, times: FloatArray) -> FloatArray:
    """The trajectory ``(len(times), *x0.shape)`` of x' = rhs on the grid ``times``."""
    x = np.array(x0, dtype=np.float64)
    stepper = get_method(method)(x.shape)
    out = np.empty((times.size,) + x.shape)
    out[0] = x
    for j in range(times.size - 1):
        stepper.step(rhs, float(times[j]), float(times[j + 1]), x)
        out[j + 1] = x
    return out


def step_matrix(method: str, A: ArrayLike, dt: float) -> FloatArray:
    """The matrix R of one step of ``method`` for x' = A x (x1 = R x0), by stepping the identity.

    For RK4 this is I + dt A + (dt A)^2/2 + (dt A)^3/6 + (dt A)^4/24.
    """
    A = np.asarray(A, dtype=np.float64)
    rows = np.eye(A.shape[0])  # row i = e_i^T; rows evolve as x^T, so rows -> R^T
    at = A.T.copy()

    def rhs(t: float, x: FloatArray, out: FloatArray) -> None:
        np.matmul(x, at, out=out)

    get_method(method)(rows.shape).step(rhs, 0.0, dt, rows)
    return rows.T.copy()
