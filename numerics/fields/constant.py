"""State-independent neurons f_i(t, x) = c_i(t) (THEORY.md section 10).

For this field the random-batch error is a sum of independent interval errors and
E|e(T)|^2 = h Lambda(T) exactly when T / h is an integer, which makes it an exact
oracle for a simulator. D_x f_i = 0 and L_i = 0.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from numerics.fields._validate import float_array, require_shape
from numerics.fields.base import Field, FloatArray, Grouped, IntArray, weighted_neuron_sum


class ConstantField(Field):
    """f_i(t, x) = c_i(t), independent of x.

    Parameters
    ----------
    c : array (p, d) or callable t -> array (p, d)
        The neuron values; a callable gives time dependence (its value is checked at
        every call; ``c(0.0)`` fixes p and d).
    time_breakpoints : array, optional
        Times where a callable ``c`` jumps (see :mod:`numerics.fields.base`).
    """

    def __init__(
        self, c: ArrayLike | Callable[[float], ArrayLike], time_breakpoints: ArrayLike = ()
    ) -> None:
        if callable(c):
            self._c, shape = c, float_array("c(0)", c(0.0), 2, "p x d").shape
        else:
            self._c = float_array("c", c, 2, "p x d")
            self._c.flags.writeable = False
            shape = self._c.shape
        super().__init__(*shape, time_breakpoints)

    @property
    def time_dependent(self) -> bool:
        """Whether c was given as a function of t."""
        return callable(self._c)

    def values(self, t: float) -> FloatArray:
        """c_i(t), shape (p, d)."""
        if not callable(self._c):
            return self._c
        value = float_array("c(t)", self._c(t), 2, "p x d")
        require_shape("c(t)", value, (self.p, self.d), f"the field has p={self.p}, d={self.d}")
        return value

    def lipschitz_constants(self) -> FloatArray:
        """L_i = 0."""
        return np.zeros(self.p)

    def _contributions_impl(self, t: float, x: FloatArray, idx: IntArray) -> FloatArray:
        return np.broadcast_to(self.values(t)[idx], (x.shape[0], idx.size, self.d)).copy()

    def _contribution_jacobians_impl(self, t: float, x: FloatArray, idx: IntArray) -> FloatArray:
        return np.zeros((x.shape[0], idx.size, self.d, self.d))

    def _evaluate_impl(self, t: float, call: Grouped, out: FloatArray) -> None:
        total = weighted_neuron_sum(self.values(t), call.idx, call.weights)
        out[...] = total if total.ndim == 1 else total[:, None, :]

    def _jacobian_impl(self, t: float, call: Grouped) -> FloatArray:
        return np.zeros(call.x.shape[:2] + (self.d, self.d))

    def _divergence_impl(self, t: float, call: Grouped) -> FloatArray:
        return np.zeros(call.x.shape[:2])
