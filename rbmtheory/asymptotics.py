"""Wide-width asymptotics: the order in p of Lambda and S_bound (THEORY.md §3).

The order depends on how the neurons scale with the width, which the user chooses:

* ``mean-field`` (default): f_i = O(1/p), so F = O(1); then s^2, |m|^2 = O(p^-2) and
  Sigma_s, Sigma_m = O(p^-2), while L = sum_i L_i = O(1);
* ``unit``: f_i = O(1); then Sigma_s, Sigma_m = O(1) and L = O(p).

Batch-size regimes: r fixed, or r = alpha p with 0 < alpha < 1 fixed; q fixed.
The order is the sympy ``Order`` of the expression as p -> oo.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from rbmtheory.errors import RBMInputError
from rbmtheory.levers import L
from rbmtheory.schemes.base import P
from rbmtheory.variance import SIGMA_M, SIGMA_S

SCALINGS = ("mean-field", "unit")
ALPHA = sp.Symbol("alpha", positive=True)
_sigma_s, _sigma_m, _ell = sp.symbols("sigma_s sigma_m ell", positive=True)


def scaling_substitution(scaling: str) -> dict[sp.Symbol, sp.Expr]:
    """How Sigma_s, Sigma_m and L grow with p under ``scaling``."""
    if scaling == "mean-field":
        return {SIGMA_S: _sigma_s / P**2, SIGMA_M: _sigma_m / P**2, L: _ell}
    if scaling == "unit":
        return {SIGMA_S: _sigma_s, SIGMA_M: _sigma_m, L: _ell * P}
    raise RBMInputError(f"unknown scaling {scaling!r}; choose one of {', '.join(SCALINGS)}")


@dataclass(frozen=True)
class Growth:
    """The order of a quantity in p: ``order`` (a sympy Order at p = oo, or 0) times
    an exponential factor ``exponential`` (1 when there is none), kept apart because
    sympy's Order absorbs exponentials unreliably."""

    order: sp.Expr
    exponential: sp.Expr = sp.Integer(1)

    def __str__(self) -> str:
        if self.order == 0:
            return "0"
        text = f"O({sp.sstr(self.order.expr)})"
        return text if self.exponential == 1 else f"{text}*{sp.sstr(self.exponential)}"

    def latex(self) -> str:
        if self.order == 0:
            return "0"
        text = rf"O\left({sp.latex(self.order.expr)}\right)"
        return text if self.exponential == 1 else rf"{text}\,{sp.latex(self.exponential)}"


def order_in_p(expr: sp.Expr, scaling: str = "mean-field", proportional: sp.Symbol | None = None) -> Growth:
    """The order of ``expr`` as p -> oo; ``proportional`` = r makes r = alpha p.

    The exponential factors of the expression (Grönwall's exp(c L_pi T)) are split
    off and kept exactly — an exponential growth in p is reported, not absorbed —
    and the order of the rest is sympy's ``Order`` at p = oo.

    >>> r = sp.Symbol('r', positive=True, integer=True)
    >>> lam = SIGMA_S * P**2 * (P - r) / (r * (P - 1))
    >>> print(order_in_p(lam), order_in_p(lam, proportional=r))
    O(1) O(1/p)
    >>> print(order_in_p(lam * sp.exp(L), scaling="unit"))
    O(p**2)*exp(ell*p)
    """
    subs = scaling_substitution(scaling)
    if proportional is not None:
        subs[proportional] = ALPHA * P
    value = sp.powsimp(sp.simplify(expr.subs(subs)), combine="exp")
    if value == 0:
        return Growth(sp.Integer(0))
    factors = sp.Mul.make_args(value)
    grows = [isinstance(f, sp.exp) and f.has(P) for f in factors]
    exponential = sp.Mul(*[f for f, g in zip(factors, grows) if g])
    rest = sp.Mul(*[f for f, g in zip(factors, grows) if not g])
    return Growth(sp.Order(rest, (P, sp.oo)), exponential)
