"""THEORY.md §2 identities, closed forms against the generic derivation, Proposition 4.1."""
import itertools
import random

import pytest
import sympy as sp

from rbmtheory.checks import identity_checks
from rbmtheory.inclusion import inclusion
from rbmtheory.laws import ExchangeableLaw, SizeLaw
from rbmtheory.levers import imbalance, lipschitz_pi
from rbmtheory.propositions import proposition_4_1
from rbmtheory.schemes import Balanced, Bernoulli, Disjoint, P, canonical_schemes
from rbmtheory.schemes.base import symbol
from rbmtheory.schemes.registry import scheme_from_spec
from rbmtheory.variance import partition_variance_bound, variance, variance_factors
from schemes_catalogue import CATALOGUE, concrete_cases


@pytest.mark.parametrize("spec,p", concrete_cases())
def test_identities(spec, p):
    failed = [c for c in identity_checks(scheme_from_spec(spec, p=p)) if not c.passed]
    assert not failed, failed


def test_identity_checks_catch_a_bad_joint_matrix():
    class Broken(Balanced):
        def law(self):
            law = super().law()
            return type(law)(law.p, law.size_law)

        def closed_forms(self):
            return {**super().closed_forms(), "pi2": sp.Integer(1)}  # violates Frechet: pi_ik > pi_i

    failed = {c.name for c in identity_checks(Broken(r=2, p=4)) if not c.passed}
    assert "Frechet bounds" in failed and "sum_k pi_ik = E[|B| 1{i in B}]" in failed


@pytest.mark.parametrize("spec,p", [("balanced(r=3)", 7), ("disjoint(r=2)", 6), ("pick-one", 4), ("drop-one", 5)])
def test_fixed_size_row_sums(spec, p):
    scheme = scheme_from_spec(spec, p=p)
    inc = inclusion(scheme)
    r = inc.expected_size
    for i in range(p):
        assert sum(inc.matrix.row(i)) - inc.vector[i] == (r - 1) * inc.vector[i]


def closed_form_cases():
    cases = [(s.spec(), None) for s in canonical_schemes()]
    cases += [(spec, p) for spec, ps in CATALOGUE if ps is None for p in [None]]
    cases += [("balanced(r=3)", 7), ("drop-one", 5), ("pick-one", 4)]
    return cases


@pytest.mark.parametrize("spec,p", closed_form_cases())
def test_closed_forms_agree_with_generic_derivation(spec, p):
    scheme = scheme_from_spec(spec, p=p)
    closed = scheme.closed_forms()
    generic_inc, inc = inclusion(scheme, generic=True), inclusion(scheme)
    for key, value in closed.items():
        if key in ("pi", "pi2") and generic_inc.pi is not None:
            assert sp.simplify(getattr(generic_inc, key) - value) == 0, key
        elif key == "pi":
            assert sp.simplify(generic_inc.vector - value) == sp.zeros(*value.shape)
        elif key == "pi_joint":
            assert sp.simplify(generic_inc.matrix - value) == sp.zeros(*value.shape)
        else:
            assert sp.simplify(getattr(variance_factors(scheme, generic=True), key) - value) == 0, key
    if closed:
        assert inc.pi_min is not None


def test_every_canonical_override_is_checked():
    """The schemes with closed forms are exactly those the previous test visits."""
    visited = {scheme_from_spec(s, p=p).name for s, p in closed_form_cases()}
    assert {s.name for s in canonical_schemes() if s.closed_forms()} <= visited


def test_proposition_4_1_derived():
    prop = proposition_4_1()
    assert prop.holds
    q = symbol("q", "prob")
    assert sp.simplify(prop.pi - q) == 0 and sp.simplify(prop.pi2 - q**2) == 0


