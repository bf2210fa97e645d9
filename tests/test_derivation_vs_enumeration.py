"""Derived pi, pi_ik, c_s, c_m and V against brute-force enumeration in exact rationals."""
import random

import pytest
import sympy as sp

from rbmtheory.errors import RBMInputError
from rbmtheory.inclusion import inclusion
from rbmtheory.oracles import enumerated_inclusion, enumerated_total, enumerated_variance
from rbmtheory.schemes import Bernoulli, P
from rbmtheory.schemes.registry import scheme_from_spec
from rbmtheory.variance import S2, M2, block_variance, neuron_moments, variance, variance_factors
from schemes_catalogue import CATALOGUE, concrete_cases, symbolic_specs


def oracle_law(scheme):
    """The law as the scheme defines it (Bernoulli: the product of its masks)."""
    return scheme.product_law() if isinstance(scheme, Bernoulli) else scheme.law()


def random_contributions(p, d=2, seed=0):
    rng = random.Random(seed)
    return [[sp.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(d)] for _ in range(p)]


@pytest.mark.parametrize("spec,p", concrete_cases())
def test_inclusion_matches_enumeration(spec, p):
    scheme = scheme_from_spec(spec, p=p)
    law = oracle_law(scheme)
    assert enumerated_total(law) == 1
    pi, joint = enumerated_inclusion(law)
    inc = inclusion(scheme)
    assert list(inc.vector) == pi
    assert inc.matrix.tolist() == joint
    assert inc.pi_min == min(pi)
    assert inc.expected_size == sum(pi)


@pytest.mark.parametrize("spec,p", concrete_cases())
def test_variance_quadratic_form_matches_enumeration(spec, p):
    scheme = scheme_from_spec(spec, p=p)
    f = random_contributions(int(scheme.p), seed=int(scheme.p))
    assert variance(scheme, f) == enumerated_variance(oracle_law(scheme), f)


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
