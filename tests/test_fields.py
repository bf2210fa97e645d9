"""Field contract: derivatives, batch/masked/loop agreement, Lipschitz bounds, field files."""
import doctest
import json
import re

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import numerics.fields.base
import numerics.fields.neural
from numerics.fieldfile import (
    DEFAULT_LIPSCHITZ,
    default_problem,
    load_problem,
    make_circles,
    problem_from_dict,
    save_problem,
)
from numerics.fields import (
    ConstantField,
    Field,
    LinearField,
    NeuralField,
    PiecewiseNeuralField,
    SmoothNeuralField,
)
from rbmtheory.errors import RBMInputError

P, D, T_EVAL = 7, 3, 0.37
SMOOTH = ("tanh", "sigmoid", "gelu", "elu")


class SineField(Field):
    """A user field built on the default hooks only: f_i(x) = s_i sin(x)."""

    def __init__(self, s):
        self.s = np.asarray(s, dtype=float)
        super().__init__(p=self.s.size, d=D)

    def _contributions_impl(self, t, x, idx):
        return self.s[idx][None, :, None] * np.sin(x)[:, None, :]

    def _contribution_jacobians_impl(self, t, x, idx):
        return (self.s[idx][None, :, None] * np.cos(x)[:, None, :])[..., None] * np.eye(D)

    def lipschitz_constants(self):
        return np.abs(self.s)


def build(name, rng=None):
    rng = np.random.default_rng(7) if rng is None else rng
    if name.startswith("neural-"):
        return NeuralField(rng.normal(size=(P, D)), rng.normal(size=(P, D)), rng.normal(size=P), name[7:])
    if name == "piecewise":
        return PiecewiseNeuralField(
            rng.normal(size=(3, P, D)), rng.normal(size=(3, P, D)), rng.normal(size=(3, P)), [0, 0.3, 0.7, 1.0]
        )
    if name == "smooth":
        return SmoothNeuralField(
            rng.normal(size=(5, P, D)), rng.normal(size=(5, P, D)), rng.normal(size=(5, P)), 1.0, "gelu"
        )
    if name == "linear":
        return LinearField(rng.normal(size=(P, D, D)), rng.normal(size=(P, D)))
    if name == "constant":
        c0, c1 = rng.normal(size=(2, P, D))
        return ConstantField(lambda t: c0 + np.sin(t) * c1)
    if name == "sine":
        return SineField(rng.normal(size=P))
    raise KeyError(name)


DIFFERENTIABLE = [f"neural-{a}" for a in SMOOTH] + ["piecewise", "smooth", "linear", "constant", "sine"]
ALL = DIFFERENTIABLE + ["neural-relu"]


def selection(rng, m=4, r=3):
    """Per-realization batches (with a repeated neuron) and the equivalent mask."""
    idx = np.stack([rng.choice(P, r, replace=False) for _ in range(m)])
    idx[0, 1] = idx[0, 0]
    weights = rng.uniform(0.5, 3.0, size=(m, r))
    mask = np.zeros((m, P))
    np.add.at(mask, (np.arange(m)[:, None], idx), weights)
    return idx, weights, mask


def naive(field, t, x, idx, weights):
    """sum_j w_j f_{idx_j} one realization and one neuron at a time."""
    out = np.zeros_like(x)
    for g in range(x.shape[0]):
        for j, w in zip(idx[g], weights[g]):
            out[g] += w * field.contributions(t, x[g], [j])[..., 0, :]
    return out


def fd_jacobian(fn, x, h=1e-6):
    cols = [(fn(x + h * e) - fn(x - h * e)) / (2 * h) for e in np.eye(x.shape[-1])]
    return np.stack(cols, axis=-1)


# ---------------------------------------------------------------- derivatives


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_jacobian_and_divergence_match_finite_differences(name):
    rng = np.random.default_rng(1)
    field = build(name)
    x = rng.normal(size=(4, 5, D))
    idx, weights, _ = selection(rng)
    for sel in ({}, {"idx": idx, "weights": weights}):
        jac = field.jacobian(T_EVAL, x, **sel)
        expected = fd_jacobian(lambda y: field.evaluate(T_EVAL, y, **sel), x)
        np.testing.assert_allclose(jac, expected, atol=1e-7)
        trace = np.trace(expected, axis1=-2, axis2=-1)
        np.testing.assert_allclose(field.divergence(T_EVAL, x, **sel), trace, atol=1e-7)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_contribution_jacobians_match_finite_differences(name):
    rng = np.random.default_rng(2)
    field = build(name)
    x = rng.normal(size=(6, D))
    expected = fd_jacobian(lambda y: field.contributions(T_EVAL, y, [4, 1]), x)
    np.testing.assert_allclose(field.contribution_jacobians(T_EVAL, x, [4, 1]), expected, atol=1e-7)


