"""The scheme contract, modelled on sympy.stats' distribution classes.

A scheme declares

* ``name`` — its name in the spec grammar (:mod:`rbmtheory.spec`);
* ``params`` — the names of its parameters (numbers, exact rationals or symbols);
* :meth:`check` — validation that rejects bad values with a clear message;
* :meth:`law` — its definition: a :class:`rbmtheory.laws.BatchLaw`.

Everything else — pi_i, pi_ik, Delta, the variance, the levers, the constants — is
derived by the generic machinery (:mod:`rbmtheory.inclusion`,
:mod:`rbmtheory.variance`, :mod:`rbmtheory.levers`). A scheme may override a
quantity with a known closed form in :meth:`closed_forms`; the test suite holds
every override against the generic derivation.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import sympy as sp

from rbmtheory.errors import RBMInputError
from rbmtheory.laws import BatchLaw

P = sp.Symbol("p", integer=True, positive=True)

#: assumptions of the symbols a parameter may be
_SYMBOL_KINDS = {"size": {"integer": True, "positive": True}, "prob": {"positive": True}}


def symbol(name: str, kind: str) -> sp.Symbol:
    """The symbol of a symbolic parameter, with the assumptions of its kind."""
    return sp.Symbol(name, **_SYMBOL_KINDS[kind])


def decided(condition: Any) -> bool | None:
    """True/False when sympy can decide a (possibly symbolic) condition, else None."""
    value = sp.sympify(condition)
    if value in (sp.true, sp.false):
        return bool(value)
    return None


def require(condition: Any, message: str) -> None:
    """Raise :class:`RBMInputError` when ``condition`` is decidedly false."""
    if decided(condition) is False:
        raise RBMInputError(message)


def as_size(value: Any, name: str) -> sp.Expr:
    """A batch size or a number of neurons: a positive integer or a symbol."""
    if isinstance(value, sp.Symbol):
        return symbol(value.name, "size")
    if isinstance(value, str):
        return symbol(value, "size")
    number = sp.Rational(value) if not isinstance(value, sp.Basic) else value
    if not (number.is_Integer and number >= 1):
        raise RBMInputError(f"{name} must be a positive integer, got {value}")
    return sp.Integer(number)


def as_probability(value: Any, name: str, allow_zero: bool = False, allow_one: bool = True) -> sp.Expr:
    """An exact probability (a Rational) or a symbol; floats are converted exactly."""
    if isinstance(value, sp.Symbol):
        return symbol(value.name, "prob")
    if isinstance(value, str):
        return symbol(value, "prob")
    try:
        number = sp.Rational(value) if not isinstance(value, sp.Basic) else sp.nsimplify(value, rational=True)
    except (TypeError, ValueError):
        raise RBMInputError(f"{name} must be a probability, got {value!r}") from None
    low_ok = number >= 0 if allow_zero else number > 0
    high_ok = number <= 1 if allow_one else number < 1
    if not (number.is_Rational and low_ok and high_ok):
        interval = ("[0" if allow_zero else "(0") + ", " + ("1]" if allow_one else "1)")
        raise RBMInputError(f"{name} must lie in {interval}, got {value}")
    return number


def check_total(probs: list[sp.Expr], what: str) -> None:
    """Probabilities of a law must sum to exactly 1."""
    total = sp.nsimplify(sp.Add(*probs))
    if total != 1:
        raise RBMInputError(f"{what} sum to {total}, not 1")


class Scheme(ABC):
    """A probability law on batches of neurons (THEORY.md §2).

    Subclasses set ``name`` and ``params``, implement :meth:`law` and may extend
    :meth:`check` and :meth:`closed_forms`. ``p`` may be a symbol (the default) or a
    positive integer; schemes whose parameters fix p (explicit families, neuron-wise
    probabilities, strata, explicit blocks) set ``fixed_p``.
    """

    name: ClassVar[str]
    params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, p: Any = None) -> None:
        fixed = self.fixed_p()
        if p is None:
            self.p = fixed if fixed is not None else P
        else:
            self.p = as_size(p, "p")
            if fixed is not None and self.p != fixed:
                raise RBMInputError(f"scheme {self.spec()} fixes p = {fixed}, got p = {self.p}")
        self.check()
        self._check_covering()

    def _check_covering(self) -> None:
        """Every neuron must lie in a batch of positive probability (pi_i > 0)."""
        law = self.law()
        if not self.concrete:
            if getattr(law, "pi", None) == 0:
                raise RBMInputError(f"scheme {self.spec()} includes no neuron: pi = 0")
            return
        for i in range(int(self.p)):
            if law.inclusion(i) == 0:
                raise RBMInputError(f"scheme {self.spec()} never includes neuron {i} (pi_{i} = 0)")

    # -- what a scheme declares ---------------------------------------------------
    def fixed_p(self) -> sp.Integer | None:
        """The number of neurons the parameters fix, or None when p is free."""
        return None

    def check(self) -> None:
        """Reject bad parameter values (subclasses extend, calling super)."""
        require(self.p >= 1, f"p must be at least 1, got {self.p}")

    @abstractmethod
    def law(self) -> BatchLaw:
        """The definition of the scheme: the law of its random batch."""

    def closed_forms(self) -> dict[str, sp.Expr]:
        """Known closed forms (keys among ``pi``, ``pi2``, ``c_s``, ``c_m``); optional."""
        return {}

    # -- conveniences ---------------------------------------------------------------
    @property
    def exchangeable(self) -> bool:
        """Whether the law is invariant under permutations of the neurons."""
        return self.law().exchangeable

    @property
    def concrete(self) -> bool:
        return isinstance(self.p, sp.Integer)

    def parameters(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.params}

    def at(self, p: Any) -> "Scheme":
        """The same scheme with p = ``p``."""
        return type(self)(p=p, **self.parameters())

    def spec(self) -> str:
        """The spec string of this scheme (see :mod:`rbmtheory.spec`)."""
        args = ", ".join(f"{k}={_format_value(v)}" for k, v in self.parameters().items() if v is not None)
        return f"{self.name}({args})" if args else self.name

    def __repr__(self) -> str:
        return f"<{self.spec()} p={self.p}>"


def _format_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_format_value(k)}: {_format_value(v)}" for k, v in value.items()) + "}"
    return str(value)
