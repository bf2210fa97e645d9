"""Propositions of the paper that are derived, not asserted.

Proposition 4.1: Bernoulli dropout (i.i.d. masks with keep probability q) is the
"all subsets" scheme with the non-uniform law P(B) = q^|B| (1 - q)^(p - |B|).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from rbmtheory.laws import ExchangeableLaw, IndependentLaw, SizeLaw, z
from rbmtheory.schemes.base import P, symbol


@dataclass(frozen=True)
class Proposition41:
    """The steps of the derivation and whether they hold.

    ``subset_weight`` is P(B) for |B| = k computed from the product law, ``claimed``
    the all-subsets weight q^k (1-q)^(p-k); ``pgf`` the size law's generating function
    derived from the weight (binomial theorem), ``pi``/``pi2`` the inclusion
    probabilities of that size mixture.
    """

    subset_weight: sp.Expr
    claimed: sp.Expr
    pgf: sp.Expr
    pi: sp.Expr
    pi2: sp.Expr
    holds: bool


def proposition_4_1(p: sp.Expr = P, q: sp.Expr | None = None) -> Proposition41:
    """Derive Proposition 4.1 for symbolic (or given) p and q.

    >>> prop = proposition_4_1()
    >>> prop.holds, prop.pi, prop.pi2
    (True, q, q**2)
    """
    q = symbol("q", "prob") if q is None else q
    k = sp.Symbol("k", integer=True, nonnegative=True)
    exchangeable = IndependentLaw(p, q).exchangeable_form()
    weight = exchangeable.size_law.subset_weight(k)
    claimed = q**k * (1 - q) ** (p - k)
    all_subsets = ExchangeableLaw(p, SizeLaw(p, subset_weight=sp.Lambda(k, claimed)))
    pgf = sp.simplify(exchangeable.size_law.pgf)
    holds = (
        sp.simplify(weight - claimed) == 0
        and sp.simplify(pgf - all_subsets.size_law.pgf) == 0
        and sp.simplify(pgf.subs(z, 1) - 1) == 0
    )
    return Proposition41(weight, claimed, pgf, exchangeable.pi, exchangeable.pi2, bool(holds))
