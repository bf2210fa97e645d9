"""Activation functions sigma of the single-layer neural field (THEORY.md section 9).

Each activation gives its value, first and second derivative (vectorised, with an
optional ``out=`` buffer that may be the input array itself), the constants that
enter the Lipschitz bounds

    L_i <= |w_i| |a_i| sup|sigma'|          (THEORY.md section 9)

and a ``smooth`` flag: ``True`` when sigma is C^1 with a Lipschitz derivative, the
hypothesis (A2, A3, A5 in the paper) that the transport and training results need.
ReLU is Lipschitz but not C^1, so it is flagged ``smooth = False``; the trajectory
results (Theorem 3.1) still hold for it.

=========  =====================  ===============  ================  ======
name       sigma(z)               sup|sigma'|      sup|sigma''|      smooth
=========  =====================  ===============  ================  ======
tanh       tanh z                 1                4 / (3 sqrt 3)    yes
sigmoid    1 / (1 + e^-z)         1/4              sqrt 3 / 18       yes
gelu       z Phi(z) (exact erf)   1.1289...        sqrt(2 / pi)      yes
elu        z>0: z, else e^z - 1   1                1                 yes
relu       max(z, 0)              1                inf               no
=========  =====================  ===============  ================  ======

GELU: sigma' = Phi(z) + z phi(z), sigma'' = phi(z) (2 - z^2). sigma'' vanishes at
z = +-sqrt 2, so sup|sigma'| = Phi(sqrt 2) + sqrt 2 phi(sqrt 2)
= (1 + erf 1) / 2 + e^-1 / sqrt(pi) = 1.128904...; |sigma''| is largest at z = 0.
ELU (alpha = 1) is C^1 with sigma' Lipschitz (constant 1); sigma'' jumps at 0
(the value at z = 0 is taken from the left branch).  For ReLU sigma'(0) = 0 and
sigma'' = 0 (almost everywhere).

Fast path: when llvmlite is installed (the optional ``fast`` extra), tanh and GELU
run the vectorised kernels of :mod:`numerics._fastmath`, JIT-compiled on first use
(~30 ms each; GELU ~8x faster than scipy's ``ndtr``, accurate to 1e-15 relative,
tanh to 4e-16 absolute, see that module); otherwise, or with the environment
variable ``RBMTHEORY_FASTMATH=0``, they use numpy/scipy. ``Tanh(fast=False)`` and
``GELU(fast=False)`` always take the numpy/scipy path (the reference
implementation).

>>> get_activation("tanh").sup_derivative
1.0
"""
from __future__ import annotations

import importlib.util
import math
import os
import warnings
from abc import ABC, abstractmethod
from types import ModuleType

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from rbmtheory.errors import RBMInputError

FloatArray = NDArray[np.float64]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Activation(ABC):
    """An activation sigma with its first two derivatives.

    Attributes
    ----------
    name : str
        Registry name (lower case).
    sup_derivative : float
        sup_z |sigma'(z)|, the factor in L_i = |w_i| |a_i| sup|sigma'|.
    sup_second_derivative : float
        sup_z |sigma''(z)|, the Lipschitz constant of sigma' (``inf`` if sigma' is
        not Lipschitz).
    smooth : bool
        sigma is C^1 with Lipschitz sigma' (needed for transport and training).

    The three methods accept any array ``z`` and an optional float64 ``out`` of the
    same shape (``out`` may be ``z`` itself, for in-place evaluation).
    """

    name: str
    sup_derivative: float
    sup_second_derivative: float
    smooth: bool = True

    def value(self, z: ArrayLike, out: FloatArray | None = None) -> FloatArray:
        """sigma(z), elementwise."""
        z, out = _prepare(z, out)
        self._value(z, out)
        return out

    def derivative(self, z: ArrayLike, out: FloatArray | None = None) -> FloatArray:
        """sigma'(z), elementwise."""
        z, out = _prepare(z, out)
        self._derivative(z, out)
        return out

    def second_derivative(self, z: ArrayLike, out: FloatArray | None = None) -> FloatArray:
        """sigma''(z), elementwise."""
        z, out = _prepare(z, out)
        self._second_derivative(z, out)
        return out

    @abstractmethod
    def _value(self, z: FloatArray, out: FloatArray) -> None: ...

    @abstractmethod
    def _derivative(self, z: FloatArray, out: FloatArray) -> None: ...

    @abstractmethod
    def _second_derivative(self, z: FloatArray, out: FloatArray) -> None: ...

    def __repr__(self) -> str:
        return f"<activation {self.name}>"