@pytest.mark.parametrize("p,q", [(3, sp.Rational(1, 3)), (5, sp.Rational(3, 4)), (4, sp.Rational(1, 2))])
def test_proposition_4_1_by_enumeration(p, q):
    """The product law of the masks, batch by batch, equals all subsets with q^|B|(1-q)^(p-|B|)."""
    scheme = Bernoulli(q=q, p=p)
    product = dict(scheme.product_law().enumerate())
    mixture = dict(scheme.law().enumerate())
    claimed = {frozenset(b): q ** len(b) * (1 - q) ** (p - len(b))
               for k in range(p + 1) for b in itertools.combinations(range(p), k)}
    assert product == mixture == claimed
    if q == sp.Rational(1, 2):
        assert claimed == dict(scheme_from_spec("all-subsets", p=p).law().enumerate())


def test_random_partitions_average_to_balanced():
    """THEORY.md §3: the disjoint variance averaged over uniform random partitions is balanced r."""
    p, r = 6, 3
    rng = random.Random(1)
    f = [[sp.Rational(rng.randint(-5, 5), rng.randint(1, 3)) for _ in range(2)] for _ in range(p)]
    partitions = {frozenset(frozenset(perm[j:j + r]) for j in range(0, p, r))
                  for perm in itertools.permutations(range(p))}
    values = [variance(Disjoint(blocks=[sorted(b) for b in part]), f) for part in partitions]
    assert sp.Add(*values) / len(values) == variance(Balanced(r=r, p=p), f)


def test_partition_bound_holds_and_is_attained():
    scheme = Disjoint(r=2, p=4)
    bound = partition_variance_bound(scheme)
    assert bound == 16
    aligned = [[1, 0], [1, 0], [-1, 0], [-1, 0]]  # centred, aligned in each block: s^2 = 1
    assert variance(scheme, aligned) == bound * 1
    rng = random.Random(2)
    for _ in range(5):
        f = [[sp.Rational(rng.randint(-5, 5)), sp.Rational(rng.randint(-5, 5))] for _ in range(4)]
        m = [sum(row[j] for row in f) / 4 for j in range(2)]
        s2 = sum((row[0] - m[0]) ** 2 + (row[1] - m[1]) ** 2 for row in f) / 4
        assert variance(scheme, f) <= bound * s2


def test_canonical_imbalance():
    iotas = {s.name: imbalance(s) for s in canonical_schemes()}
    q = symbol("q", "prob")
    assert iotas == {"single": 1, "drop-one": 1, "pick-one": 1, "balanced": 1, "disjoint": 1,
                     "all-subsets": 2, "bernoulli": 1 / q}


@pytest.mark.parametrize("spec,p", concrete_cases())
def test_lipschitz_pi_against_brute_force(spec, p):
    scheme = scheme_from_spec(spec, p=p)
    n = int(scheme.p)
    weights = [sp.Rational(j % 3 + 1, 2) for j in range(n)]
    pi = inclusion(scheme).vector
    brute = max(sum((weights[i] / pi[i] for i in b), sp.Integer(0)) for b, _ in scheme.law().enumerate())
    assert lipschitz_pi(scheme, weights) == brute


def test_size_law_from_geometric_weight_matches_finite_sum():
    k = sp.Symbol("k", integer=True, nonnegative=True)
    q = sp.Rational(2, 7)
    law = ExchangeableLaw(sp.Integer(6), SizeLaw(sp.Integer(6), subset_weight=sp.Lambda(k, q**k * (1 - q) ** (6 - k))))
    assert sum(law.size_law.pmf()) == 1
    assert law.pi == q and law.pi2 == q**2


def test_symbolic_and_concrete_variance_factors_agree():
    symbolic = variance_factors(scheme_from_spec("size-mixture(sizes={1: 1/3, 4: 2/3})"))
    concrete = variance_factors(scheme_from_spec("size-mixture(sizes={1: 1/3, 4: 2/3})", p=6))
    assert symbolic.c_s.subs(P, 6) == concrete.c_s and symbolic.c_m.subs(P, 6) == concrete.c_m
