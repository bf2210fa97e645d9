"""Checks of a scheme's derivation against exact oracles, for ``rbmtheory check``.

Each check returns a :class:`Check` (name, passed, detail). They compare the generic
derivation with brute-force enumeration in exact rationals (:mod:`rbmtheory.oracles`)
and verify the identities of THEORY.md §2.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

from rbmtheory.errors import RBMInputError
from rbmtheory.inclusion import inclusion
from rbmtheory.oracles import enumerated_inclusion, enumerated_total, enumerated_variance
from rbmtheory.schemes.base import Scheme
from rbmtheory.variance import M2, S2, design_matrix, neuron_moments, variance, variance_factors

#: enumeration is exact but exponential: checks stop at this many batches
MAX_CHECK_BATCHES = 5000


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def defining_law(scheme: Scheme):
    """The law as written in the definition (Bernoulli: its product of masks)."""
    product = getattr(scheme, "product_law", None)
    return product() if product is not None else scheme.law()


def enumeration_checks(scheme: Scheme, seed: int = 0) -> list[Check]:
    """pi_i, pi_ik, V (quadratic form and, if exchangeable, c_s s^2 + c_m |m|^2) vs enumeration."""
    law = defining_law(scheme)
    batches = list(law.enumerate())
    if len(batches) > MAX_CHECK_BATCHES:
        raise RBMInputError(f"{scheme.spec()} at p = {scheme.p} has {len(batches)} batches; choose a smaller p")
    p = int(scheme.p)
    pi, joint = enumerated_inclusion(law)
    inc = inclusion(scheme)
    rng = random.Random(seed)
    f = [[sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(2)] for _ in range(p)]
    exact = enumerated_variance(law, f)
    checks = [
        Check("total probability", enumerated_total(law) == 1, f"{len(batches)} batches"),
        Check("pi_i", list(inc.vector) == pi, f"derived {list(inc.vector)}, enumerated {pi}"),
        Check("pi_ik", inc.matrix.tolist() == joint, "derived matrix vs enumerated matrix"),
        Check("V = sum Delta_ik <f_i, f_k>", variance(scheme, f) == exact, f"enumerated V = {exact}"),
    ]
    if scheme.exchangeable:
        factors = variance_factors(scheme)
        s2, m2 = neuron_moments(f)
        value = (factors.c_s * S2 + factors.c_m * M2).subs({S2: s2, M2: m2})
        checks.append(Check("V = c_s s^2 + c_m |m|^2", sp.simplify(value - exact) == 0, f"{value} vs {exact}"))
    return checks


def identity_checks(scheme: Scheme) -> list[Check]:
    """THEORY.md §2: sum pi = E|B|, row sums of pi_ik, Fréchet bounds, Delta PSD."""
    inc = inclusion(scheme)
    pi, joint, p = inc.vector, inc.matrix, int(scheme.p)
    batches = list(defining_law(scheme).enumerate())
    rows = all(sum(joint.row(i)) == sum(len(b) * q for b, q in batches if i in b) for i in range(p))
    frechet = all(max(0, pi[i] + pi[k] - 1) <= joint[i, k] <= min(pi[i], pi[k]) for i in range(p) for k in range(p))
    return [
        Check("sum_i pi_i = E|B|", sum(pi) == sum(len(b) * q for b, q in batches), f"E|B| = {sum(pi)}"),
        Check("sum_k pi_ik = E[|B| 1{i in B}]", rows, "every row"),
        Check("Frechet bounds", frechet, "max(0, pi_i + pi_k - 1) <= pi_ik <= min(pi_i, pi_k)"),
        Check("Delta positive semidefinite", bool(design_matrix(scheme).is_positive_semidefinite), "exact"),
        Check("covering (pi_min > 0)", inc.pi_min > 0, f"pi_min = {inc.pi_min}"),
    ]


def small_p_values(scheme: Scheme, count: int = 3) -> list[int]:
    """Concrete p at which a scheme with free p can be enumerated (its fixed p otherwise)."""
    if scheme.fixed_p() is not None:
        return [int(scheme.p)]
    found = []
    for p in range(2, 13):
        try:
            candidate = scheme.at(p)
            if sum(1 for _ in defining_law(candidate).enumerate()) <= MAX_CHECK_BATCHES:
                found.append(p)
        except RBMInputError:
            continue
        if len(found) == count:
            break
    return found
