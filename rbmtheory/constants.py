"""Error constants of the trajectory estimate (THEORY.md §5, Theorem 3.1).

sup_t E|x(t) - x_h(t)|^2 <= S h with the explicit admissible constant

    S_bound = (2 + L_pi) Lambda(T) exp((2 + h) L_pi T),

obtained from d/dt|e|^2 <= 2 L_pi |e|^2 + 2<e(t_{k-1}), delta> + 2<e(t) - e(t_{k-1}), delta>
(the middle term has mean zero, the last is bounded by Young's inequality) and
Grönwall. It is rigorous and typically loose by orders of magnitude; the sharp
leading-order constant C_lead = trace P(T) of the Lyapunov ODE is computed
numerically in :mod:`numerics.lyapunov`.
"""
from __future__ import annotations

import sympy as sp

from rbmtheory.levers import lipschitz_pi
from rbmtheory.schemes.base import Scheme
from rbmtheory.variance import integrated_variance, readable

LAMBDA, L_PI, T, H = sp.symbols("Lambda L_pi T h", positive=True)

#: S_bound in terms of Lambda, L_pi, T and h
S_BOUND = (2 + L_PI) * LAMBDA * sp.exp((2 + H) * L_PI * T)


def s_bound(scheme: Scheme | None = None) -> sp.Expr:
    """S_bound, with the scheme's L_pi (equal L_i = L/p) and Lambda substituted.

    >>> from rbmtheory.schemes import PickOne
    >>> s_bound(PickOne())
    Sigma_s*p**2*(L + 2)*exp(L*T*(h + 2))
    """
    if scheme is None:
        return S_BOUND
    lam = integrated_variance(scheme) if scheme.exchangeable else LAMBDA
    return readable(S_BOUND.subs({L_PI: lipschitz_pi(scheme), LAMBDA: lam}))