# ---------------------------------------------------------------- selections


@pytest.fixture
def small_chunks(monkeypatch):
    """Force the neural kernel through many chunks, including splits of the state axis."""
    monkeypatch.setattr(numerics.fields.neural, "CHUNK_ELEMENTS", 8)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.usefixtures("small_chunks")
def test_batch_equals_masked_equals_naive_loop(name):
    rng = np.random.default_rng(3)
    field = build(name)
    x = rng.normal(size=(4, 5, D))
    idx, weights, mask = selection(rng)
    batch = field.evaluate_batch(T_EVAL, x, idx, weights)
    np.testing.assert_allclose(batch, naive(field, T_EVAL, x, idx, weights), atol=1e-12)
    np.testing.assert_allclose(field.evaluate_masked(T_EVAL, x, mask), batch, atol=1e-12)
    unit = naive(field, T_EVAL, x, idx, np.ones_like(weights))
    np.testing.assert_allclose(field.evaluate(T_EVAL, x, idx), unit, atol=1e-12)
    if name != "neural-relu":
        for method in ("jacobian", "divergence"):
            fn = getattr(field, method)
            np.testing.assert_allclose(fn(T_EVAL, x, idx, weights), fn(T_EVAL, x, None, mask), atol=1e-12)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.usefixtures("small_chunks")
def test_full_and_shared_selections(name):
    rng = np.random.default_rng(4)
    field = build(name)
    x = rng.normal(size=(2, 3, 4, D))
    contrib = field.contributions(T_EVAL, x)
    assert contrib.shape == (2, 3, 4, P, D)
    np.testing.assert_allclose(field.evaluate(T_EVAL, x), contrib.sum(axis=-2), atol=1e-12)
    shared, w = np.array([5, 0, 5]), np.array([1.0, -2.0, 0.5])
    expected = np.einsum("...kd,k->...d", field.contributions(T_EVAL, x, shared), w)
    np.testing.assert_allclose(field.evaluate(T_EVAL, x, shared, w), expected, atol=1e-12)
    # one batch per leading index of a 3-axis state array
    idx, weights, mask = selection(rng, m=2, r=2)
    per_g = np.stack([field.evaluate(T_EVAL, x[g], idx[g], weights[g]) for g in range(2)])
    np.testing.assert_allclose(field.evaluate(T_EVAL, x, idx, weights), per_g, atol=1e-12)
    np.testing.assert_allclose(field.evaluate(T_EVAL, x, weights=mask), per_g, atol=1e-12)
    # empty batch and single state
    np.testing.assert_array_equal(field.evaluate(T_EVAL, x, np.zeros((2, 0), dtype=int)), 0.0)
    np.testing.assert_allclose(field.evaluate(T_EVAL, x[0, 0, 0]), contrib[0, 0, 0].sum(axis=0), atol=1e-12)


def test_out_buffer_is_filled_and_returned():
    rng = np.random.default_rng(5)
    field = build("neural-tanh")
    x = rng.normal(size=(4, 5, D))
    idx, weights, _ = selection(rng)
    out = np.full(x.shape, np.nan)
    assert field.evaluate_batch(T_EVAL, x, idx, weights, out=out) is out
    np.testing.assert_allclose(out, naive(field, T_EVAL, x, idx, weights), atol=1e-12)


def test_user_field_example_in_docstring():
    assert doctest.testmod(numerics.fields.base).failed == 0


# ---------------------------------------------------------------- Lipschitz constants


@pytest.mark.parametrize("name", ALL)
def test_lipschitz_constants_bound_difference_quotients(name):
    rng = np.random.default_rng(6)
    field = build(name)
    lip = field.lipschitz_constants()
    assert lip.shape == (P,) and np.all(lip >= 0)
    x = rng.normal(scale=2.0, size=(500, D))
    y = x + rng.normal(scale=rng.choice([1e-3, 0.3, 3.0], size=(500, 1)), size=(500, D))
    for t in (0.0, 0.2, T_EVAL, 0.8, 1.0):
        diff = np.linalg.norm(field.contributions(t, x) - field.contributions(t, y), axis=-1)
        quotient = diff / np.linalg.norm(x - y, axis=-1)[:, None]
        assert np.all(quotient <= lip * (1 + 1e-9) + 1e-15)