def _prepare(z: ArrayLike, out: FloatArray | None) -> tuple[FloatArray, FloatArray]:
    z = np.asarray(z, dtype=np.float64)
    if out is None:
        return z, np.empty_like(z)
    if not isinstance(out, np.ndarray) or out.dtype != np.float64 or out.shape != z.shape:
        raise RBMInputError(
            f"activation out= must be a float64 array of shape {z.shape}, "
            f"got {getattr(out, 'dtype', type(out).__name__)} {getattr(out, 'shape', '')}"
        )
    return z, out


FASTMATH_ENV = "RBMTHEORY_FASTMATH"  # "0": never use the JIT kernels
_fast_state: ModuleType | None | bool = False  # False: not looked up yet


def fast_kernels() -> ModuleType | None:
    """:mod:`numerics._fastmath` if llvmlite is usable, else ``None`` (looked up once, lazily).

    Looked up on the first evaluation of a tanh or GELU activation, so that importing
    this module does not load LLVM.
    """
    global _fast_state
    if _fast_state is False:
        module = None
        if os.environ.get(FASTMATH_ENV, "1").strip() != "0" and importlib.util.find_spec("llvmlite") is not None:
            from numerics import _fastmath as module  # imports llvmlite

            if not module.AVAILABLE:
                module = None
        _fast_state = module
    return _fast_state


def _run_in_place(kernel, z: FloatArray, out: FloatArray) -> None:
    """out <- kernel(z) with an in-place kernel of :mod:`numerics._fastmath`.

    The kernel works on ``out`` itself (after copying ``z`` there unless ``out``
    already holds it), so it never reads and writes through two aliasing arrays,
    which would stop LLVM from vectorising the loop.
    """
    flags = out.flags
    if flags.c_contiguous and flags.writeable:
        if not (out is z or (z.strides == out.strides and _address(z) == _address(out))):
            # a ufunc pass, not np.copyto: memmove (rep movsb) runs ~10x slower on
            # AMD Zen 3 when the two addresses are close modulo 4 KiB
            np.multiply(z, 1.0, out=out)
        kernel(out)
    else:  # strided or read-only out: compute in a contiguous copy
        tmp = np.array(z, dtype=np.float64, order="C")
        kernel(tmp)
        out[...] = tmp


def _address(a: FloatArray) -> int:
    return a.__array_interface__["data"][0]


class _FastPathMixin:
    """Selects the JIT kernels (``fast=None``: when available) or numpy/scipy."""

    def __init__(self, fast: bool | None = None) -> None:
        if fast and fast_kernels() is None:
            raise RBMInputError(
                f"{type(self).__name__}(fast=True) needs llvmlite >= 0.44 (pip install 'rbmtheory[fast]'); "
                f"it is not importable or disabled by {FASTMATH_ENV}=0"
            )
        self._fast = fast

    @property
    def fast(self) -> bool:
        """Whether the JIT kernels of :mod:`numerics._fastmath` are used."""
        return self._fast is not False and fast_kernels() is not None

    def _kernels(self) -> ModuleType | None:
        return None if self._fast is False else fast_kernels()

    def _dispatch(self, which: str, z: FloatArray, out: FloatArray) -> None:
        """The kernel ``<name>_<which>`` of :mod:`numerics._fastmath`, or ``_<which>_numpy``."""
        kernels = self._kernels()
        if kernels is None:
            getattr(self, f"_{which}_numpy")(z, out)
        else:
            _run_in_place(getattr(kernels, f"{self.name}_{which}"), z, out)

    def _value(self, z: FloatArray, out: FloatArray) -> None:
        self._dispatch("value", z, out)

    def _derivative(self, z: FloatArray, out: FloatArray) -> None:
        self._dispatch("derivative", z, out)

    def _second_derivative(self, z: FloatArray, out: FloatArray) -> None:
        self._dispatch("second_derivative", z, out)


