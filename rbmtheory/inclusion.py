"""Inclusion probabilities of a scheme, derived from its law (THEORY.md §2).

* pi_i  = P(i in B),  pi_ik = P(i in B and k in B)  (pi_ii = pi_i);
* pi_min = min_i pi_i (the scheme is well posed iff pi_min > 0);
* E|B| = sum_i pi_i.

For an exchangeable law the common values pi and pi_2 (i != k) are symbolic in p;
for a symbolic partition the block structure (pi_ik = pi inside a block, 0 across);
for a concrete p the exact vector and matrix.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from rbmtheory.laws import ExchangeableLaw, PartitionLaw
from rbmtheory.schemes.base import Scheme


@dataclass(frozen=True)
class Inclusion:
    """The inclusion structure of a scheme.

    ``pi`` and ``pi2`` are the common values of an exchangeable scheme (``pi2`` is
    None for a partition, whose joint probabilities are ``pi`` inside a block and 0
    across); ``vector`` and ``matrix`` are exact for a concrete p (else None).
    """

    p: sp.Expr
    pi: sp.Expr | None
    pi2: sp.Expr | None
    vector: sp.Matrix | None
    matrix: sp.Matrix | None
    pi_min: sp.Expr
    expected_size: sp.Expr


def inclusion(scheme: Scheme, generic: bool = False) -> Inclusion:
    """Derive pi_i, pi_ik, pi_min and E|B| of ``scheme``.

    With ``generic=True`` the scheme's closed forms are ignored, so that tests can
    hold them against the generic derivation.

    >>> from rbmtheory.schemes import Balanced
    >>> inc = inclusion(Balanced(r=3, p=7))
    >>> inc.pi, inc.pi2, inc.expected_size
    (3/7, 1/7, 3)
    """
    law = scheme.law()
    closed = {} if generic else scheme.closed_forms()
    if isinstance(law, ExchangeableLaw):
        pi = sp.simplify(closed.get("pi", law.pi))
        pi2 = sp.simplify(closed.get("pi2", law.pi2))
        vector = matrix = None
        if scheme.concrete:
            n = int(scheme.p)
            vector = sp.Matrix([pi] * n)
            matrix = sp.Matrix(n, n, lambda i, k: pi if i == k else pi2)
        return Inclusion(scheme.p, pi, pi2, vector, matrix, pi, sp.simplify(scheme.p * pi))
    if isinstance(law, PartitionLaw) and not scheme.concrete:
        return Inclusion(scheme.p, law.pi, None, None, None, law.pi, sp.simplify(scheme.p * law.pi))
    vector = closed.get("pi", law.inclusion_vector())
    matrix = closed.get("pi_joint", law.joint_matrix())
    return Inclusion(scheme.p, None, None, vector, matrix, sp.Min(*vector), sp.Add(*vector))

