"""Single-layer neural field f_i(t, x) = w_i(t) sigma(a_i(t) . x + b_i(t)) (THEORY.md sections 1, 9).

With z_i = a_i . x + b_i:

    D_x f_i = sigma'(z_i) w_i a_i^T,   div f_i = sigma'(z_i) a_i . w_i,
    L_i = |w_i| |a_i| sup|sigma'|   (sup over time, see each class).

Three time dependences share one kernel (:class:`SingleLayerField`):

* :class:`NeuralField` -- constant parameters ``W, A (p, d)``, ``b (p,)``;
* :class:`PiecewiseNeuralField` -- ``W, A (K, p, d)``, ``b (K, p)`` and
  ``control_times`` t_0 = 0 < ... < t_K = T, piece k on [t_k, t_{k+1}) (the last
  piece also for t >= T, the first for t < 0); t_1..t_{K-1} are the breakpoints;
* :class:`SmoothNeuralField` -- theta(t) = sum_m phi_m(t / T) theta_m with the basis
  phi_0 = 1, phi_1 = s, phi_2 = cos 2 pi s, phi_3 = sin 2 pi s, phi_4 = cos 4 pi s, ...
  (coefficients ``W, A (m, p, d)``, ``b (m, p)``): constant + linear drift + Fourier
  modes, linear in the coefficients (control-affine in them, as training needs).

Kernel: for a selection of k neurons (``idx (G, k)`` per group, see
:mod:`numerics.fields.base`) the pre-activations are one batched matmul
``x (G, n, d) @ A_sel^T (G, d, k)``, the activation runs in place, and a second
batched matmul with a per-neuron table ``(G, k, m)`` (weights folded in) sums the
neurons: the table is W for F (m = d), vec(w_i a_i^T) for the Jacobian (m = d^2)
and a_i . w_i for the divergence (m = 1). So the cost is proportional to k: a
batch of r of the p neurons costs about r/p of the full field. The work runs in
chunks of at most ``CHUNK_ELEMENTS`` pre-activations in one reused buffer (L2
resident, no page faults from fresh temporaries); a field instance is therefore
not thread-safe.
"""
from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from numerics.activations import Activation, get_activation
from numerics.fields._validate import control_grid, float_array, positive_time, require_shape
from numerics.fields.base import Field, FloatArray, Grouped, IntArray
from rbmtheory.errors import RBMInputError

CHUNK_ELEMENTS = 1 << 15  # pre-activations per chunk: 256 KiB of float64


@dataclass(frozen=True)
class NeuralParameters:
    """w_i, a_i, b_i at one time and the per-neuron tables of the kernel.

    ``W, A (p, d)``, ``b (p,)``; ``outer (p, d*d)`` rows vec(w_i a_i^T);
    ``aw (p, 1)`` = a_i . w_i.
    """

    W: FloatArray
    A: FloatArray
    b: FloatArray
    outer: FloatArray
    aw: FloatArray

    @classmethod
    def from_arrays(cls, W: FloatArray, A: FloatArray, b: FloatArray) -> NeuralParameters:
        p, d = W.shape
        outer = (W[:, :, None] * A[:, None, :]).reshape(p, d * d)
        aw = np.einsum("pd,pd->p", A, W)[:, None]
        return cls(W=W, A=A, b=b, outer=outer, aw=aw)

    def lipschitz(self, activation: Activation) -> FloatArray:
        """|w_i| |a_i| sup|sigma'|, shape (p,)."""
        norms = np.linalg.norm(self.W, axis=1) * np.linalg.norm(self.A, axis=1)
        return norms * activation.sup_derivative


def _neural_arrays(W: ArrayLike, A: ArrayLike, b: ArrayLike, lead: str = "") -> tuple[FloatArray, ...]:
    """Check W, A (lead, p, d) and b (lead, p): equal shapes, finite, non-empty.

    ``lead`` names the optional leading axis ("K" pieces, "m" coefficients).
    """
    prefix, axes = (f"{lead} x ", 1) if lead else ("", 0)
    W = float_array("W", W, axes + 2, f"{prefix}p x d")
    A = float_array("A", A, axes + 2, f"{prefix}p x d")
    if A.shape != W.shape:
        raise RBMInputError(f"W has shape {W.shape} but A has shape {A.shape}")
    if 0 in W.shape:
        raise RBMInputError(f"W has shape {W.shape}: every axis must be non-empty")
    b = float_array("b", b, axes + 1, f"{prefix}p")
    require_shape("b", b, W.shape[:-1], f"W has shape {W.shape}")
    for arr in (W, A, b):
        arr.flags.writeable = False
    return W, A, b


