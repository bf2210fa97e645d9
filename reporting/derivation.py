"""A worked derivation of one scheme, as Markdown: every step of the generic machinery
with its result, and the exact enumeration check at small p."""
from __future__ import annotations

import sympy as sp

from rbmtheory.analysis import analyse
from rbmtheory.asymptotics import order_in_p
from rbmtheory.checks import enumeration_checks, small_p_values
from rbmtheory.laws import ExchangeableLaw
from rbmtheory.schemes import Scheme


def _m(expr: sp.Expr) -> str:
    return f"${sp.latex(expr)}$"


def _law_steps(scheme: Scheme) -> list[str]:
    law = scheme.law()
    if not isinstance(law, ExchangeableLaw):
        return [f"- Law: `{type(law).__name__}`; pi_i and pi_ik are read off the batches."]
    size = law.size_law
    return [
        "- The law is a size mixture: K = |B| from a size law, then a uniform K-subset (THEORY.md §2).",
        f"- Probability generating function of K: G(z) = {_m(size.pgf)}.",
        f"- E[K] = G'(1) = {_m(size.mean)}, E[K(K-1)] = G''(1) = {_m(size.factorial_moment2)}.",
        f"- pi = E[K]/p = {_m(law.pi)}, pi_2 = E[K(K-1)]/(p(p-1)) = {_m(law.pi2)}.",
    ]


def _variance_steps(analysis) -> list[str]:
    f = analysis.factors
    if f is None:
        lines = ["- Not exchangeable: V = sum_ik Delta_ik <f_i, f_k>, Delta_ik = pi_ik/(pi_i pi_k) - 1."]
        if analysis.delta is not None:
            lines.append(f"- Delta = {_m(analysis.delta)}.")
        return lines
    return [
        f"- Delta_ii = a = 1/pi - 1 = {_m(f.a)}, Delta_ik = b = pi_2/pi^2 - 1 = {_m(f.b)}.",
        "- V = a sum|f_i|^2 + b sum_{i != k} <f_i, f_k>; with sum|f_i|^2 = p(s^2 + |m|^2) and "
        "|sum f_i|^2 = p^2 |m|^2:",
        f"- c_s = (a - b) p = {_m(f.c_s)}, c_m = (a - b) p + b p^2 = {_m(f.c_m)}.",
        f"- Lambda = c_s Sigma_s + c_m Sigma_m = {_m(analysis.lam)}.",
    ]


def _enumeration_check(scheme: Scheme) -> list[str]:
    """The derivation against exact enumeration at the largest of the first three enumerable p."""
    lines = []
    for p in small_p_values(scheme)[-1:]:
        concrete = scheme if scheme.concrete else scheme.at(p)
        checks = enumeration_checks(concrete)
        verdict = "all agree" if all(c.passed for c in checks) else "DISAGREE: " + ", ".join(
            c.name for c in checks if not c.passed)
        lines.append(f"- Enumeration at p = {p} (exact rationals; {checks[0].detail}): "
                     + ", ".join(c.name for c in checks) + f" — {verdict}.")
    return lines


def worked_derivation(scheme: Scheme) -> str:
    """Markdown: the derivation steps for ``scheme`` and the enumeration check at a small p."""
    analysis = analyse(scheme)
    inc = analysis.inclusion
    lines = [f"## Worked derivation: `{scheme.spec()}` (p = {scheme.p})", ""]
    lines += _law_steps(scheme)
    lines += [f"- pi_min = {_m(inc.pi_min)}, E|B| = {_m(inc.expected_size)}."]
    lines += _variance_steps(analysis)
    lines += [
        f"- Imbalance (equal L_i = L/p): L_pi = max_B sum_(i in B) L_i/pi_i = {_m(analysis.lipschitz_pi)}, "
        f"iota = {_m(analysis.imbalance)}.",
        f"- S_bound = (2 + L_pi) Lambda exp((2 + h) L_pi T) = {_m(analysis.s_bound)} (THEORY.md §5).",
    ]
    if scheme.exchangeable and not scheme.concrete:
        lines.append(f"- Order in p (mean-field): Lambda {order_in_p(analysis.lam)}, "
                     f"S_bound {order_in_p(analysis.s_bound)}.")
    lines += _enumeration_check(scheme)
    return "\n".join(lines) + "\n"