class Tanh(_FastPathMixin, Activation):
    """tanh, evaluated as 2 / (1 + e^(-2z)) - 1 (numpy path).

    This form costs one ``exp`` and is about twice as fast as ``np.tanh`` on the
    benchmark machine; its absolute error is below 4e-16 (tested), which is all
    that matters for the field (there is no relative accuracy near z = 0). The JIT
    kernel computes sign(z) (1 - e) / (1 + e), e = e^(-2|z|), with its own exp:
    ~1.7 ns per element against ~6 ns, same absolute accuracy.
    """

    name = "tanh"
    sup_derivative = 1.0
    sup_second_derivative = 4.0 / (3.0 * math.sqrt(3.0))

    # numpy reference path

    def _value_numpy(self, z: FloatArray, out: FloatArray) -> None:
        np.multiply(z, -2.0, out=out)
        with np.errstate(over="ignore"):  # e^(-2z) = inf gives the exact limit -1
            np.exp(out, out=out)
        np.add(out, 1.0, out=out)
        np.divide(2.0, out, out=out)
        np.subtract(out, 1.0, out=out)

    def _derivative_numpy(self, z: FloatArray, out: FloatArray) -> None:
        self._value_numpy(z, out)  # 1 - tanh^2
        np.square(out, out=out)
        np.subtract(1.0, out, out=out)

    def _second_derivative_numpy(self, z: FloatArray, out: FloatArray) -> None:
        th = np.empty_like(z)
        self._value_numpy(z, th)  # -2 tanh (1 - tanh^2) = 2 tanh (tanh^2 - 1)
        np.square(th, out=out)
        np.subtract(out, 1.0, out=out)
        np.multiply(out, th, out=out)
        np.multiply(out, 2.0, out=out)


class Sigmoid(Activation):
    """Logistic sigmoid s = 1 / (1 + e^-z); s' = s (1 - s), s'' = s (1 - s) (1 - 2 s)."""

    name = "sigmoid"
    sup_derivative = 0.25
    sup_second_derivative = math.sqrt(3.0) / 18.0

    def _value(self, z: FloatArray, out: FloatArray) -> None:
        special.expit(z, out=out)

    def _derivative(self, z: FloatArray, out: FloatArray) -> None:
        complement = special.expit(-z)  # 1 - s without cancellation
        special.expit(z, out=out)
        np.multiply(out, complement, out=out)

    def _second_derivative(self, z: FloatArray, out: FloatArray) -> None:
        s = special.expit(z)
        complement = special.expit(-z)
        np.subtract(complement, s, out=out)
        np.multiply(out, s, out=out)
        np.multiply(out, complement, out=out)


class GELU(_FastPathMixin, Activation):
    """Exact GELU z Phi(z), Phi the standard normal cdf (erf form, no tanh approximation).

    The numpy path uses ``scipy.special.ndtr`` (~10-20 ns per element); the JIT
    kernels (:mod:`numerics._fastmath`, ~2.5 ns) are also more accurate in the far
    left tail, where ndtr's relative error grows to 2.4e-13 (z near -37).
    """

    name = "gelu"
    sup_derivative = 0.5 * (1.0 + math.erf(1.0)) + math.exp(-1.0) / math.sqrt(math.pi)
    sup_second_derivative = 2.0 * _INV_SQRT_2PI

    # numpy/scipy reference path

    def _value_numpy(self, z: FloatArray, out: FloatArray) -> None:
        np.multiply(z, special.ndtr(z), out=out)

    def _derivative_numpy(self, z: FloatArray, out: FloatArray) -> None:
        z_pdf = _normal_pdf(z)
        np.multiply(z_pdf, z, out=z_pdf)
        np.add(special.ndtr(z), z_pdf, out=out)

    def _second_derivative_numpy(self, z: FloatArray, out: FloatArray) -> None:
        z = np.clip(z, -40.0, 40.0)  # phi = 0 beyond; avoids inf * 0 for huge |z|
        pdf = _normal_pdf(z)
        np.square(z, out=out)
        np.subtract(2.0, out, out=out)
        np.multiply(out, pdf, out=out)