def test_neural_lipschitz_formula_is_tight_for_tanh():
    field = NeuralField([[3.0, 4.0]], [[0.0, 2.0]], [0.0])
    assert field.lipschitz_constants() == pytest.approx([10.0])
    quotient = np.linalg.norm(field.evaluate(0.0, [0.0, 1e-6]) - field.evaluate(0.0, [0.0, -1e-6])) / 2e-6
    assert quotient == pytest.approx(10.0, rel=1e-9)


# ---------------------------------------------------------------- time dependence


def test_piecewise_pieces_and_breakpoints():
    field = build("piecewise")
    np.testing.assert_array_equal(field.time_breakpoints, [0.3, 0.7])
    x = np.array([[0.2, -0.1, 0.4]])
    assert [field.piece_index(t) for t in (-1.0, 0.0, 0.29, 0.3, 0.69, 0.7, 1.0, 2.0)] == [0, 0, 0, 1, 1, 2, 2, 2]
    single = NeuralField(field.W[1], field.A[1], field.b[1])
    np.testing.assert_array_equal(field.evaluate(0.3, x), single.evaluate(0.0, x))
    left = NeuralField(field.W[0], field.A[0], field.b[0])
    np.testing.assert_array_equal(field.evaluate(np.nextafter(0.3, -np.inf), x), left.evaluate(0.0, x))


def test_smooth_parameters_follow_the_basis():
    field = build("smooth")
    s = 0.37
    phi = np.array([1.0, s, np.cos(2 * np.pi * s), np.sin(2 * np.pi * s), np.cos(4 * np.pi * s)])
    np.testing.assert_allclose(field.basis(0.37), phi)
    np.testing.assert_allclose(field.parameters(0.37).W, np.tensordot(phi, field.W, axes=1))
    assert field.time_breakpoints.size == 0


# ---------------------------------------------------------------- linear and constant oracles


def test_linear_helpers_and_exact_solution():
    field = build("linear")
    np.testing.assert_allclose(field.A_total(), field.A.sum(axis=0))
    np.testing.assert_allclose(field.batch_matrix([1, 3], [2.0, 0.5]), 2.0 * field.A[1] + 0.5 * field.A[3])
    idx, weights, mask = selection(np.random.default_rng(8))
    assert field.batch_matrix(idx, weights).shape == (4, D, D)
    np.testing.assert_allclose(field.batch_matrix(idx, weights), field.batch_matrix(weights=mask))
    np.testing.assert_allclose(field.batch_offset(idx, weights)[2], weights[2] @ field.c[idx[2]])
    x0 = np.array([0.3, -0.2, 0.5])
    ref = solve_ivp(lambda t, y: field.evaluate(t, y), (0, 0.8), x0, rtol=1e-11, atol=1e-12).y[:, -1]
    np.testing.assert_allclose(field.exact_solution(0.8, x0), ref, atol=1e-8)


def test_constant_field():
    field = ConstantField([[1.0, 2.0], [3.0, -1.0]])
    x = np.zeros((5, 2))
    batch = field.evaluate(0.0, x, [[1], [0], [1], [0], [0]], [[2.0]] * 5)
    np.testing.assert_array_equal(batch[:2], [[6.0, -2.0], [2.0, 4.0]])
    np.testing.assert_array_equal(field.lipschitz_constants(), 0.0)
    bad = ConstantField(lambda t: np.ones((2, 2)) if t == 0 else np.ones((3, 2)))
    with pytest.raises(RBMInputError, match=r"c\(t\) has shape \(3, 2\)"):
        bad.evaluate(1.0, x)


# ---------------------------------------------------------------- field input checks


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda f: f.evaluate(0.0, np.zeros((4, 2))), r"x has shape \(4, 2\); the field has dimension d=3"),
        (lambda f: f.evaluate(np.nan, np.zeros((4, 3))), "t must be finite"),
        (lambda f: f.evaluate(0.0, np.zeros((4, 3)), [0.0, 1.0]), "idx must be an integer array"),
        (lambda f: f.evaluate(0.0, np.zeros((4, 3)), [0, 7]), "idx contains 7, outside the neuron range 0..6"),
        (lambda f: f.evaluate(0.0, np.zeros((4, 3)), [[0], [1]]), r"idx has shape \(2, 1\) but x has shape \(4, 3\)"),
        (lambda f: f.evaluate(0.0, np.zeros((4, 3)), [0, 1], [1.0]), r"weights has shape \(1,\) but idx has shape \(2,\)"),
        (lambda f: f.evaluate(0.0, np.zeros((4, 3)), [0, 1], [1.0, np.inf]),
         r"weights has a non-finite entry inf at index \(1,\)"),
        (lambda f: f.evaluate(0.0, np.zeros((4, 3)), weights=np.ones(3)), r"without idx it must be \(..., p=7\)"),
        (lambda f: f.evaluate(0.0, np.zeros((4, 3)), out=np.zeros((4, 2))),
         r"out must be a C-contiguous float64 array of shape \(4, 3\)"),
        (lambda f: f.evaluate_batch(0.0, np.zeros((4, 3)), [0, 1]), r"evaluate_batch needs x \(M, N, d\)"),
        (lambda f: f.evaluate_masked(0.0, np.zeros((2, 4, 3)), np.ones(7)), r"evaluate_masked needs"),
        (lambda f: f.contributions(0.0, np.zeros((4, 3)), [[0]]), "idx must be 1-D here"),
    ],
)
def test_field_call_errors(call, message):
    with pytest.raises(RBMInputError, match=message):
        call(build("neural-tanh"))


