"""Sampling schemes: one module per family, all following :mod:`rbmtheory.schemes.base`."""
from rbmtheory.schemes.base import P, Scheme
from rbmtheory.schemes.exchangeable import AllSubsets, Balanced, Bernoulli, DropOne, PickOne, Single, SizeMixture
from rbmtheory.schemes.finite import Family, WeightedDropOne, WeightedPickOne
from rbmtheory.schemes.independent import Poisson
from rbmtheory.schemes.partition import Disjoint
from rbmtheory.schemes.stratified import Stratified

#: the paper's seven canonical schemes (Section 4.1), symbolic in p, r and q
def canonical_schemes() -> list[Scheme]:
    from rbmtheory.schemes.base import symbol

    r, q = symbol("r", "size"), symbol("q", "prob")
    return [Single(), DropOne(), PickOne(), Balanced(r=r), Disjoint(r=r), AllSubsets(), Bernoulli(q=q)]


__all__ = [
    "P", "Scheme", "AllSubsets", "Balanced", "Bernoulli", "DropOne", "PickOne", "Single", "SizeMixture",
    "Family", "WeightedDropOne", "WeightedPickOne", "Poisson", "Disjoint", "Stratified", "canonical_schemes",
]
