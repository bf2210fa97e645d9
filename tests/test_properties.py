"""Property-based checks (hypothesis) on random finite families and random size laws."""
import sympy as sp
from hypothesis import given, settings, strategies as st

from rbmtheory.inclusion import inclusion
from rbmtheory.oracles import enumerated_inclusion, enumerated_variance
from rbmtheory.schemes import Family, SizeMixture
from rbmtheory.variance import M2, S2, design_matrix, neuron_moments, variance, variance_factors


@st.composite
def families(draw):
    p = draw(st.integers(1, 5))
    n = draw(st.integers(1, 5))
    batches = [draw(st.lists(st.integers(0, p - 1), unique=True, max_size=p)) for _ in range(n)]
    missing = sorted(set(range(p)) - {i for b in batches for i in b})
    batches[0] = sorted(set(batches[0]) | set(missing))  # cover every neuron
    weights = [draw(st.integers(1, 9)) for _ in range(n)]
    probs = [sp.Rational(w, sum(weights)) for w in weights]
    return Family(batches=batches, probs=probs, n_neurons=p)


@st.composite
def size_mixtures(draw):
    p = draw(st.integers(2, 6))
    sizes = draw(st.lists(st.integers(0, p), unique=True, min_size=1, max_size=4))
    if max(sizes) == 0:
        sizes.append(p)
    weights = [draw(st.integers(1, 9)) for _ in sizes]
    return SizeMixture(sizes={k: sp.Rational(w, sum(weights)) for k, w in zip(sizes, weights)}, p=p)


contributions = st.lists(st.tuples(st.integers(-6, 6), st.integers(-6, 6)), min_size=6, max_size=6)


@settings(max_examples=40, deadline=None)
@given(families(), contributions)
def test_random_family(scheme, f):
    p = int(scheme.p)
    inc = inclusion(scheme)
    pi, joint = enumerated_inclusion(scheme.law())
    assert list(inc.vector) == pi and inc.matrix.tolist() == joint
    rows = [list(map(sp.Integer, v)) for v in f[:p]]
    assert variance(scheme, rows) == enumerated_variance(scheme.law(), rows)
    assert design_matrix(scheme).is_positive_semidefinite


@settings(max_examples=40, deadline=None)
@given(size_mixtures(), contributions)
def test_random_size_law(scheme, f):
    p = int(scheme.p)
    inc = inclusion(scheme)
    pi, joint = enumerated_inclusion(scheme.law())
    assert all(v == inc.pi for v in pi) and joint[0][1] == inc.pi2
    rows = [list(map(sp.Integer, v)) for v in f[:p]]
    factors = variance_factors(scheme)
    s2, m2 = neuron_moments(rows)
    assert (factors.c_s * S2 + factors.c_m * M2).subs({S2: s2, M2: m2}) == enumerated_variance(scheme.law(), rows)