class SingleLayerField(Field):
    """Common kernel of the neural fields; subclasses provide :meth:`parameters`."""

    def __init__(
        self, p: int, d: int, activation: str | Activation, time_breakpoints: ArrayLike = ()
    ) -> None:
        super().__init__(p, d, time_breakpoints)
        self.activation = get_activation(activation)
        self._buffer = np.empty(0)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p}, d={self.d}, activation={self.activation.name!r})"

    @abstractmethod
    def parameters(self, t: float) -> NeuralParameters:
        """The parameters (w_i, a_i, b_i) in force at time t."""

    # hooks of the Field contract

    def _contributions_impl(self, t: float, x: FloatArray, idx: IntArray) -> FloatArray:
        prm = self.parameters(t)
        s = self.activation.value(self._preactivations(x, prm, idx))
        return s[:, :, None] * prm.W[idx]

    def _contribution_jacobians_impl(self, t: float, x: FloatArray, idx: IntArray) -> FloatArray:
        prm = self.parameters(t)
        ds = self.activation.derivative(self._preactivations(x, prm, idx))
        return ds[:, :, None, None] * prm.outer[idx].reshape(idx.size, self.d, self.d)

    def _evaluate_impl(self, t: float, call: Grouped, out: FloatArray) -> None:
        prm = self.parameters(t)
        self._reduce(call, prm, prm.W, self.activation.value, out)

    def _jacobian_impl(self, t: float, call: Grouped) -> FloatArray:
        prm = self.parameters(t)
        out = np.empty(call.x.shape[:2] + (self.d * self.d,))
        self._reduce(call, prm, prm.outer, self.activation.derivative, out)
        return out.reshape(out.shape[:2] + (self.d, self.d))

    def _divergence_impl(self, t: float, call: Grouped) -> FloatArray:
        prm = self.parameters(t)
        out = np.empty(call.x.shape[:2] + (1,))
        self._reduce(call, prm, prm.aw, self.activation.derivative, out)
        return out[..., 0]

    # kernel

    @staticmethod
    def _preactivations(x: FloatArray, prm: NeuralParameters, idx: IntArray) -> FloatArray:
        """z_{nj} = a_{idx_j} . x_n + b_{idx_j} for ``x (n, d)`` -> ``(n, k)``."""
        z = x @ prm.A[idx].T
        z += prm.b[idx]
        return z

    def _reduce(
        self,
        call: Grouped,
        prm: NeuralParameters,
        table: FloatArray,
        act: Callable[..., FloatArray],
        out: FloatArray,
    ) -> None:
        """out[g, n] = sum_j weights[g, j] act(z[g, n, j]) table[idx[g, j]], ``out (G, n, m)``."""
        if call.idx is None:  # shared pre-activations: A^T (d, p)
            a_t, b = prm.A.T, prm.b
        else:  # per group: A_sel^T (G, d, k), b (G, 1, k)
            a_t, b = np.swapaxes(prm.A[call.idx], 1, 2), prm.b[call.idx][:, None, :]
            table = table[call.idx]
        if call.weights is not None:
            table = table * call.weights[..., None]  # (G, k, m): weights folded in
        k = b.shape[-1]
        if k == 0:
            out[...] = 0.0
            return
        for gs, ns in _chunks(call.x.shape[0], call.x.shape[1], k):
            xc = call.x[gs, ns]
            z = self._scratch(xc.shape[0] * xc.shape[1] * k).reshape(xc.shape[0], xc.shape[1], k)
            np.matmul(xc, _group_rows(a_t, gs), out=z)
            np.add(z, _group_rows(b, gs), out=z)
            act(z, out=z)
            np.matmul(z, _group_rows(table, gs), out=out[gs, ns])

    def _scratch(self, size: int) -> FloatArray:
        if self._buffer.size < size:
            self._buffer = np.empty(max(size, CHUNK_ELEMENTS))
        return self._buffer[:size]


def _group_rows(arr: FloatArray, gs: slice) -> FloatArray:
    """The rows ``gs`` of a per-group (3-D) array; shared (1-D, 2-D) arrays broadcast."""
    return arr[gs] if arr.ndim == 3 else arr


