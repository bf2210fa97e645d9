"""Exact oracles by brute-force enumeration of a scheme's batches (THEORY.md §10).

These use nothing but ``law.enumerate()`` — the list of batches with their exact
probabilities — and the definitions, so they are independent of the structured
derivations in :mod:`rbmtheory.inclusion` and :mod:`rbmtheory.variance`.
"""
from __future__ import annotations

import sympy as sp

from rbmtheory.laws import BatchLaw


def enumerated_inclusion(law: BatchLaw) -> tuple[list[sp.Expr], list[list[sp.Expr]]]:
    """(pi_i, pi_ik) summed over the enumerated batches, pi_ii = pi_i."""
    n = int(law.p)
    pi = [sp.Integer(0)] * n
    joint = [[sp.Integer(0)] * n for _ in range(n)]
    for batch, prob in law.enumerate():
        for i in batch:
            pi[i] += prob
            for k in batch:
                joint[i][k] += prob
    return pi, joint


def enumerated_variance(law: BatchLaw, contributions: list[list[sp.Expr]]) -> sp.Expr:
    """E|F^omega - F|^2 with F^omega = sum_{i in B} f_i / pi_i, averaged over the batches."""
    pi, _ = enumerated_inclusion(law)
    f = sp.Matrix(contributions)
    full = sum((f.row(i) for i in range(f.rows)), sp.zeros(1, f.cols))
    total = sp.Integer(0)
    for batch, prob in law.enumerate():
        field = sum((f.row(i) / pi[i] for i in batch), sp.zeros(1, f.cols))
        total += prob * (field - full).dot(field - full)
    return sp.simplify(total)


def enumerated_total(law: BatchLaw) -> sp.Expr:
    """The total probability of the enumerated batches (must be 1)."""
    return sp.Add(*[prob for _, prob in law.enumerate()])