def test_field_parameter_errors():
    W = np.ones((3, 2))
    with pytest.raises(RBMInputError, match=r"W has shape \(3, 2\) but A has shape \(3, 3\)"):
        NeuralField(W, np.ones((3, 3)), np.zeros(3))
    bad = W.copy()
    bad[2, 1] = np.nan
    with pytest.raises(RBMInputError, match=r"A has a non-finite entry nan at index \(2, 1\)"):
        NeuralField(W, bad, np.zeros(3))
    with pytest.raises(RBMInputError, match=r"b has shape \(2,\) but W has shape \(3, 2\): expected \(3,\)"):
        NeuralField(W, W, np.zeros(2))
    with pytest.raises(RBMInputError, match="unknown activation 'swish'"):
        NeuralField(W, W, np.zeros(3), "swish")
    with pytest.raises(RBMInputError, match="control_times must start at 0"):
        PiecewiseNeuralField(W[None], W[None], np.zeros((1, 3)), [0.5, 1.0])
    with pytest.raises(RBMInputError, match=r"A has shape \(2, 2, 3\): expected non-empty square"):
        LinearField(np.ones((2, 2, 3)))
    with pytest.raises(RBMInputError, match="T must be a finite number > 0"):
        SmoothNeuralField(W[None], W[None], np.zeros((1, 3)), 0.0)


# ---------------------------------------------------------------- field files and the default problem


def test_default_problem_scaling_and_determinism():
    problem = default_problem()
    assert problem.field.lipschitz_constants().sum() == pytest.approx(DEFAULT_LIPSCHITZ)
    assert problem.x0.shape == (32, 2) and problem.T == 1.0
    again = default_problem(n_points=10)
    np.testing.assert_array_equal(again.field.W, problem.field.W)  # parameters ignore n_points
    td = default_problem(seed=3, p=10, d=3, activation="sigmoid", time_dependent=True)
    assert isinstance(td.field, PiecewiseNeuralField) and td.field.W.shape == (4, 10, 3)
    assert td.field.lipschitz_constants().sum() == pytest.approx(DEFAULT_LIPSCHITZ)
    with pytest.raises(RBMInputError, match="d must be an integer >= 2"):
        default_problem(d=1)
    with pytest.raises(RBMInputError, match="p must be an integer >= 1"):
        default_problem(p=0)


def test_make_circles():
    x, labels = make_circles(9, np.random.default_rng(0), noise=0.0)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), np.where(labels == 0, 1.0, 0.5))
    assert list(labels) == [0] * 4 + [1] * 5


@pytest.mark.parametrize("problem", [default_problem(), default_problem(time_dependent=True, activation="gelu")])
def test_field_file_round_trip(tmp_path, problem):
    path = tmp_path / "field.json"
    save_problem(problem, path)
    loaded = load_problem(path)
    assert (loaded.name, loaded.T, loaded.description) == (problem.name, problem.T, problem.description)
    assert type(loaded.field) is type(problem.field) and loaded.field.activation is problem.field.activation
    np.testing.assert_array_equal(loaded.x0, problem.x0)
    for key in ("W", "A", "b"):
        np.testing.assert_array_equal(getattr(loaded.field, key), getattr(problem.field, key))
    np.testing.assert_array_equal(loaded.field.evaluate(0.6, problem.x0), problem.field.evaluate(0.6, problem.x0))


def test_linear_file_round_trip(tmp_path):
    path = tmp_path / "linear.json"
    A = [[[0, 1], [-1, 0]], [[-0.5, 0], [0, 0.1]]]
    path.write_text(json.dumps({"kind": "linear", "A": A, "x0": [[1, 0]], "T": 2}))
    problem = load_problem(path)
    assert problem.name == "linear" and problem.T == 2.0
    np.testing.assert_array_equal(problem.field.c, 0.0)
    save_problem(problem, path)
    np.testing.assert_array_equal(load_problem(path).field.A, problem.field.A)


