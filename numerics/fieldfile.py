"""The JSON field file read by the command line, and the built-in default problem.

File format (one JSON object; THEORY.md sections 1 and 9)::

    {"kind": "neural", "activation": "tanh",
     "W": [[...]], "A": [[...]], "b": [...],      W, A: p x d; b: p entries
     "x0": [[...]], "T": 1.0}                       x0: one or more points (N x d)

    piecewise-constant parameters: W, A, b get a leading axis of K pieces and
    "control_times": [0, t_1, ..., T] (K + 1 increasing breakpoints; piece k on
    [t_k, t_{k+1}))

    {"kind": "linear", "A": [p x d x d], "c": [p x d] (optional),
     "x0": [[...]], "T": 1.0}

Optional in both: "name", "description". Any other key, a missing key, a shape
mismatch, a non-finite number, an unknown kind or activation, or control times
that do not increase from 0 to T raise :class:`RBMInputError` naming the key.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from numerics.activations import get_activation
from numerics.fields import Field, LinearField, NeuralField, PiecewiseNeuralField
from numerics.fields._validate import float_array, positive_time
from rbmtheory.errors import RBMInputError

FloatArray = NDArray[np.float64]

_KEYS = {
    "neural": ({"activation", "W", "A", "b", "x0", "T"}, {"control_times"}),
    "linear": ({"A", "x0", "T"}, {"c"}),
}
_COMMON_OPTIONAL = {"kind", "name", "description"}

DEFAULT_LIPSCHITZ = 1.5  # L = sum_i L_i of the default problem (T = 1, so L T = 1.5)


@dataclass(frozen=True)
class Problem:
    """A field, initial points ``x0 (N, d)`` and the horizon ``T``."""

    field: Field
    x0: FloatArray
    T: float
    name: str
    description: str = ""


def load_problem(path: str | Path) -> Problem:
    """Read a field file (module docstring); errors name the file and the key."""
    path = Path(path)
    source = f"field file {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RBMInputError(f"{source}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RBMInputError(
            f"{source}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    return problem_from_dict(data, source=source, default_name=path.stem)


def problem_from_dict(data: Any, source: str = "field file", default_name: str = "problem") -> Problem:
    """Build a :class:`Problem` from the parsed JSON object ``data``."""
    try:
        return _parse(data, default_name)
    except RBMInputError as exc:
        raise RBMInputError(f"{source}: {exc}") from None


def _parse(data: Any, default_name: str) -> Problem:
    if not isinstance(data, Mapping):
        raise RBMInputError(f"the top level must be a JSON object, got {type(data).__name__}")
    kind = data.get("kind")
    if kind not in _KEYS:
        raise RBMInputError(f"unknown kind {kind!r} (known: {', '.join(_KEYS)})")
    required, optional = _KEYS[kind]
    missing = sorted(required - data.keys())
    if missing:
        raise RBMInputError(f"missing key {missing[0]!r} for kind {kind!r}")
    unknown = sorted(data.keys() - required - optional - _COMMON_OPTIONAL)
    if unknown:
        raise RBMInputError(f"unknown key {unknown[0]!r} for kind {kind!r}")
    T = positive_time("T", data["T"])
    field = _neural_field(data, T) if kind == "neural" else LinearField(data["A"], data.get("c"))
    x0 = float_array("x0", data["x0"], 2, "a list of N points, N x d")
    if x0.shape[0] == 0 or x0.shape[1] != field.d:
        raise RBMInputError(
            f"x0 has shape {x0.shape} but the field has dimension d={field.d}: expected (N, {field.d})"
        )
    x0.flags.writeable = False
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise RBMInputError(f"{key} must be a string, got {data[key]!r}")
    return Problem(field, x0, T, data.get("name", default_name), data.get("description", ""))


def _neural_field(data: Mapping, T: float) -> Field:
    activation = get_activation(data["activation"])
    if "control_times" not in data:
        return NeuralField(data["W"], data["A"], data["b"], activation)
    field = PiecewiseNeuralField(data["W"], data["A"], data["b"], data["control_times"], activation)
    end = field.control_times[-1]
    if not math.isclose(end, T, rel_tol=1e-12, abs_tol=0.0):
        raise RBMInputError(f"control_times must end at T = {T}, got {end}")
    return field


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    """The JSON object of a problem whose field is neural (constant or piecewise) or linear."""
    field = problem.field
    if isinstance(field, (NeuralField, PiecewiseNeuralField)):
        data: dict[str, Any] = {"kind": "neural", "activation": field.activation.name}
        data.update(W=field.W.tolist(), A=field.A.tolist(), b=field.b.tolist())
        if isinstance(field, PiecewiseNeuralField):
            data["control_times"] = field.control_times.tolist()
    elif isinstance(field, LinearField):
        data = {"kind": "linear", "A": field.A.tolist(), "c": field.c.tolist()}
    else:
        raise RBMInputError(f"cannot write a field of type {type(field).__name__} to a field file")
    data.update(x0=problem.x0.tolist(), T=problem.T, name=problem.name, description=problem.description)
    return data


def save_problem(problem: Problem, path: str | Path) -> None:
    """Write ``problem`` as a field file that :func:`load_problem` reads back exactly."""
    Path(path).write_text(json.dumps(problem_to_dict(problem)) + "\n", encoding="utf-8")


def make_circles(
    n_points: int, rng: np.random.Generator, d: int = 2, noise: float = 0.05, factor: float = 0.5
) -> tuple[FloatArray, NDArray[np.int64]]:
    """Two noisy concentric circles in the first two coordinates (like sklearn's make_circles).

    n_points // 2 points on the unit circle (label 0) and the rest on the circle of
    radius ``factor`` (label 1), equally spaced angles, then N(0, noise^2) added to
    every coordinate (the coordinates beyond the second are pure noise).
    """
    _check_int("make_circles: n_points", n_points, 1)
    _check_int("make_circles: d", d, 2)
    n_outer = n_points // 2
    n_inner = n_points - n_outer
    angles = [np.linspace(0.0, 2.0 * np.pi, n, endpoint=False) for n in (n_outer, n_inner)]
    x = np.zeros((n_points, d))
    x[:n_outer, 0], x[:n_outer, 1] = np.cos(angles[0]), np.sin(angles[0])
    x[n_outer:, 0], x[n_outer:, 1] = factor * np.cos(angles[1]), factor * np.sin(angles[1])
    x += noise * rng.standard_normal(x.shape)
    labels = np.repeat([0, 1], [n_outer, n_inner])
    return x, labels


def default_problem(
    seed: int = 0,
    p: int = 24,
    d: int = 2,
    activation: str = "tanh",
    n_points: int = 32,
    time_dependent: bool = False,
    n_pieces: int = 4,
) -> Problem:
    """The built-in problem: a random single-layer neural field on [0, T], T = 1.

    Random numbers: ``SeedSequence(seed)`` spawns two streams, one for the
    parameters and one for x0, so the field does not depend on ``n_points``.

    Scaling (mean field, THEORY.md section 3): for each piece k (K = ``n_pieces``
    pieces on the uniform grid 0, 1/K, ..., 1 when ``time_dependent``, else K = 1)
    and neuron i,

        a_{k,i} ~ N(0, I_d),  b_{k,i} ~ N(0, 1),  g_{k,i} ~ N(0, I_d),
        w_{k,i} = (c / p) g_{k,i},
        c = 1.5 p / (sup|sigma'| sum_i max_k |g_{k,i}| |a_{k,i}|),

    so that L = sum_i L_i = sum_i max_k |w_{k,i}| |a_{k,i}| sup|sigma'| = 1.5 exactly
    and L T = 1.5. The constant c is O(1) (about 1.5 / (sup|sigma'| E|g| |a|), 0.95
    for tanh in d = 2, where E|g| |a| = pi / 2), each |w_i| is O(1/p) and
    |F| <= sum_i |w_i| = O(1), so trajectories from O(1) data stay O(1).
    x0: :func:`make_circles` with ``n_points`` points, noise 0.05, factor 0.5.
    """
    for name, value, low in (("seed", seed, 0), ("p", p, 1), ("n_pieces", n_pieces, 1)):
        _check_int(f"default problem: {name}", value, low)
    act = get_activation(activation)
    pieces = n_pieces if time_dependent else 1
    param_seq, data_seq = np.random.SeedSequence(seed).spawn(2)
    rng = np.random.default_rng(param_seq)
    A = rng.standard_normal((pieces, p, d))
    b = rng.standard_normal((pieces, p))
    g = rng.standard_normal((pieces, p, d))
    size = (np.linalg.norm(g, axis=2) * np.linalg.norm(A, axis=2)).max(axis=0).sum()
    W = g * (DEFAULT_LIPSCHITZ / (act.sup_derivative * size))
    x0, _ = make_circles(n_points, np.random.default_rng(data_seq), d)
    T = 1.0
    if time_dependent:
        field: Field = PiecewiseNeuralField(W, A, b, np.linspace(0.0, T, pieces + 1), act)
    else:
        field = NeuralField(W[0], A[0], b[0], act)
    kind = f"piecewise-constant ({pieces} pieces)" if time_dependent else "time-independent"
    description = (
        f"default problem: p={p}, d={d}, {act.name}, {kind}, {n_points} circle points, "
        f"T={T}, L={DEFAULT_LIPSCHITZ}"
    )
    x0.flags.writeable = False
    return Problem(field, x0, T, f"default-seed{seed}", description)


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise RBMInputError(f"{name} must be an integer >= {low}, got {value!r}")
