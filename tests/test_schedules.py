"""Batch samplers, switching rules and random streams (numerics.schedules).

Statistical checks compare a Monte Carlo mean with its exact value within 4 standard
errors. For a correct sampler one such check fails with probability about 6e-5
(two-sided normal tail at 4 sigma); a test with k checks fails with probability at
most k * 6e-5 (union bound; at most ~1e-2 for the largest test here). The seeds are
fixed, so every run is deterministic: a failure is reproducible, not flaky.
Exact values 0 and 1 (pi_ik = 0 across disjoint blocks, pi_i = 1) must be met exactly.
"""
import re

import numpy as np
import pytest
import sympy as sp

from numerics.engine import run_error_sweep
from numerics.fieldfile import Problem, default_problem
from numerics.fields import LinearField, NeuralField, PiecewiseNeuralField
from numerics.schedules import (
    REALIZATION_BLOCK,
    BatchStream,
    block_sizes,
    law_sampler,
    random_switching,
    scheme_sampler,
    switching_rules,
    uniform_switching,
)
from rbmtheory.errors import RBMInputError
from rbmtheory.laws import ExchangeableLaw, IndependentLaw, ProductLaw, SizeLaw
from rbmtheory.schemes import Family
from rbmtheory.schemes.registry import scheme_from_spec

DRAWS = 20_000


def _family():
    half, quarter = sp.Rational(1, 2), sp.Rational(1, 4)
    return Family(batches=[[0, 1], [1, 2, 3], [3]], probs=[half, quarter, quarter])


SCHEMES = {
    "balanced": lambda: scheme_from_spec("balanced(r=2)", p=5),
    "disjoint": lambda: scheme_from_spec("disjoint(r=2)", p=6),
    "disjoint-unequal": lambda: scheme_from_spec("disjoint(blocks=[[0,3],[1],[2,4,5]])"),
    "bernoulli": lambda: scheme_from_spec("bernoulli(q=1/3)", p=5),
    "poisson": lambda: scheme_from_spec("poisson(q=[1, 1/5, 2/3, 1/2])"),
    "family-unequal": _family,
    "stratified": lambda: scheme_from_spec("stratified(strata=[[0,2,4,6],[1,3],[5]], r=[2,1,1])"),
    "size-mixture": lambda: scheme_from_spec("size-mixture(sizes={0: 1/4, 2: 1/4, 3: 1/2})", p=5),
    "single": lambda: scheme_from_spec("single", p=4),
}

EXPECTED_KIND = {
    "balanced": "index", "disjoint": "index", "disjoint-unequal": "mask", "bernoulli": "mask",
    "poisson": "mask", "family-unequal": "mask", "stratified": "index", "size-mixture": "mask",
    "single": "index",
}


def _mixed_product_law():
    """A product law with a variable-size stratum (Poisson) next to a fixed-size one."""
    two, three = sp.Integer(2), sp.Integer(3)
    fixed = ExchangeableLaw(three, SizeLaw(three, atoms=((sp.Integer(1), sp.Integer(1)),)))
    return ProductLaw(sp.Integer(5), ((0, 2, 4), (1, 3)), (fixed, IndependentLaw(two, (sp.Rational(1, 3), sp.Rational(3, 4)))))


def _assert_frequencies(member, law):
    """Inclusion and joint-inclusion frequencies within 4 SE of the exact pi_i, pi_ik."""
    joint = np.array(law.joint_matrix().tolist(), dtype=float)
    freq = member.T.astype(float) @ member.astype(float) / member.shape[0]
    se = np.sqrt(joint * (1.0 - joint) / member.shape[0])
    exact = (joint == 0.0) | (joint == 1.0)
    assert np.array_equal(freq[exact], joint[exact])
    assert np.all(np.abs(freq - joint)[~exact] <= 4.0 * se[~exact])


@pytest.mark.parametrize("name", SCHEMES)
def test_frequencies_match_inclusion_probabilities(name):
    scheme = SCHEMES[name]()
    sampler = scheme_sampler(scheme)
    assert sampler.kind == EXPECTED_KIND[name]
    batches = sampler.sample(np.random.default_rng(7), DRAWS)
    member = batches.indicators(sampler.p)
    _assert_frequencies(member, scheme.law())
    pi = np.array([float(v) for v in scheme.law().inclusion_vector()])
    expected = np.where(member, 1.0 / pi, 0.0)
    if batches.kind == "mask":
        np.testing.assert_allclose(batches.weights, expected)
    else:
        assert len({int(s) for s in member.sum(axis=1)}) == 1  # fixed size, no repeated neuron
        np.testing.assert_allclose(np.take_along_axis(expected, batches.idx, axis=1), batches.weights)