NEURAL = {
    "kind": "neural", "activation": "tanh", "W": [[1.0, 0.0], [0.0, 1.0]], "A": [[1.0, 2.0], [0.5, -1.0]],
    "b": [0.0, 0.1], "x0": [[0.1, 0.2], [0.3, 0.4]], "T": 1.0,
}
PIECEWISE = dict(NEURAL, W=[NEURAL["W"]] * 2, A=[NEURAL["A"]] * 2, b=[NEURAL["b"]] * 2, control_times=[0, 0.5, 1])


@pytest.mark.parametrize(
    "data, message",
    [
        ([1, 2], "the top level must be a JSON object, got list"),
        ({k: v for k, v in NEURAL.items() if k != "W"}, "missing key 'W' for kind 'neural'"),
        ({k: v for k, v in NEURAL.items() if k != "activation"}, "missing key 'activation'"),
        (dict(NEURAL, kind="quadratic"), "unknown kind 'quadratic' \\(known: neural, linear\\)"),
        ({k: v for k, v in NEURAL.items() if k != "kind"}, "unknown kind None"),
        (dict(NEURAL, activation="swish"), "unknown activation 'swish' \\(known: tanh"),
        (dict(NEURAL, contol_times=[0, 1]), "unknown key 'contol_times'"),
        (dict(NEURAL, W=[[1.0, 0.0, 2.0], [0.0, 1.0, 2.0]]), r"W has shape \(2, 3\) but A has shape \(2, 2\)"),
        (dict(NEURAL, b=[0.0]), r"b has shape \(1,\) but W has shape \(2, 2\)"),
        (dict(NEURAL, A=[[1.0, float("nan")], [0.5, -1.0]]), r"A has a non-finite entry nan at index \(0, 1\)"),
        (dict(NEURAL, W=[[1.0, 0.0], [0.0]]), "W is not a rectangular array of numbers"),
        (dict(NEURAL, b=["x", 1]), "b is not a rectangular array of numbers"),
        (dict(NEURAL, x0=[[0.1, 0.2, 0.3]]), r"x0 has shape \(1, 3\) but the field has dimension d=2"),
        (dict(NEURAL, x0=[0.1, 0.2]), r"x0 must have 2 axes"),
        (dict(NEURAL, x0=[[0.1, float("inf")]]), r"x0 has a non-finite entry inf at index \(0, 1\)"),
        (dict(NEURAL, T=-1), "T must be a finite number > 0, got -1.0"),
        (dict(NEURAL, T="1"), "T must be a number, got '1'"),
        (dict(NEURAL, name=3), "name must be a string"),
        (dict(NEURAL, control_times=[0, 1]), "W must have 3 axes \\(K x p x d\\)"),
        (dict(PIECEWISE, control_times=[0, 0.5, 0.5]), "control_times must be strictly increasing: entry 2"),
        (dict(PIECEWISE, control_times=[0.1, 0.5, 1]), "control_times must start at 0"),
        (dict(PIECEWISE, control_times=[0, 0.5, 0.9]), "control_times must end at T = 1.0, got 0.9"),
        (dict(PIECEWISE, control_times=[0, 1]),
         "control_times has 2 entries but the parameters have 2 pieces: expected 3"),
        ({"kind": "linear", "A": [[[1, 0], [0, 1]]], "c": [[1, 2, 3]], "x0": [[0, 0]], "T": 1},
         r"c has shape \(1, 3\) but A has shape \(1, 2, 2\)"),
        ({"kind": "linear", "A": [[1, 0], [0, 1]], "x0": [[0, 0]], "T": 1}, "A must have 3 axes \\(p x d x d\\)"),
    ],
)
def test_bad_field_files(tmp_path, data, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(RBMInputError, match=f"^field file {re.escape(str(path))}: {message}"):
        load_problem(path)


def test_unreadable_field_files(tmp_path):
    with pytest.raises(RBMInputError, match="cannot read it"):
        load_problem(tmp_path / "missing.json")
    path = tmp_path / "broken.json"
    path.write_text('{"kind": "neural",')
    with pytest.raises(RBMInputError, match="invalid JSON at line 1 column"):
        load_problem(path)


def test_problem_from_dict_accepts_valid_files():
    problem = problem_from_dict(PIECEWISE)
    assert isinstance(problem.field, PiecewiseNeuralField) and problem.x0.shape == (2, 2)
    assert problem_from_dict(NEURAL).field.lipschitz_constants().shape == (2,)