def _normal_pdf(z: FloatArray) -> FloatArray:
    pdf = np.empty_like(z)  # an array also for 0-d z (ufuncs return 0-d results as scalars)
    np.clip(z, -40.0, 40.0, out=pdf)  # phi(40) underflows to 0: no overflow in z^2
    np.square(pdf, out=pdf)
    np.multiply(pdf, -0.5, out=pdf)
    np.exp(pdf, out=pdf)
    np.multiply(pdf, _INV_SQRT_2PI, out=pdf)
    return pdf


class ELU(Activation):
    """ELU with alpha = 1: z for z > 0, e^z - 1 otherwise."""

    name = "elu"
    sup_derivative = 1.0
    sup_second_derivative = 1.0

    def _value(self, z: FloatArray, out: FloatArray) -> None:
        negative_part = np.empty_like(z)  # an array also for 0-d z
        np.minimum(z, 0.0, out=negative_part)
        np.expm1(negative_part, out=negative_part)
        np.maximum(z, 0.0, out=out)
        np.add(out, negative_part, out=out)

    def _derivative(self, z: FloatArray, out: FloatArray) -> None:
        np.exp(np.minimum(z, 0.0), out=out)  # 1 for z > 0

    def _second_derivative(self, z: FloatArray, out: FloatArray) -> None:
        left = z <= 0.0
        np.exp(np.minimum(z, 0.0), out=out)
        np.multiply(out, left, out=out)


class ReLU(Activation):
    """ReLU max(z, 0): Lipschitz but not C^1 (``smooth = False``)."""

    name = "relu"
    sup_derivative = 1.0
    sup_second_derivative = math.inf
    smooth = False

    def _value(self, z: FloatArray, out: FloatArray) -> None:
        np.maximum(z, 0.0, out=out)

    def _derivative(self, z: FloatArray, out: FloatArray) -> None:
        np.heaviside(z, 0.0, out=out)

    def _second_derivative(self, z: FloatArray, out: FloatArray) -> None:
        out[...] = 0.0


_REGISTRY: dict[str, Activation] = {a.name: a for a in (Tanh(), Sigmoid(), GELU(), ELU(), ReLU())}

ACTIVATION_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get_activation(name: str | Activation) -> Activation:
    """The activation registered under ``name`` (case-insensitive); instances pass through.

    >>> get_activation("GELU").name
    'gelu'
    """
    if isinstance(name, Activation):
        return name
    if isinstance(name, str) and name.strip().lower() in _REGISTRY:
        return _REGISTRY[name.strip().lower()]
    raise RBMInputError(f"unknown activation {name!r} (known: {', '.join(ACTIVATION_NAMES)})")


def warn_if_not_smooth(activation: str | Activation, use: str) -> None:
    """Warn when a non-C^1 activation (ReLU) is used where sigma' must be Lipschitz.

    ``use`` names the purpose, e.g. ``"measure transport"`` or ``"training"``
    (THEORY.md section 9: those results need A2, A3, A5).
    """
    act = get_activation(activation)
    if not act.smooth:
        warnings.warn(
            f"activation {act.name!r} is not C^1: the {use} results assume a Lipschitz "
            "sigma' (THEORY.md section 9), so their bounds do not apply",
            stacklevel=2,
        )