def test_product_law_with_a_variable_stratum_gives_masks():
    law = _mixed_product_law()
    sampler = law_sampler(law)
    assert sampler.kind == "mask"
    member = sampler.sample(np.random.default_rng(3), DRAWS).indicators(5)
    _assert_frequencies(member, law)


def _neural_field(p=6, d=2, seed=0):
    rng = np.random.default_rng(seed)
    return NeuralField(rng.standard_normal((p, d)), rng.standard_normal((p, d)), rng.standard_normal(p), "tanh")


def _linear_field(p=6, d=2, seed=1):
    rng = np.random.default_rng(seed)
    return LinearField(rng.standard_normal((p, d, d)), rng.standard_normal((p, d)))


@pytest.mark.parametrize("make_field", [_neural_field, _linear_field])
@pytest.mark.parametrize("spec", ["disjoint(r=2)", "bernoulli(q=1/3)", "balanced(r=4)", "pick-one"])
def test_random_field_is_unbiased(make_field, spec):
    """The mean of F^omega(t, x) over 20000 batches equals F(t, x) within 4 SE."""
    field = make_field()
    sampler = scheme_sampler(scheme_from_spec(spec, p=field.p), p=field.p)
    x = np.random.default_rng(2).standard_normal((3, field.d))
    batches = sampler.sample(np.random.default_rng(11), DRAWS)
    states = np.broadcast_to(x, (DRAWS,) + x.shape).copy()
    values = batches.evaluate(field, 0.0, states, np.empty_like(states))
    se = values.std(axis=0, ddof=1) / np.sqrt(DRAWS)
    assert np.all(np.abs(values.mean(axis=0) - field.evaluate(0.0, x)) <= 4.0 * se)


# ------------------------------------------------------------------------ streams


def _stream(rule, realizations=40, spec="disjoint(r=2)", entropy=5):
    sampler = scheme_sampler(scheme_from_spec(spec, p=6))
    sizes = block_sizes(realizations)
    return BatchStream(sampler, rule, entropy, range(len(sizes)), sizes)


def _held(stream, n):
    return np.stack([stream.at_step(j).idx.copy() for j in range(n)])


def test_uniform_switching_holds_batches_and_nests_across_h():
    """Batches change only at multiples of h; h and h/2 agree on the first half of each h-interval."""
    T, dt = 1.0, 1.0 / 16
    coarse = _held(_stream(uniform_switching(0.25, T, dt)), 16)
    fine = _held(_stream(uniform_switching(0.125, T, dt)), 16)
    for held, per in ((coarse, 4), (fine, 2)):
        for j in range(16):
            np.testing.assert_array_equal(held[j], held[j - j % per])
    first_halves = [j for j in range(16) if j % 4 < 2]
    np.testing.assert_array_equal(coarse[first_halves], fine[first_halves])


def test_random_switching_rate_and_nesting():
    """A fresh batch is taken with probability dt/h; the switch steps for h contain those for 2h."""
    T, dt, n, m = 1.0, 1.0 / 64, 64, 400
    changes = {}
    for h in (0.125, 0.25):
        stream = _stream(random_switching(h, T, dt), realizations=m)
        # the coin stream alone decides switching: U_j < dt / h
        flags = np.stack([stream.rule.switching(j, stream.coins, stream.sizes) for j in range(1, n)])
        changes[h] = flags
        rate = flags.mean()
        se = np.sqrt((dt / h) * (1 - dt / h) / flags.size)
        assert abs(rate - dt / h) <= 4.0 * se
    assert np.all(changes[0.125] | ~changes[0.25])


def test_block_sizes_and_grid_rules():
    assert block_sizes(40) == [REALIZATION_BLOCK, REALIZATION_BLOCK, 40 - 2 * REALIZATION_BLOCK]
    (rule,), dt = switching_rules(None, [0.0, 0.25, 0.375, 1.0], 1.0, None)
    assert dt == 0.125 / 4
    assert np.flatnonzero(rule.starts).tolist() == [0, 8, 12]
    rules, dt = switching_rules([0.5, 0.25], "uniform", 1.0, None)
    assert dt == 0.25 / 4 and [r.h for r in rules] == [0.5, 0.25]


# ------------------------------------------------------------ reproducibility


def _small_problem():
    return default_problem(seed=1, p=6, n_points=5)


def _sweep(**kw):
    args = dict(dt=0.0625, realizations=40, seed=3)
    args.update(kw)
    return run_error_sweep(_small_problem(), scheme_from_spec("disjoint(r=2)", p=6), [0.25, 0.125], **args)


