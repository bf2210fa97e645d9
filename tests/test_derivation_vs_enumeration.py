"""Derived pi, pi_ik, c_s, c_m and V against brute-force enumeration in exact rationals."""
import random

import pytest
import sympy as sp

from rbmtheory.errors import RBMInputError
from rbmtheory.inclusion import inclusion
from rbmtheory.oracles import enumerated_inclusion, enumerated_variance
from rbmtheory.checks import defining_law as oracle_law, enumeration_checks
from rbmtheory.schemes import Balanced, P
from rbmtheory.schemes.registry import scheme_from_spec
from rbmtheory.variance import S2, M2, block_variance, neuron_moments, variance_factors
from schemes_catalogue import CATALOGUE, concrete_cases, symbolic_specs


def random_contributions(p, d=2, seed=0):
    rng = random.Random(seed)
    return [[sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(d)] for _ in range(p)]


@pytest.mark.parametrize("spec,p", concrete_cases())
def test_derivation_matches_enumeration(spec, p):
    """pi_i, pi_ik, the Delta quadratic form and c_s s^2 + c_m |m|^2 against enumeration."""
    scheme = scheme_from_spec(spec, p=p)
    failed = [c for c in enumeration_checks(scheme, seed=int(scheme.p)) if not c.passed]
    assert not failed, failed


def test_enumeration_checks_catch_a_wrong_closed_form():
    """The checks are not vacuous: a wrong override of pi_2 and of c_s is caught."""

    class Broken(Balanced):
        def closed_forms(self):
            forms = super().closed_forms()
            return {**forms, "pi2": forms["pi2"] * 2, "c_s": forms["c_s"] + 1}

    failed = {c.name for c in enumeration_checks(Broken(r=2, p=4)) if not c.passed}
    assert failed == {"pi_ik", "V = sum Delta_ik <f_i, f_k>", "V = c_s s^2 + c_m |m|^2"}


@pytest.mark.parametrize("spec,ps", symbolic_specs())
def test_symbolic_results_at_concrete_p(spec, ps):
    """Derive with symbolic p, substitute p, compare with enumeration at that p."""
    symbolic = scheme_from_spec(spec)
    inc = inclusion(symbolic)
    factors = variance_factors(symbolic) if symbolic.exchangeable else None
    for p in ps:
        law = oracle_law(symbolic.at(p))
        pi, joint = enumerated_inclusion(law)
        assert all(sp.simplify(inc.pi.subs(P, p) - v) == 0 for v in pi)
        if inc.pi2 is not None and p >= 2:
            assert sp.simplify(inc.pi2.subs(P, p) - joint[0][1]) == 0
        if factors is None:
            continue
        for seed in range(2):
            f = random_contributions(p, seed=seed)
            s2, m2 = neuron_moments(f)
            formula = (factors.c_s * S2 + factors.c_m * M2).subs({P: p, S2: s2, M2: m2})
            assert sp.simplify(formula - enumerated_variance(law, f)) == 0, (spec, p)


@pytest.mark.parametrize("spec,p", [(s, p) for s, p in concrete_cases() if s.startswith("disjoint")])
def test_block_form_matches_enumeration(spec, p):
    scheme = scheme_from_spec(spec, p=p)
    f = random_contributions(int(scheme.p), seed=3)
    assert block_variance(scheme, f) == enumerated_variance(scheme.law(), f)


def test_every_catalogue_error_case_is_rejected():
    for spec, ps in CATALOGUE:
        if ps == "error":
            with pytest.raises(RBMInputError):
                scheme_from_spec(spec)


def test_balanced_r3_p7_values_of_the_issue():
    scheme = scheme_from_spec("balanced(r=3)", p=7)
    inc, f = inclusion(scheme), variance_factors(scheme)
    assert (inc.pi, inc.pi2, f.c_s, f.c_m) == (sp.Rational(3, 7), sp.Rational(1, 7), sp.Rational(98, 9), 0)
