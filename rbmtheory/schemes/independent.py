"""Independent (Poisson) sampling with neuron-wise keep probabilities q_i."""
from __future__ import annotations

from typing import Any

import sympy as sp

from rbmtheory.errors import RBMInputError
from rbmtheory.laws import BatchLaw, IndependentLaw
from rbmtheory.schemes.base import Scheme, as_probability


class Poisson(Scheme):
    """Neuron i kept independently with probability q_i: pi_i = q_i, pi_ik = q_i q_k.

    >>> from rbmtheory.inclusion import inclusion
    >>> list(inclusion(Poisson(q=[sp.Rational(1, 2), sp.Rational(1, 3)])).vector)
    [1/2, 1/3]
    """

    name = "poisson"
    params = ("q",)

    def __init__(self, q: Any, p: Any = None) -> None:
        if not isinstance(q, (list, tuple)) or not q:
            raise RBMInputError("poisson needs q=[q_1, ..., q_p], one keep probability per neuron")
        self.q = [as_probability(v, f"q[{j}]") for j, v in enumerate(q)]
        super().__init__(p)

    def fixed_p(self) -> sp.Integer:
        return sp.Integer(len(self.q))

    def law(self) -> BatchLaw:
        return IndependentLaw(self.p, tuple(self.q))
