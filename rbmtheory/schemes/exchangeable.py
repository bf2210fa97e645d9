"""Exchangeable schemes: a law on the batch size K, then a uniform K-subset.

THEORY.md §2: schemes 1, 2, 3, 4, 6 and 7 of the paper's Section 4.1 are all of this
kind; a new exchangeable scheme is fully described by its size law
(:class:`SizeMixture`).
"""
from __future__ import annotations

from typing import Any

import sympy as sp

from rbmtheory.errors import RBMInputError
from rbmtheory.laws import BatchLaw, ExchangeableLaw, IndependentLaw, SizeLaw
from rbmtheory.schemes.base import Scheme, as_probability, as_size, check_total, require

_k = sp.Symbol("k", integer=True, nonnegative=True)


def _fixed_size(p: sp.Expr, size: sp.Expr) -> ExchangeableLaw:
    return ExchangeableLaw(p, SizeLaw(p, atoms=((size, sp.Integer(1)),)))


class Single(Scheme):
    """Scheme 1, single batch: B = [p] always; pi_i = 1, the RBM is the full model.

    >>> from rbmtheory.inclusion import inclusion
    >>> inclusion(Single()).pi
    1
    """

    name = "single"

    def law(self) -> BatchLaw:
        return _fixed_size(self.p, self.p)


class DropOne(Scheme):
    """Scheme 2, drop-one: B = [p] minus a uniform j; pi_i = (p-1)/p.

    >>> from rbmtheory.inclusion import inclusion
    >>> inclusion(DropOne()).pi
    (p - 1)/p
    """

    name = "drop-one"

    def check(self) -> None:
        super().check()
        require(self.p >= 2, f"drop-one needs p >= 2, got p = {self.p}")

    def law(self) -> BatchLaw:
        return _fixed_size(self.p, self.p - 1)

    def closed_forms(self) -> dict[str, sp.Expr]:
        p = self.p
        return {"pi": (p - 1) / p, "pi2": (p - 2) / p, "c_s": p**2 / (p - 1) ** 2, "c_m": sp.Integer(0)}


class PickOne(Scheme):
    """Scheme 3, pick-one: B = {j}, j uniform; pi_i = 1/p, pi_ik = 0.

    >>> from rbmtheory.variance import variance_factors
    >>> variance_factors(PickOne()).c_s
    p**2
    """

    name = "pick-one"

    def law(self) -> BatchLaw:
        return _fixed_size(self.p, sp.Integer(1))

    def closed_forms(self) -> dict[str, sp.Expr]:
        return {"pi": 1 / self.p, "pi2": sp.Integer(0), "c_s": self.p**2, "c_m": sp.Integer(0)}


class Balanced(Scheme):
    """Scheme 4, balanced r-subsets: B uniform among the C(p, r) subsets of size r.

    pi = r/p, pi_2 = r(r-1)/(p(p-1)), c_s = p^2 (p - r)/(r (p - 1)), c_m = 0.

    >>> from rbmtheory.variance import variance_factors
    >>> variance_factors(Balanced(r=3, p=7)).c_s
    98/9
    """

    name = "balanced"
    params = ("r",)

    def __init__(self, r: Any, p: Any = None) -> None:
        self.r = as_size(r, "r")
        super().__init__(p)

    def check(self) -> None:
        super().check()
        require(self.r <= self.p, f"balanced needs r <= p, got r = {self.r}, p = {self.p}")

    def law(self) -> BatchLaw:
        return _fixed_size(self.p, self.r)

    def closed_forms(self) -> dict[str, sp.Expr]:
        p, r = self.p, self.r
        if p == 1:  # the closed forms are 0/0 at p = r = 1: the generic derivation handles it
            return {}
        return {
            "pi": r / p,
            "pi2": r * (r - 1) / (p * (p - 1)),
            "c_s": p**2 * (p - r) / (r * (p - 1)),
            "c_m": sp.Integer(0),
        }


class AllSubsets(Scheme):
    """Scheme 6, all subsets: B uniform among all 2^p subsets (empty set included).

    Each set has probability w(k) = 2^-p, so the size law is Bin(p, 1/2).

    >>> from rbmtheory.variance import variance_factors
    >>> f = variance_factors(AllSubsets())
    >>> f.c_s, f.c_m
    (p, p)
    """

    name = "all-subsets"

    def law(self) -> BatchLaw:
        return ExchangeableLaw(self.p, SizeLaw(self.p, subset_weight=sp.Lambda(_k, sp.Integer(2) ** (-self.p))))


class Bernoulli(Scheme):
    """Scheme 7, Bernoulli dropout: each neuron kept independently with probability q.

    Defined as the product law; Proposition 4.1 (see :mod:`rbmtheory.propositions`)
    derives that it is "all subsets" with P(B) = q^|B| (1-q)^(p-|B|).

    >>> from rbmtheory.variance import variance_factors
    >>> variance_factors(Bernoulli(q=sp.Rational(1, 3))).c_s
    2*p
    """

    name = "bernoulli"
    params = ("q",)

    def __init__(self, q: Any, p: Any = None) -> None:
        self.q = as_probability(q, "q")
        super().__init__(p)

    def law(self) -> BatchLaw:
        return IndependentLaw(self.p, self.q).exchangeable_form()

    def product_law(self) -> IndependentLaw:
        """The definition as written: i.i.d. Bernoulli(q) masks."""
        return IndependentLaw(self.p, self.q)


class SizeMixture(Scheme):
    """A new exchangeable scheme from its size law: K = k with probability sizes[k].

    >>> from rbmtheory.inclusion import inclusion
    >>> s = SizeMixture(sizes={1: sp.Rational(1, 3), 4: sp.Rational(2, 3)})
    >>> inclusion(s).pi
    3/p
    """

    name = "size-mixture"
    params = ("sizes",)

    def __init__(self, sizes: dict[Any, Any], p: Any = None) -> None:
        if not isinstance(sizes, dict) or not sizes:
            raise RBMInputError("size-mixture needs sizes={size: probability, ...}")
        self.sizes = {_size(k): as_probability(v, f"probability of size {k}", allow_zero=True) for k, v in sizes.items()}
        check_total(list(self.sizes.values()), "size-mixture probabilities")
        super().__init__(p)

    def check(self) -> None:
        super().check()
        for k in self.sizes:
            require(k <= self.p, f"size-mixture size {k} exceeds p = {self.p}")

    def law(self) -> BatchLaw:
        return ExchangeableLaw(self.p, SizeLaw(self.p, atoms=tuple(self.sizes.items())))


def _size(value: Any) -> sp.Integer:
    number = sp.Rational(value) if not isinstance(value, sp.Basic) else value
    if not (number.is_Integer and number >= 0):
        raise RBMInputError(f"a batch size must be a non-negative integer, got {value}")
    return sp.Integer(number)
