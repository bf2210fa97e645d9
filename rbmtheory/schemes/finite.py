"""Finite schemes: explicit batches with probabilities, and non-uniform pick-one/drop-one."""
from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import sympy as sp

from rbmtheory.errors import RBMInputError
from rbmtheory.laws import BatchLaw, FiniteLaw
from rbmtheory.schemes.base import Scheme, as_probability, as_size, check_total


def _probabilities(values: Any, name: str, allow_one: bool = True) -> tuple[sp.Expr, ...]:
    if not isinstance(values, (list, tuple)) or not values:
        raise RBMInputError(f"{name} must be a non-empty list of probabilities")
    return tuple(as_probability(v, f"{name}[{j}]", allow_zero=True, allow_one=allow_one) for j, v in enumerate(values))


class Family(Scheme):
    """A finite family: batch B_j with probability q_j (exact rationals).

    pi_i = sum_j q_j [i in B_j], pi_ik = sum_j q_j [i, k in B_j] (THEORY.md §2).

    >>> from rbmtheory.inclusion import inclusion
    >>> s = Family(batches=[[0, 1], [1, 2]], probs=[sp.Rational(1, 2), sp.Rational(1, 2)])
    >>> list(inclusion(s).vector)
    [1/2, 1, 1/2]
    """

    name = "family"
    params = ("batches", "probs")

    def __init__(self, batches: Any, probs: Any, p: Any = None, n_neurons: Any = None) -> None:
        if not isinstance(batches, (list, tuple)) or not batches:
            raise RBMInputError("family needs a non-empty list of batches")
        self.batches = [_batch(b, j) for j, b in enumerate(batches)]
        self.probs = list(_probabilities(probs, "probs"))
        if len(self.probs) != len(self.batches):
            raise RBMInputError(f"family has {len(self.batches)} batches but {len(self.probs)} probabilities")
        check_total(self.probs, "family probabilities")
        largest = max((max(b) for b in self.batches if b), default=-1) + 1
        self.n_neurons = as_size(n_neurons, "p") if n_neurons is not None else sp.Integer(max(largest, 1))
        if largest > self.n_neurons:
            raise RBMInputError(f"family batch holds neuron {largest - 1}, but p = {self.n_neurons}")
        super().__init__(p)

    @classmethod
    def from_file(cls, path: str | Path) -> "Family":
        """Read {"p": 5, "batches": [[0, 1], ...], "probs": ["1/2", ...]} from JSON."""
        try:
            data = json.loads(Path(path).read_text())
        except OSError as exc:
            raise RBMInputError(f"cannot read family file {path}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise RBMInputError(f"family file {path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
        if not isinstance(data, dict) or not {"batches", "probs"} <= set(data):
            raise RBMInputError(f"family file {path} must hold an object with keys p, batches, probs")
        probs = [_exact(v, f"{path}: probs[{j}]") for j, v in enumerate(data["probs"])]
        return cls(batches=data["batches"], probs=probs, n_neurons=data.get("p"))

    def fixed_p(self) -> sp.Integer:
        return self.n_neurons

    def parameters(self) -> dict[str, Any]:
        return {"batches": self.batches, "probs": self.probs}

    def at(self, p: Any) -> "Family":
        return Family(self.batches, self.probs, p=p, n_neurons=self.n_neurons)

    def law(self) -> BatchLaw:
        return FiniteLaw(self.p, tuple(frozenset(b) for b in self.batches), tuple(self.probs))


class WeightedPickOne(Scheme):
    """Non-uniform pick-one: B = {j} with probability q_j; pi_i = q_i, pi_ik = 0.

    >>> WeightedPickOne(q=[sp.Rational(1, 2), sp.Rational(1, 2)]).closed_forms()["pi"]
    Matrix([
    [1/2],
    [1/2]])
    """

    name = "pick-one"
    params = ("q",)

    def __init__(self, q: Any, p: Any = None) -> None:
        self.q = list(_probabilities(q, "q"))
        check_total(self.q, "pick-one probabilities q")
        super().__init__(p)

    def fixed_p(self) -> sp.Integer:
        return sp.Integer(len(self.q))

    def law(self) -> BatchLaw:
        return FiniteLaw(self.p, tuple(frozenset([j]) for j in range(len(self.q))), tuple(self.q))

    def closed_forms(self) -> dict[str, sp.Expr]:
        n = len(self.q)
        return {"pi": sp.Matrix(self.q), "pi_joint": sp.diag(*self.q) + sp.zeros(n, n)}


class WeightedDropOne(Scheme):
    """Non-uniform drop-one: B = [p] minus {j} with probability q_j.

    pi_i = 1 - q_i and pi_ik = 1 - q_i - q_k (THEORY.md §2).

    >>> WeightedDropOne(q=[sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 4)]).closed_forms()["pi"].T
    Matrix([[1/2, 3/4, 3/4]])
    """

    name = "drop-one"
    params = ("q",)

    def __init__(self, q: Any, p: Any = None) -> None:
        self.q = list(_probabilities(q, "q", allow_one=False))
        check_total(self.q, "drop-one probabilities q")
        super().__init__(p)

    def fixed_p(self) -> sp.Integer:
        return sp.Integer(len(self.q))

    def law(self) -> BatchLaw:
        everyone = frozenset(range(len(self.q)))
        return FiniteLaw(self.p, tuple(everyone - {j} for j in range(len(self.q))), tuple(self.q))

    def closed_forms(self) -> dict[str, sp.Expr]:
        q, n = self.q, len(self.q)
        joint = sp.Matrix(n, n, lambda i, k: 1 - q[i] if i == k else 1 - q[i] - q[k])
        return {"pi": sp.Matrix([1 - qi for qi in q]), "pi_joint": joint}


def _batch(value: Any, j: int) -> list[int]:
    if not isinstance(value, (list, tuple)):
        raise RBMInputError(f"batch {j} must be a list of neuron indices, got {value!r}")
    out = []
    for i in value:
        if isinstance(i, bool) or not isinstance(i, (int, sp.Integer)) or int(i) < 0:
            raise RBMInputError(f"batch {j} holds {i!r}, not a neuron index (0-based non-negative integer)")
        out.append(int(i))
    if len(set(out)) != len(out):
        raise RBMInputError(f"batch {j} lists a neuron twice: {value}")
    return sorted(out)


def _exact(value: Any, where: str) -> sp.Rational:
    """An exact rational from a JSON number or a string like "1/3" (no sympify)."""
    try:
        if isinstance(value, bool):
            raise ValueError
        fraction = Fraction(value) if isinstance(value, (int, str)) else Fraction(str(value))
    except (ValueError, ZeroDivisionError, TypeError):
        raise RBMInputError(f"{where} is {value!r}, not a probability") from None
    return sp.Rational(fraction.numerator, fraction.denominator)
