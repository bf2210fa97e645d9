"""Design levers of a scheme (THEORY.md §4, paper Section 4.1).

1. the time-integrated variance Lambda (:func:`rbmtheory.variance.integrated_variance`);
2. the sampling imbalance: the worst-case Lipschitz constant of the random field

       L_pi = max_B sum_{i in B} L_i / pi_i   (<= L / pi_min),   iota = L_pi / L;

3. the minimal inclusion probability pi_min (:func:`rbmtheory.inclusion.inclusion`).

With equal neuron-wise constants L_i = L/p the imbalance is symbolic; with a given
vector L_i it is exact for that vector.
"""
from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from rbmtheory.errors import RBMInputError
from rbmtheory.inclusion import inclusion
from rbmtheory.laws import ExchangeableLaw, PartitionLaw
from rbmtheory.schemes.base import Scheme

L = sp.Symbol("L", positive=True)


def lipschitz_pi(scheme: Scheme, lipschitz: Sequence[float] | None = None) -> sp.Expr:
    """L_pi = max_B sum_{i in B} L_i / pi_i; with ``lipschitz`` None, L_i = L/p.

    >>> from rbmtheory.schemes import AllSubsets, Bernoulli
    >>> lipschitz_pi(AllSubsets())
    2*L
    >>> lipschitz_pi(Bernoulli(q=sp.Rational(1, 4), p=3), [1, 2, 3])
    24
    """
    law = scheme.law()
    inc = inclusion(scheme)
    if lipschitz is None:
        if isinstance(law, ExchangeableLaw):
            return sp.simplify(law.size_law.max_size * (L / scheme.p) / inc.pi)
        if isinstance(law, PartitionLaw) and not scheme.concrete:
            return sp.simplify(law.block_size * (L / scheme.p) / law.pi)
    if not scheme.concrete:
        raise RBMInputError("neuron-wise Lipschitz constants need a concrete p")
    if lipschitz is None:  # equal L_i = L/p: maximise with L = 1, then scale
        return L * lipschitz_pi(scheme, [sp.Integer(1) / scheme.p] * int(scheme.p))
    if len(lipschitz) != int(scheme.p):
        raise RBMInputError(f"got {len(lipschitz)} Lipschitz constants for p = {scheme.p} neurons")
    weights = [sp.nsimplify(li) / pi_i for li, pi_i in zip(lipschitz, inc.vector)]
    return sp.simplify(law.max_batch_sum(weights))


def imbalance(scheme: Scheme, lipschitz: Sequence[float] | None = None) -> sp.Expr:
    """iota = L_pi / L (1 for fixed-size uniform schemes with equal L_i).

    >>> from rbmtheory.schemes import Bernoulli
    >>> imbalance(Bernoulli(q=sp.Symbol('q', positive=True)))
    1/q
    """
    total = L if lipschitz is None else sp.Add(*[sp.nsimplify(v) for v in lipschitz])
    return sp.simplify(lipschitz_pi(scheme, lipschitz) / total)
