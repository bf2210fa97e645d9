"""Everything the toolkit derives about one scheme, in one object (the ``scheme`` command).

:func:`analyse` collects the inclusion structure, the design matrix, the variance
factors (exchangeable schemes) or the block form (partitions), Lambda, the levers
and S_bound; :meth:`SchemeAnalysis.as_strings` gives every value as a string that
sympy can parse back (exact rationals like "3/7", expressions in p, r, q).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from rbmtheory.constants import s_bound
from rbmtheory.inclusion import Inclusion, inclusion
from rbmtheory.levers import imbalance, lipschitz_pi
from rbmtheory.schemes.base import Scheme
from rbmtheory.variance import VarianceFactors, design_matrix, integrated_variance, variance_factors


@dataclass(frozen=True)
class SchemeAnalysis:
    """Derived quantities of a scheme; ``factors`` is None for a non-exchangeable one."""

    scheme: Scheme
    inclusion: Inclusion
    factors: VarianceFactors | None
    delta: sp.Matrix | None
    lam: sp.Expr
    lipschitz_pi: sp.Expr
    imbalance: sp.Expr
    s_bound: sp.Expr

    def as_strings(self) -> dict[str, Any]:
        """The JSON contract of ``rbmtheory scheme --json``."""
        inc = self.inclusion
        pi = list(inc.vector) if inc.vector is not None else [inc.pi]
        out: dict[str, Any] = {
            "scheme": self.scheme.spec(),
            "p": sp.sstr(self.scheme.p),
            "exchangeable": self.scheme.exchangeable,
            "pi": [sp.sstr(v) for v in pi],
            "pi2": sp.sstr(inc.pi2) if inc.pi2 is not None else None,
            "pi_joint": _matrix(inc.matrix),
            "pi_min": sp.sstr(inc.pi_min),
            "expected_batch_size": sp.sstr(inc.expected_size),
            "delta": _matrix(self.delta),
            "c_s": sp.sstr(self.factors.c_s) if self.factors else None,
            "c_m": sp.sstr(self.factors.c_m) if self.factors else None,
            "Lambda": sp.sstr(self.lam),
            "L_pi": sp.sstr(self.lipschitz_pi),
            "imbalance": sp.sstr(self.imbalance),
            "S_bound": sp.sstr(self.s_bound),
        }
        return out

    def as_latex(self) -> dict[str, str]:
        """The same quantities in LaTeX (matrices omitted)."""
        inc = self.inclusion
        rows = {
            r"\pi_i": inc.pi if inc.pi is not None else inc.vector.T,
            r"\pi_{ik}\ (i \ne k)": inc.pi2,
            r"\pi_{\min}": inc.pi_min,
            r"\mathrm{E}|B|": inc.expected_size,
            "c_s": self.factors.c_s if self.factors else None,
            "c_m": self.factors.c_m if self.factors else None,
            r"\Lambda": self.lam,
            r"L_\pi": self.lipschitz_pi,
            r"\iota": self.imbalance,
            r"S_{\mathrm{bound}}": self.s_bound,
        }
        return {k: sp.latex(v) for k, v in rows.items() if v is not None}


def _matrix(m: sp.Matrix | None) -> list[list[str]] | None:
    return None if m is None else [[sp.sstr(m[i, k]) for k in range(m.cols)] for i in range(m.rows)]


def analyse(scheme: Scheme) -> SchemeAnalysis:
    """Derive everything for ``scheme`` (symbolic p, or the exact values at a concrete p).

    >>> from rbmtheory.schemes import Balanced
    >>> a = analyse(Balanced(r=3, p=7)).as_strings()
    >>> a["pi"][0], a["pi2"], a["c_s"], a["c_m"]
    ('3/7', '1/7', '98/9', '0')
    """
    inc = inclusion(scheme)
    factors = variance_factors(scheme) if scheme.exchangeable else None
    delta = design_matrix(scheme) if inc.matrix is not None else None
    lam = integrated_variance(scheme) if (factors is not None or delta is not None) else sp.Symbol("Lambda")
    return SchemeAnalysis(scheme, inc, factors, delta, lam, lipschitz_pi(scheme), imbalance(scheme), s_bound(scheme))
