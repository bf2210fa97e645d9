"""The field contract: F(t, x) = sum_{i=1..p} f_i(t, x) on R^d (THEORY.md section 1).

:class:`Field` is modelled on :class:`scipy.integrate.OdeSolver`: a small abstract
class whose public methods validate their input, bring it to one canonical layout
and call protected ``_impl`` hooks that a model implements. The random-batch
engine, the variance code (THEORY.md section 3) and the oracles (section 10) only
talk to this interface.

Shapes
------
States ``x`` have shape ``(*S, d)`` for any leading shape ``S``, e.g. ``(N,)`` data
points or ``(M, N)`` realizations x data points. All states share the time ``t``.

A neuron selection is given by ``idx`` (int) and ``weights`` (float); the methods
return sum_j weights[..., j] f_{idx[..., j]}(t, x):

==================  ===================  ==========================================
``idx``             ``weights``          meaning
==================  ===================  ==========================================
``None``            ``None``             the full field F (every neuron, weight 1)
``(k,)``            ``None`` or ``(k,)`` the same k neurons for every state
``(*L, k)``         ``None`` or same     one set of k neurons per leading index
``None``            ``(*L, p)``          masked: all neurons, zero weight = inactive
==================  ===================  ==========================================

``L`` must be the leading part of ``S`` (``x.shape[:len(L)] == L``). The random
batch method (THEORY.md section 2) uses ``x (M, N, d)`` with ``idx (M, r)`` and
Horvitz-Thompson ``weights (M, r)`` = 1 / pi_i (:meth:`Field.evaluate_batch`), or
``weights (M, p)`` with zeros off the batch for variable-size batches
(:meth:`Field.evaluate_masked`). Repeated indices count repeatedly; ``k = 0`` gives 0.

Time breakpoints
----------------
``time_breakpoints`` lists the times in (0, T) where the parameters jump (sorted,
empty for continuous time dependence). Fields are right-continuous: at a
breakpoint t_k they use the piece that starts there. An integrator must end a step
at every breakpoint (never straddle one) and evaluate the stages at the right end
t_k of a step ``[t, t_k]`` at ``np.nextafter(t_k, -np.inf)`` (the left limit), so
that every stage of the step uses the parameters of that step's piece.

Implementing a new field
------------------------
Subclass :class:`Field`, call ``super().__init__(p, d)`` and implement

* ``_contributions_impl(t, x, idx) -> (n, k, d)`` with ``x`` a C-contiguous
  ``(n, d)`` float64 array and ``idx`` a validated ``(k,)`` int array;
* :meth:`lipschitz_constants` ``-> (p,)``.

Optional, for Jacobians: ``_contribution_jacobians_impl(t, x, idx) -> (n, k, d, d)``.
Optional, for speed: ``_evaluate_impl``, ``_jacobian_impl``, ``_divergence_impl``
working on the grouped layout ``x (G, n, d)``, ``idx (G, k) | None``,
``weights (G, k) | (G, p) | None`` (a shared selection has G = 1); the defaults loop
over the groups and sum the contributions. A field with f_i(x) = s_i sin(x)
(componentwise, Lipschitz constant |s_i|):

>>> import numpy as np
>>> class SineField(Field):
...     def __init__(self, s):
...         self.s = np.asarray(s, dtype=float)
...         super().__init__(p=self.s.size, d=2)
...     def _contributions_impl(self, t, x, idx):
...         return self.s[idx][None, :, None] * np.sin(x)[:, None, :]
...     def _contribution_jacobians_impl(self, t, x, idx):
...         diag = self.s[idx][None, :, None] * np.cos(x)[:, None, :]
...         return diag[..., None] * np.eye(2)
...     def lipschitz_constants(self):
...         return np.abs(self.s)
>>> field = SineField([1.0, -0.5, 2.0])
>>> x = np.zeros((4, 2)) + 0.3
>>> np.allclose(field.evaluate(0.0, x), 2.5 * np.sin(x))
True
>>> field.evaluate_batch(0.0, np.stack([x, x]), idx=[[0, 2], [1, 1]], weights=[[1, 1], [2, 2]])[:, 0]
array([[ 0.88656062,  0.88656062],
       [-0.59104041, -0.59104041]])
>>> field.divergence(0.0, x[:1])
array([4.77668245])
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from numerics.fields._validate import require_finite
from rbmtheory.errors import RBMInputError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class Grouped:
    """A call in the grouped layout used by the ``_impl`` hooks.

    ``x`` is ``(G, n, d)``; ``idx`` is ``(G, k)`` or ``None`` (all p neurons);
    ``weights`` is ``(G, k)``, ``(G, p)`` (when ``idx`` is ``None``) or ``None``
    (unit weights); ``shape`` is the leading shape ``S`` of the caller's states.
    """

    x: FloatArray
    idx: IntArray | None
    weights: FloatArray | None
    shape: tuple[int, ...]


class Field(ABC):
    """A field F(t, x) = sum_i f_i(t, x) made of ``p`` neurons in dimension ``d``.

    Attributes
    ----------
    p : int
        Number of neurons.
    d : int
        State dimension.
    time_breakpoints : ndarray, shape (n_breaks,)
        Sorted times where the parameters jump (see the module docstring).
    """

    p: int
    d: int
    time_breakpoints: FloatArray

    def __init__(self, p: int, d: int, time_breakpoints: ArrayLike = ()) -> None:
        for name, value in (("p", p), ("d", d)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise RBMInputError(f"field: {name} must be a positive integer, got {value!r}")
        breaks = np.array(time_breakpoints, dtype=np.float64).reshape(-1)
        if not np.all(np.isfinite(breaks)) or np.any(np.diff(breaks) <= 0.0):
            raise RBMInputError(f"field: time_breakpoints must be finite and increasing, got {breaks}")
        breaks.flags.writeable = False
        self.p, self.d, self.time_breakpoints = int(p), int(d), breaks

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p}, d={self.d})"

    # ------------------------------------------------------------------ public API

    def contributions(self, t: float, x: ArrayLike, idx: ArrayLike | None = None) -> FloatArray:
        """Per-neuron contributions f_i(t, x), shape ``(*S, k, d)`` for ``idx`` of shape ``(k,)``."""
        t, x2, shape, idx = self._flat_call(t, x, idx)
        return self._contributions_impl(t, x2, idx).reshape(shape + (idx.size, self.d))

    def contribution_jacobians(
        self, t: float, x: ArrayLike, idx: ArrayLike | None = None
    ) -> FloatArray:
        """Per-neuron Jacobians D_x f_i(t, x), shape ``(*S, k, d, d)``."""
        t, x2, shape, idx = self._flat_call(t, x, idx)
        jac = self._contribution_jacobians_impl(t, x2, idx)
        return jac.reshape(shape + (idx.size, self.d, self.d))

    def evaluate(
        self,
        t: float,
        x: ArrayLike,
        idx: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        out: FloatArray | None = None,
    ) -> FloatArray:
        """sum_j weights_j f_{idx_j}(t, x), shape ``(*S, d)`` (selection rules: module docstring).

        ``out``, if given, is a C-contiguous float64 array of shape ``(*S, d)``
        that receives the result (and is returned).
        """
        t = _check_time(t)
        call = self._group(x, idx, weights)
        result = self._output(out, call.shape + (self.d,))
        self._evaluate_impl(t, call, result.reshape(call.x.shape))
        return result

    def evaluate_batch(
        self,
        t: float,
        x: ArrayLike,
        idx: ArrayLike,
        weights: ArrayLike | None = None,
        out: FloatArray | None = None,
    ) -> FloatArray:
        """One batch per realization: ``x (M, N, d)``, ``idx (M, r)``, ``weights (M, r)``.

        Returns ``(M, N, d)``; the same as :meth:`evaluate` after a shape check.
        """
        x, idx = np.asarray(x), np.asarray(idx)
        if x.ndim < 2 or idx.ndim != 2 or idx.shape[0] != x.shape[0]:
            raise RBMInputError(
                f"evaluate_batch needs x (M, N, d) and idx (M, r), got x {x.shape} and idx {idx.shape}"
            )
        return self.evaluate(t, x, idx, weights, out)

    def evaluate_masked(
        self, t: float, x: ArrayLike, weights: ArrayLike, out: FloatArray | None = None
    ) -> FloatArray:
        """Masked batches: ``x (M, N, d)``, ``weights (M, p)`` (0 = inactive) -> ``(M, N, d)``."""
        x, weights = np.asarray(x), np.asarray(weights)
        if x.ndim < 2 or weights.ndim != 2 or weights.shape[0] != x.shape[0]:
            raise RBMInputError(
                f"evaluate_masked needs x (M, N, d) and weights (M, p), "
                f"got x {x.shape} and weights {weights.shape}"
            )
        return self.evaluate(t, x, None, weights, out)

    def jacobian(
        self,
        t: float,
        x: ArrayLike,
        idx: ArrayLike | None = None,
        weights: ArrayLike | None = None,
    ) -> FloatArray:
        """D_x of the weighted sum, shape ``(*S, d, d)`` (row = output component)."""
        t = _check_time(t)
        call = self._group(x, idx, weights)
        return self._jacobian_impl(t, call).reshape(call.shape + (self.d, self.d))

    def divergence(
        self,
        t: float,
        x: ArrayLike,
        idx: ArrayLike | None = None,
        weights: ArrayLike | None = None,
    ) -> FloatArray:
        """div_x of the weighted sum, shape ``(*S,)``."""
        t = _check_time(t)
        call = self._group(x, idx, weights)
        return self._divergence_impl(t, call).reshape(call.shape)

    @abstractmethod
    def lipschitz_constants(self) -> FloatArray:
        """Neuron-wise Lipschitz constants L_i in x, uniform in t on [0, T], shape ``(p,)``."""

    # ------------------------------------------------------------------ hooks

    @abstractmethod
    def _contributions_impl(self, t: float, x: FloatArray, idx: IntArray) -> FloatArray:
        """f_{idx_j}(t, x_n) for ``x (n, d)``, ``idx (k,)`` -> ``(n, k, d)``."""

    def _contribution_jacobians_impl(self, t: float, x: FloatArray, idx: IntArray) -> FloatArray:
        """D_x f_{idx_j}(t, x_n) -> ``(n, k, d, d)``; optional."""
        raise NotImplementedError(f"{type(self).__name__} does not provide Jacobians")

    def _evaluate_impl(self, t: float, call: Grouped, out: FloatArray) -> None:
        """Fill ``out (G, n, d)``; default: weighted sum of the contributions, group by group."""
        for g, (idx, w) in enumerate(self._group_selections(call)):
            np.einsum("nkd,k->nd", self._contributions_impl(t, call.x[g], idx), w, out=out[g])

    def _jacobian_impl(self, t: float, call: Grouped) -> FloatArray:
        """``(G, n, d, d)``; default: weighted sum of the contribution Jacobians."""
        return np.stack([
            np.einsum("nkij,k->nij", self._contribution_jacobians_impl(t, call.x[g], idx), w)
            for g, (idx, w) in enumerate(self._group_selections(call))
        ])

    def _divergence_impl(self, t: float, call: Grouped) -> FloatArray:
        """``(G, n)``; default: trace of :meth:`_jacobian_impl`."""
        return np.trace(self._jacobian_impl(t, call), axis1=-2, axis2=-1)

    # ------------------------------------------------------------------ helpers

    def _group_selections(self, call: Grouped) -> Iterator[tuple[IntArray, FloatArray]]:
        """Yield ``(idx (k,), weights (k,))`` for each group of ``call``."""
        for g in range(call.x.shape[0]):
            idx = np.arange(self.p) if call.idx is None else call.idx[g]
            w = np.ones(idx.size) if call.weights is None else call.weights[g]
            yield idx, w

    def _states(self, x: ArrayLike) -> FloatArray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim == 0 or x.shape[-1] != self.d:
            raise RBMInputError(
                f"x has shape {x.shape}; the field has dimension d={self.d}, "
                f"so x must be (..., {self.d})"
            )
        return x

    def _indices(self, idx: ArrayLike) -> IntArray:
        idx = np.asarray(idx)
        if idx.dtype.kind not in "iu" and not (idx.size == 0 and idx.dtype.kind == "f"):  # [] is float
            raise RBMInputError(
                f"idx must be an integer array of neuron indices, got dtype {idx.dtype}"
            )
        if idx.ndim == 0:
            raise RBMInputError("idx must have at least one axis (the neurons), got a scalar")
        idx = idx.astype(np.intp, copy=False)
        if idx.size and (idx.min() < 0 or idx.max() >= self.p):
            bad = idx[(idx < 0) | (idx >= self.p)].flat[0]
            raise RBMInputError(f"idx contains {bad}, outside the neuron range 0..{self.p - 1}")
        return idx

    def _flat_call(
        self, t: float, x: ArrayLike, idx: ArrayLike | None
    ) -> tuple[float, FloatArray, tuple[int, ...], IntArray]:
        """Checks for the per-neuron methods: ``(t, x (n, d), S, idx (k,))``."""
        t, x = _check_time(t), self._states(x)
        idx = np.arange(self.p) if idx is None else self._indices(idx)
        if idx.ndim != 1:
            raise RBMInputError(
                f"idx must be 1-D here (one neuron list for all states), got shape {idx.shape}"
            )
        return t, x.reshape(-1, self.d), x.shape[:-1], idx

    def _group(self, x: ArrayLike, idx: ArrayLike | None, weights: ArrayLike | None) -> Grouped:
        """Validate a selection and bring it to the grouped layout (module docstring)."""
        x = self._states(x)
        shape = x.shape[:-1]
        idx = None if idx is None else self._indices(idx)
        weights = None if weights is None else self._weights(weights, idx)
        sel, name = (idx, "idx") if idx is not None else (weights, "weights")
        lead = () if sel is None else sel.shape[:-1]
        if len(lead) > len(shape) or shape[: len(lead)] != lead:
            raise RBMInputError(
                f"{name} has shape {sel.shape} but x has shape {x.shape}: "
                "the leading axes of the selection must be leading axes of x"
            )
        groups, n = math.prod(lead), math.prod(shape[len(lead):])
        return Grouped(
            x=x.reshape(groups, n, self.d),
            idx=None if idx is None else idx.reshape(groups, idx.shape[-1]),
            weights=None if weights is None else weights.reshape(groups, weights.shape[-1]),
            shape=shape,
        )

    def _weights(self, weights: ArrayLike, idx: IntArray | None) -> FloatArray:
        weights = np.asarray(weights, dtype=np.float64)
        if idx is not None and weights.shape != idx.shape:
            raise RBMInputError(f"weights has shape {weights.shape} but idx has shape {idx.shape}")
        if idx is None and (weights.ndim == 0 or weights.shape[-1] != self.p):
            raise RBMInputError(
                f"weights has shape {weights.shape}; without idx it must be (..., p={self.p})"
            )
        require_finite("weights", weights)
        return weights

    @staticmethod
    def _output(out: FloatArray | None, shape: tuple[int, ...]) -> FloatArray:
        if out is None:
            return np.empty(shape)
        if (
            not isinstance(out, np.ndarray)
            or out.shape != shape
            or out.dtype != np.float64
            or not out.flags.c_contiguous
        ):
            raise RBMInputError(
                f"out must be a C-contiguous float64 array of shape {shape}, "
                f"got {getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}"
            )
        return out


def _check_time(t: float) -> float:
    try:
        t = float(t)
    except (TypeError, ValueError):
        raise RBMInputError(f"t must be a number, got {t!r}") from None
    if not math.isfinite(t):
        raise RBMInputError(f"t must be finite, got {t}")
    return t


def weighted_neuron_sum(
    values: FloatArray, idx: IntArray | None, weights: FloatArray | None
) -> FloatArray:
    """sum_j weights_j values[idx_j] for per-neuron ``values (p, *R)``.

    Selection shapes as in the grouped layout: ``idx (G, k)`` / ``None`` and
    ``weights (G, k)`` / ``(G, p)`` / ``None``. Returns ``(*R,)`` when both are
    ``None`` and ``(G, *R)`` otherwise.
    """
    if idx is None and weights is None:
        return values.sum(axis=0)
    if idx is None:
        return np.tensordot(weights, values, axes=1)
    selected = values[idx]  # (G, k, *R)
    if weights is None:
        return selected.sum(axis=1)
    return np.einsum("gk,gk...->g...", weights, selected)
