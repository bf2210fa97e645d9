"""Linear (affine) neurons f_i(x) = A_i x + c_i, the exact-oracle model (THEORY.md section 10).

A selection with weights sums to one affine map, A^omega x + c^omega with
A^omega = sum_j weights_j A_{idx_j} (for the random batch method, weights 1/pi_i:
A^omega = sum_{i in B} A_i / pi_i), so every evaluation is one small matmul.
D_x f_i = A_i, div f_i = tr A_i, L_i = ||A_i||_2 (spectral norm).
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg import expm

from numerics.fields._validate import float_array, require_shape
from numerics.fields.base import Field, FloatArray, Grouped, IntArray, weighted_neuron_sum
from rbmtheory.errors import RBMInputError


class LinearField(Field):
    """f_i(x) = A_i x + c_i, time-independent.

    Parameters
    ----------
    A : array (p, d, d)
        The neuron matrices A_i.
    c : array (p, d), optional
        Offsets c_i (default 0).
    """

    def __init__(self, A: ArrayLike, c: ArrayLike | None = None) -> None:
        self.A = float_array("A", A, 3, "p x d x d")
        p, d, d2 = self.A.shape
        if d != d2 or 0 in self.A.shape:
            raise RBMInputError(
                f"A has shape {self.A.shape}: expected non-empty square matrices (p, d, d)"
            )
        if c is None:
            self.c = np.zeros((p, d))
        else:
            self.c = float_array("c", c, 2, "p x d")
            require_shape("c", self.c, (p, d), f"A has shape {self.A.shape}")
        self.A.flags.writeable = self.c.flags.writeable = False
        super().__init__(p, d)

    def A_total(self) -> FloatArray:
        """A = sum_i A_i, the matrix of the full field (d, d)."""
        return self.A.sum(axis=0)

    def c_total(self) -> FloatArray:
        """c = sum_i c_i (d,)."""
        return self.c.sum(axis=0)

    def batch_matrix(self, idx: ArrayLike | None = None, weights: ArrayLike | None = None) -> FloatArray:
        """A^omega = sum_j weights_j A_{idx_j}: ``(d, d)`` for the full field or a 1-D
        ``idx``, ``(*L, d, d)`` for ``idx (*L, k)`` or masked ``weights (*L, p)``."""
        return self._batch_sum(self.A, idx, weights)

    def batch_offset(self, idx: ArrayLike | None = None, weights: ArrayLike | None = None) -> FloatArray:
        """c^omega = sum_j weights_j c_{idx_j}: ``(d,)`` or ``(*L, d)`` as :meth:`batch_matrix`."""
        return self._batch_sum(self.c, idx, weights)

    def exact_solution(self, t: float, x0: ArrayLike) -> FloatArray:
        """x(t) = e^{A t} x0 + (integral_0^t e^{A s} ds) c for states ``x0 (..., d)``.

        Computed as one exponential of the augmented matrix [[A, c], [0, 0]] t.
        """
        x0 = self._states(x0)
        aug = np.zeros((self.d + 1, self.d + 1))
        aug[: self.d, : self.d], aug[: self.d, self.d] = self.A_total(), self.c_total()
        flow = expm(aug * float(t))
        return x0 @ flow[: self.d, : self.d].T + flow[: self.d, self.d]

    def lipschitz_constants(self) -> FloatArray:
        """L_i = ||A_i||_2."""
        return np.linalg.norm(self.A, ord=2, axis=(1, 2))

    def _batch_sum(
        self, values: FloatArray, idx: ArrayLike | None, weights: ArrayLike | None
    ) -> FloatArray:
        sel = idx if idx is not None else weights
        lead = () if sel is None else np.shape(sel)[:-1]
        dummy = np.zeros(lead + (self.d,))  # only the selection's leading shape matters
        call = self._group(dummy, idx, weights)
        total = weighted_neuron_sum(values, call.idx, call.weights)
        return total.reshape(lead + values.shape[1:])

    def _grouped_matrix(self, call: Grouped) -> tuple[FloatArray, FloatArray]:
        """A^omega (G, d, d) and c^omega (G, 1, d), broadcasting over the states."""
        a = weighted_neuron_sum(self.A, call.idx, call.weights)
        c = weighted_neuron_sum(self.c, call.idx, call.weights)
        groups = call.x.shape[0]
        a = np.broadcast_to(a, (groups, self.d, self.d))
        return a, np.broadcast_to(c, (groups, self.d))[:, None, :]

    def _contributions_impl(self, t: float, x: FloatArray, idx: IntArray) -> FloatArray:
        return np.einsum("kij,nj->nki", self.A[idx], x) + self.c[idx]

    def _contribution_jacobians_impl(self, t: float, x: FloatArray, idx: IntArray) -> FloatArray:
        return np.broadcast_to(self.A[idx], (x.shape[0],) + self.A[idx].shape).copy()

    def _evaluate_impl(self, t: float, call: Grouped, out: FloatArray) -> None:
        a, c = self._grouped_matrix(call)
        np.matmul(call.x, np.swapaxes(a, 1, 2), out=out)
        np.add(out, c, out=out)

    def _jacobian_impl(self, t: float, call: Grouped) -> FloatArray:
        a, _ = self._grouped_matrix(call)
        return np.broadcast_to(a[:, None], call.x.shape[:2] + (self.d, self.d)).copy()

    def _divergence_impl(self, t: float, call: Grouped) -> FloatArray:
        a, _ = self._grouped_matrix(call)
        return np.broadcast_to(np.trace(a, axis1=1, axis2=2)[:, None], call.x.shape[:2]).copy()