def _chunks(groups: int, n: int, k: int) -> Iterator[tuple[slice, slice]]:
    """(group slice, state slice) blocks with at most CHUNK_ELEMENTS (or k) pre-activations."""
    per_group = n * k
    if per_group <= CHUNK_ELEMENTS:
        step = max(1, CHUNK_ELEMENTS // max(per_group, 1))
        for g in range(0, groups, step):
            yield slice(g, g + step), slice(None)
        return
    rows = max(1, CHUNK_ELEMENTS // k)
    for g in range(groups):
        for s in range(0, n, rows):
            yield slice(g, g + 1), slice(s, s + rows)


class NeuralField(SingleLayerField):
    """Time-independent f_i(x) = w_i sigma(a_i . x + b_i).

    Parameters
    ----------
    W, A : array (p, d)
        Rows w_i (output directions) and a_i (input weights).
    b : array (p,)
        Biases b_i.
    activation : str or Activation
        A name of :data:`numerics.activations.ACTIVATION_NAMES`.
    """

    def __init__(
        self, W: ArrayLike, A: ArrayLike, b: ArrayLike, activation: str | Activation = "tanh"
    ) -> None:
        self.W, self.A, self.b = _neural_arrays(W, A, b)
        super().__init__(*self.W.shape, activation)
        self._params = NeuralParameters.from_arrays(self.W, self.A, self.b)

    def parameters(self, t: float) -> NeuralParameters:
        return self._params

    def lipschitz_constants(self) -> FloatArray:
        """L_i = |w_i| |a_i| sup|sigma'| (THEORY.md section 9)."""
        return self._params.lipschitz(self.activation)


class PiecewiseNeuralField(SingleLayerField):
    """Parameters constant on each piece [t_k, t_{k+1}) of ``control_times``.

    Parameters
    ----------
    W, A : array (K, p, d)
    b : array (K, p)
    control_times : array (K + 1,)
        0 = t_0 < t_1 < ... < t_K = T; ``time_breakpoints`` = t_1..t_{K-1}.
    activation : str or Activation
    """

    def __init__(
        self,
        W: ArrayLike,
        A: ArrayLike,
        b: ArrayLike,
        control_times: ArrayLike,
        activation: str | Activation = "tanh",
    ) -> None:
        self.W, self.A, self.b = _neural_arrays(W, A, b, "K")
        self.control_times = control_grid("control_times", control_times, self.W.shape[0])
        self.control_times.flags.writeable = False
        super().__init__(*self.W.shape[1:], activation, self.control_times[1:-1])
        self._pieces = [NeuralParameters.from_arrays(*prm) for prm in zip(self.W, self.A, self.b)]

    def piece_index(self, t: float) -> int:
        """k with t in [t_k, t_{k+1}) (clamped to 0..K-1)."""
        return int(np.searchsorted(self.time_breakpoints, t, side="right"))

    def parameters(self, t: float) -> NeuralParameters:
        return self._pieces[self.piece_index(t)]

    def lipschitz_constants(self) -> FloatArray:
        """L_i = max over pieces of |w_i| |a_i| sup|sigma'|."""
        return np.max([piece.lipschitz(self.activation) for piece in self._pieces], axis=0)


class SmoothNeuralField(SingleLayerField):
    """Smooth parameters theta(t) = sum_m phi_m(t / T) theta_m (module docstring basis).

    Parameters
    ----------
    W, A : array (m, p, d)
        Coefficients of w_i(t), a_i(t) on phi_0..phi_{m-1}.
    b : array (m, p)
    T : float
        Horizon; s = t / T. Every phi_m satisfies |phi_m| <= 1 on [0, T].
    activation : str or Activation
    """

    def __init__(
        self, W: ArrayLike, A: ArrayLike, b: ArrayLike, T: float, activation: str | Activation = "tanh"
    ) -> None:
        self.W, self.A, self.b = _neural_arrays(W, A, b, "m")
        self.T = positive_time("T", T)
        super().__init__(*self.W.shape[1:], activation)

    def basis(self, t: float) -> FloatArray:
        """phi_0..phi_{m-1} at s = t / T: 1, s, cos 2 pi s, sin 2 pi s, cos 4 pi s, ..."""
        s = t / self.T
        m = self.W.shape[0]
        phi = np.empty(m)
        for j in range(m):
            if j < 2:
                phi[j] = s**j
            else:
                angle = 2.0 * math.pi * (j // 2) * s
                phi[j] = math.cos(angle) if j % 2 == 0 else math.sin(angle)
        return phi

    def parameters(self, t: float) -> NeuralParameters:
        phi = self.basis(t)
        W, A, b = (np.tensordot(phi, coef, axes=1) for coef in (self.W, self.A, self.b))
        return NeuralParameters.from_arrays(W, A, b)

    def lipschitz_constants(self) -> FloatArray:
        """L_i = sup|sigma'| (sum_m |w_{m,i}|) (sum_m |a_{m,i}|).

        An upper bound of sup_{t in [0, T]} |w_i(t)| |a_i(t)| sup|sigma'| (since
        |phi_m| <= 1 there), not the exact supremum.
        """
        w_bound = np.linalg.norm(self.W, axis=2).sum(axis=0)
        a_bound = np.linalg.norm(self.A, axis=2).sum(axis=0)
        return w_bound * a_bound * self.activation.sup_derivative