def test_results_reproducible_and_independent_of_chunk_and_workers():
    base = _sweep(chunk=16, workers=1, keep_states=True)
    again = _sweep(chunk=16, workers=1, keep_states=True)
    other = _sweep(chunk=40, workers=2, keep_states=True)
    for a, b, c in zip(base, again, other):
        np.testing.assert_array_equal(a.mse_t, b.mse_t)
        np.testing.assert_array_equal(a.states, c.states)
        np.testing.assert_allclose(a.mse_t, c.mse_t, rtol=1e-12, atol=0)
        np.testing.assert_allclose(a.e_sup, c.e_sup, rtol=1e-12, atol=0)
        assert a.seed_entropy == 3
    assert not np.allclose(_sweep(seed=4)[0].mse_t[-1], base[0].mse_t[-1])


def test_random_switching_reproducible():
    a = _sweep(switching="random", chunk=16)
    b = _sweep(switching="random", chunk=48, workers=2)
    np.testing.assert_allclose(a[1].mse_t_avg, b[1].mse_t_avg, rtol=1e-12)


# ------------------------------------------------------------------ input errors


@pytest.mark.parametrize(
    "hs,kw,message",
    [
        ([0.03], {"dt": 0.02}, "h = 0.03 is not a multiple of dt = 0.02"),
        ([0.3], {"dt": 0.1}, "T = 1 is not a multiple of h = 0.3"),
        ([0.25], {"dt": 0.5, "switching": "random"}, "needs dt <= h"),
        ([2.0], {}, "h = 2 exceeds T = 1"),
        ([-0.5], {}, "h must be a finite number > 0"),
        ([], {}, "hs must be a non-empty list"),
        (None, {"switching": [0.0, 0.3, 1.0], "dt": 0.25}, "switching time = 0.3 is not a multiple of dt = 0.25"),
        (None, {"switching": [0.1, 0.5, 1.0]}, "must run from 0 to T"),
        (None, {"switching": [0.0, 0.6, 0.5, 1.0]}, "strictly increasing"),
        ([0.25], {"switching": [0.0, 0.5, 1.0]}, "pass hs=None"),
        ([0.25], {"switching": "poisson"}, "switching must be"),
        ([0.25], {"method": "rk45"}, "unknown integrator"),
        ([0.25], {"realizations": 1}, "realizations must be an integer >= 2"),
        ([0.25], {"chunk": 0}, "chunk must be an integer >= 1"),
        ([0.25], {"seed": -1}, "seed must be an integer >= 0"),
    ],
)
def test_bad_input_raises_one_line(hs, kw, message):
    kw = {"realizations": 4, **kw}
    with pytest.raises(RBMInputError, match=re.escape(message)) as err:
        run_error_sweep(_small_problem(), scheme_from_spec("disjoint(r=2)", p=6), hs, **kw)
    assert "\n" not in str(err.value)


def test_scheme_and_field_must_agree():
    with pytest.raises(RBMInputError, match="has p = 8 neurons but the field has p = 6"):
        run_error_sweep(_small_problem(), scheme_from_spec("disjoint(r=2)", p=8), [0.25], realizations=4)
    with pytest.raises(RBMInputError, match="symbolic p"):
        run_error_sweep(_small_problem(), scheme_from_spec("disjoint(r=2)"), [0.25], realizations=4)


def test_breakpoints_must_lie_on_the_integrator_grid():
    rng = np.random.default_rng(0)
    W, A, b = rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 3))
    field = PiecewiseNeuralField(W, A, b, [0.0, 0.3, 1.0])
    problem = Problem(field, rng.standard_normal((2, 2)), 1.0, "pw")
    with pytest.raises(RBMInputError, match="time breakpoint = 0.3 is not a multiple of dt = 0.25"):
        run_error_sweep(problem, scheme_from_spec("pick-one", p=3), [0.5], dt=0.25, realizations=4)


def test_compact_masks_evaluate_like_masks():
    """Padded index batches (variable sizes) give the same field as the masks they replace."""
    from numerics.fieldfile import default_problem
    from numerics.schedules import scheme_sampler
    from rbmtheory.schemes.registry import scheme_from_spec

    problem = default_problem(seed=1, p=12, n_points=5)
    sampler = scheme_sampler(scheme_from_spec("bernoulli(q=1/4)", p=12))
    masks = sampler.sample(np.random.default_rng(0), 40)
    compact = masks.compact()
    assert compact.idx is not None and compact.idx.shape[1] < 12
    x = np.broadcast_to(problem.x0, (40,) + problem.x0.shape).copy()
    a, b = np.empty_like(x), np.empty_like(x)
    masks.evaluate(problem.field, 0.3, x, a)
    compact.evaluate(problem.field, 0.3, x, b)
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    assert (compact.indicators(12) == masks.indicators(12)).all()
