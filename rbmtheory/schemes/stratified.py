"""Stratified sampling: r_s neurons uniformly from each stratum s, independently."""
from __future__ import annotations

from typing import Any

import sympy as sp

from rbmtheory.errors import RBMInputError
from rbmtheory.laws import BatchLaw, ExchangeableLaw, ProductLaw, SizeLaw
from rbmtheory.schemes.base import Scheme, as_size
from rbmtheory.schemes.partition import _blocks, _check_partition


class Stratified(Scheme):
    """B = union of uniform r_s-subsets of the strata (a product of balanced laws).

    Within stratum s of size n_s: pi_i = r_s/n_s, pi_ik = r_s(r_s-1)/(n_s(n_s-1));
    across strata pi_ik = pi_i pi_k.

    >>> from rbmtheory.inclusion import inclusion
    >>> list(inclusion(Stratified(strata=[[0, 1, 2], [3, 4]], r=[1, 1])).vector)
    [1/3, 1/3, 1/3, 1/2, 1/2]
    """

    name = "stratified"
    params = ("strata", "r")

    def __init__(self, strata: Any, r: Any, p: Any = None) -> None:
        self.strata = [list(s) for s in _blocks(strata)]
        if not isinstance(r, (list, tuple)) or len(r) != len(self.strata):
            raise RBMInputError(f"stratified needs one r per stratum: {len(self.strata)} strata, r = {r}")
        self.r = [as_size(v, f"r[{s}]") for s, v in enumerate(r)]
        super().__init__(p)

    def fixed_p(self) -> sp.Integer:
        return sp.Integer(sum(len(s) for s in self.strata))

    def check(self) -> None:
        super().check()
        _check_partition(tuple(tuple(s) for s in self.strata), int(self.p), "strata")
        for s, (stratum, r) in enumerate(zip(self.strata, self.r)):
            if r > len(stratum):
                raise RBMInputError(f"stratified r[{s}] = {r} exceeds the {len(stratum)} neurons of stratum {s}")

    def law(self) -> BatchLaw:
        components = []
        for stratum, r in zip(self.strata, self.r):
            n = sp.Integer(len(stratum))
            components.append(ExchangeableLaw(n, SizeLaw(n, atoms=((r, sp.Integer(1)),))))
        return ProductLaw(self.p, tuple(tuple(s) for s in self.strata), tuple(components))
