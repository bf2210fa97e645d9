r"""Cost–accuracy trade-off of continuous-time dropout (THEORY.md §8, paper Section 4.2).

Cost is the expected number of single-neuron evaluations on ``[0, T]`` with explicit
Euler of step ``dt``, the switching step ``h`` being a multiple of ``dt`` (constraint
4.5, ``dt <= h``):

.. math:: C_{full}(dt) = \frac{p T}{dt}, \qquad C_{rbm}(h, dt) = \frac{\bar r T}{dt}.

Two error models are treated by the same derivation (:func:`derive_optimum`):

* (4.7), the paper's bound: ``RMS <= sqrt(S h) + K dt`` (:func:`additive_model`);
* the sharper quadrature model ``E|err|^2 ~ C_lead h + B^2 dt^2``, in which the
  random-batch error is mean zero at leading order and the Euler error a bias
  (:func:`quadrature_model`).

Nothing below is typed in: the optimum, its regimes, the critical tolerance, the cost
ratio and its limits are derived with sympy, and the float evaluation used by
:func:`optimal_switching` is compiled from the derived, cancellation-free form.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from rbmtheory.errors import RBMInputError

S, K, K_full, eps, h, dt, T, p, r_bar = sp.symbols(
    "S K K_full epsilon h dt T p r_bar", positive=True
)
C_lead, B = sp.symbols("C_lead B", positive=True)

#: pi_bar = r_bar / p (mean fraction of neurons evaluated) and kappa = K / K_full.
PI_BAR = r_bar / p
KAPPA = K / K_full

#: Cost model (4.6).
COST_FULL = p * T / dt
COST_RBM = r_bar * T / dt

#: The two terms of the error model (4.7), and the full model's Euler error (4.12).
VARIANCE_TERM = sp.sqrt(S * h)
DISCRETISATION_TERM = K * dt
ERROR_ADDITIVE = VARIANCE_TERM + DISCRETISATION_TERM
ERROR_QUADRATURE = sp.sqrt(C_lead * h + B**2 * dt**2)
ERROR_FULL = K_full * dt

DISCRETISATION_LIMITED = "discretisation-limited"
VARIANCE_LIMITED = "variance-limited"


@dataclass(frozen=True)
class Optimum:
    """The cost-minimising switching step for one error model, with what follows from it.

    ``facts`` holds the sympy-checked statements that reduce the constrained
    minimisation to the tolerance equation ``error(h, h) = eps``.
    """

    error: sp.Expr
    facts: dict[str, bool]
    h_star: sp.Expr
    h_star_stable: sp.Expr
    h_star_large: sp.Expr
    h_star_small: sp.Expr
    eps_c: sp.Expr
    ratio: sp.Expr
    ratio_large: sp.Expr
    ratio_small: sp.Expr


def _largest_step(error_of_step: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """The positive root ``h`` of ``error_of_step = eps``, as (derived, cancellation-free).

    With ``h = u**2`` the equation becomes polynomial in ``u`` (``K u^2 + sqrt(S) u - eps``
    for 4.7); its roots that sympy proves non-positive are dropped, and the survivor's
    cancellation-free form ``1 / radsimp(1 / h)`` proves it positive.
    """
    u, w = sp.Symbol("u", positive=True), sp.Symbol("w")
    equation = (error_of_step.subs(h, u**2) - eps).subs(u, w)
    (root,) = [r for r in sp.solve(equation, w) if r.is_positive is not False]
    stable = 1 / sp.radsimp(1 / root**2)
    if not stable.is_positive:
        raise RBMInputError(f"cannot show that the step {root**2} is positive")
    return root**2, stable


def _leading_term(expr: sp.Expr, at_infinity: bool) -> sp.Expr:
    """Leading term of ``expr`` as ``eps -> oo`` or ``eps -> 0``."""
    if not at_infinity:
        return expr.as_leading_term(eps)
    x = sp.Dummy("x", positive=True)
    return expr.subs(eps, 1 / x).as_leading_term(x).subs(x, 1 / eps)


@lru_cache(maxsize=None)
def full_model() -> tuple[sp.Expr, sp.Expr]:
    r"""Optimal step and cost of the full model, (4.12).

    .. math:: dt_{full} = \frac{\varepsilon}{K_{full}}, \qquad
              C_{full} = \frac{p T K_{full}}{\varepsilon}

    Source: THEORY.md §8, paper (4.12). ``C_full`` decreases in ``dt``, so the largest
    step with ``K_full dt <= eps`` is optimal.

    Examples
    ========

    >>> from rbmtheory.tradeoff import full_model
    >>> full_model()
    (epsilon/K_full, K_full*T*p/epsilon)
    """
    dt_full, _ = _largest_step(ERROR_FULL.subs(dt, h))
    return dt_full, COST_FULL.subs(dt, dt_full)


@lru_cache(maxsize=None)
def derive_optimum(error: sp.Expr) -> Optimum:
    r"""Minimise ``C_rbm(h, dt)`` subject to ``error(h, dt) <= eps`` and ``dt <= h``.

    The cost decreases in ``dt`` and the error increases in ``h``, so for a given ``dt``
    the best ``h`` is ``dt``; along ``dt = h`` the error increases, so the optimum
    ``h*`` solves ``error(h, h) = eps``. Then: the regimes are the leading terms of
    ``h*`` as ``eps -> oo`` / ``eps -> 0``, ``eps_c`` is where they cross, and the cost
    ratio (4.13) is ``C_rbm(h*, h*) / C_full(dt_full)`` with its limits (Cor. 4.5).

    Source: THEORY.md §8, paper Prop. 4.2, Prop. 4.4, Cor. 4.5.

    Parameters
    ==========

    error : sympy expression in ``h`` and ``dt``, the RMS error bound.

    Examples
    ========

    >>> from rbmtheory.tradeoff import ERROR_ADDITIVE, derive_optimum
    >>> opt = derive_optimum(ERROR_ADDITIVE)
    >>> opt.facts
    {'C_rbm decreasing in dt': True, 'error increasing in h': True,
     'error increasing along dt = h': True}
    >>> opt.h_star_stable
    4*epsilon**2/(sqrt(S) + sqrt(4*K*epsilon + S))**2
    """
    along_diagonal = error.subs(dt, h)
    facts = {
        "C_rbm decreasing in dt": bool(sp.diff(COST_RBM, dt).is_negative),
        "error increasing in h": bool(sp.diff(error, h).is_positive),
        "error increasing along dt = h": bool(sp.diff(along_diagonal, h).is_positive),
    }
    if not all(facts.values()):
        raise RBMInputError(f"error model {error} is not increasing in h: {facts}")
    h_star, h_star_stable = _largest_step(along_diagonal)
    large, small = (_leading_term(h_star, at_inf) for at_inf in (True, False))
    (eps_c,) = [root for root in sp.solve(sp.Eq(large, small), eps) if root.is_positive]
    ratio = sp.simplify(COST_RBM.subs(dt, h_star) / full_model()[1])
    return Optimum(
        error=error,
        facts=facts,
        h_star=h_star,
        h_star_stable=h_star_stable,
        h_star_large=large,
        h_star_small=small,
        eps_c=eps_c,
        ratio=ratio,
        ratio_large=sp.limit(ratio, eps, sp.oo),
        ratio_small=_leading_term(ratio, at_infinity=False),
    )


def additive_model() -> Optimum:
    r"""Proposition 4.2 and its consequences for the error model (4.7).

    .. math:: h^* = \left(\frac{\sqrt{S + 4 K \varepsilon} - \sqrt{S}}{2K}\right)^2,
              \qquad \varepsilon_c = \frac{S}{K}

    with ``h* ~ eps/K`` for ``eps >> eps_c`` (discretisation-limited), ``h* ~ eps^2/S``
    for ``eps << eps_c`` (variance-limited), the ratio (4.13)
    ``C_rbm/C_full = (r_bar/p) eps/(K_full h*)``, and (Cor. 4.5) ``ratio -> pi_bar kappa``
    as ``eps -> oo``, ``ratio ~ pi_bar S/(K_full eps)`` as ``eps -> 0``.

    Source: THEORY.md §8, paper Prop. 4.2, Prop. 4.4, Cor. 4.5.

    Examples
    ========

    >>> from rbmtheory.tradeoff import additive_model
    >>> opt = additive_model()
    >>> opt.h_star
    (-sqrt(S) + sqrt(4*K*epsilon + S))**2/(4*K**2)
    >>> opt.h_star_large, opt.h_star_small, opt.eps_c
    (epsilon/K, epsilon**2/S, S/K)
    >>> opt.ratio_large, opt.ratio_small
    (K*r_bar/(K_full*p), S*r_bar/(K_full*epsilon*p))
    """
    return derive_optimum(ERROR_ADDITIVE)


def quadrature_model() -> Optimum:
    r"""The same derivation for ``RMS = sqrt(C_lead h + B^2 dt^2)``.

    .. math:: h^*_q = \frac{\sqrt{C_{lead}^2 + 4 B^2 \varepsilon^2} - C_{lead}}{2 B^2},
              \qquad \varepsilon_c = \frac{C_{lead}}{B}

    Source: THEORY.md §8 (sharper model). With ``C_lead = S`` and ``B = K`` the
    quadrature error is below (4.7), so ``h*_q >= h*``.

    Examples
    ========

    >>> from rbmtheory.tradeoff import quadrature_model
    >>> opt = quadrature_model()
    >>> opt.h_star
    (-C_lead + sqrt(4*B**2*epsilon**2 + C_lead**2))/(2*B**2)
    >>> opt.h_star_stable
    2*epsilon**2/(C_lead + sqrt(4*B**2*epsilon**2 + C_lead**2))
    >>> opt.eps_c, opt.ratio_large
    (C_lead/B, B*r_bar/(K_full*p))
    """
    return derive_optimum(ERROR_QUADRATURE)


@dataclass(frozen=True)
class Remark43:
    """The simpler step of Remark 4.3 and the sympy-checked facts of its proof."""

    h_tilde: sp.Expr
    candidates: tuple[sp.Expr, sp.Expr]
    facts: dict[str, bool]


@lru_cache(maxsize=None)
def remark_4_3() -> Remark43:
    r"""Remark 4.3: the step that gives each term of (4.7) half the tolerance.

    .. math:: \tilde h = \min\left(\frac{\varepsilon^2}{4S}, \frac{\varepsilon}{2K}\right)
              \quad\Rightarrow\quad \sqrt{S\tilde h} + K\tilde h \le \varepsilon

    Proof (both branches at once): each candidate solves ``term = eps/2`` for its own
    term; in the branch where ``h~`` is one candidate, that term is exactly ``eps/2`` and
    the other term, increasing in ``h``, is at most its value ``eps/2`` at its own (larger)
    candidate. ``facts`` records these checks.

    Source: THEORY.md §8, paper Remark 4.3, (4.11).

    Examples
    ========

    >>> from rbmtheory.tradeoff import remark_4_3
    >>> remark = remark_4_3()
    >>> remark.h_tilde
    Min(epsilon/(2*K), epsilon**2/(4*S))
    >>> all(remark.facts.values())
    True
    """
    terms = (VARIANCE_TERM, DISCRETISATION_TERM.subs(dt, h))
    candidates = tuple(sp.solve(sp.Eq(term, eps / 2), h)[0] for term in terms)
    facts = {}
    for term, candidate in zip(terms, candidates):
        facts[f"{term} = eps/2 at h = {candidate}"] = sp.simplify(term.subs(h, candidate) - eps / 2) == 0
        facts[f"{term} increasing in h"] = bool(sp.diff(term, h).is_positive)
    return Remark43(h_tilde=sp.Min(*candidates), candidates=candidates, facts=facts)


def formulas() -> dict[str, sp.Expr]:
    """The formulas of THEORY.md §8 by name, as derived here (for reports and the CLI).

    Examples
    ========

    >>> from rbmtheory.tradeoff import formulas
    >>> formulas()["eps_c"]
    S/K
    """
    add, quad, (dt_full, cost_full) = additive_model(), quadrature_model(), full_model()
    return {
        "C_full(dt) (4.6)": COST_FULL,
        "C_rbm(h, dt) (4.6)": COST_RBM,
        "RMS error bound (4.7)": ERROR_ADDITIVE,
        "h_star (Prop. 4.2)": add.h_star,
        "h_star, cancellation-free": add.h_star_stable,
        "eps_c": add.eps_c,
        "h_star, eps >> eps_c": add.h_star_large,
        "h_star, eps << eps_c": add.h_star_small,
        "h_tilde (Remark 4.3)": remark_4_3().h_tilde,
        "dt_full (4.12)": dt_full,
        "C_full at dt_full (4.12)": cost_full,
        "C_rbm / C_full (Prop. 4.4)": add.ratio,
        "ratio, eps -> oo (Cor. 4.5)": add.ratio_large,
        "ratio, eps -> 0 (Cor. 4.5)": add.ratio_small,
        "quadrature RMS error": ERROR_QUADRATURE,
        "quadrature h_star": quad.h_star,
        "quadrature h_star, cancellation-free": quad.h_star_stable,
        "quadrature eps_c": quad.eps_c,
        "quadrature h_star, eps >> eps_c": quad.h_star_large,
        "quadrature h_star, eps << eps_c": quad.h_star_small,
        "quadrature C_rbm / C_full": quad.ratio,
        "quadrature ratio, eps -> oo": quad.ratio_large,
        "quadrature ratio, eps -> 0": quad.ratio_small,
    }


@dataclass(frozen=True)
class SwitchingPlan:
    """Numbers of THEORY.md §8 for one set of constants (see :func:`optimal_switching`)."""

    h_star: float
    eps_c: float
    regime: str
    cost_rbm: float
    cost_full: float
    ratio: float
    dt_full: float
    h_tilde: float
    h_star_quadrature: float


_PARAMETERS = (S, K, K_full, p, r_bar, eps, T)


@lru_cache(maxsize=None)
def _evaluators() -> dict[str, Callable[..., float]]:
    """Float functions of ``_PARAMETERS`` compiled from the derived, cancellation-free forms."""
    h_star = additive_model().h_star_stable
    dt_full, cost_full = full_model()
    expressions = {
        "h_star": h_star,
        "eps_c": additive_model().eps_c,
        "cost_rbm": COST_RBM.subs(dt, h_star),
        "cost_full": cost_full,
        "dt_full": dt_full,
        "h_star_quadrature": quadrature_model().h_star_stable.subs({C_lead: S, B: K}),
        # h~ = 1 / max(1 / candidates): defined for S = 0, where eps^2/(4S) is infinite.
        "inverse_candidates": sp.Tuple(*(1 / c for c in remark_4_3().candidates)),
    }
    return {name: sp.lambdify(_PARAMETERS, e, modules="math") for name, e in expressions.items()}


def _checked(name: str, value: float, ok: Callable[[float], bool], requirement: str) -> float:
    """``value`` as a finite float meeting ``ok``, else :class:`RBMInputError` naming it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RBMInputError(f"{name} must be {requirement}, got {value!r}") from None
    if not (math.isfinite(number) and ok(number)):
        raise RBMInputError(f"{name} must be {requirement}, got {number:.15g}")
    return number


def _positive(name: str, value: float) -> float:
    return _checked(name, value, lambda v: v > 0, "a positive finite number")


def optimal_switching(
    S: float, K: float, K_full: float, p: float, r_bar: float, eps: float, T: float = 1
) -> SwitchingPlan:
    r"""Optimal switching step, regime, costs and cost ratio for a tolerance ``eps``.

    .. math:: h^* = \left(\frac{2\varepsilon}{\sqrt{S + 4K\varepsilon} + \sqrt{S}}\right)^2,
              \quad C_{rbm} = \frac{\bar r T}{h^*}, \quad
              C_{full} = \frac{p T K_{full}}{\varepsilon}

    Evaluated in floats from the cancellation-free form of the derived ``h*`` (accurate
    to a few ulp for ``eps`` from 1e-15 to 1e3); ``h_star_quadrature`` uses the
    quadrature model with ``C_lead = S``, ``B = K``. ``S = 0`` (a single batch) gives
    ``h* = eps / K``.

    Source: THEORY.md §8, paper Prop. 4.2, Remark 4.3, (4.12), Prop. 4.4.

    Parameters
    ==========

    S : variance constant, ``>= 0``.
    K, K_full : Euler constants of the random and the full model, ``> 0``.
    p : number of neurons, ``>= 1``; r_bar : mean batch size, ``0 < r_bar <= p``.
    eps : RMS tolerance, ``> 0``; T : horizon, ``> 0``.

    Raises
    ======

    RBMInputError : a value is out of range or not finite.

    Examples
    ========

    >>> from rbmtheory.tradeoff import optimal_switching
    >>> plan = optimal_switching(S=1, K=1, K_full=1, p=10, r_bar=5, eps=2)
    >>> plan.h_star, plan.eps_c, plan.regime
    (1.0, 1.0, 'discretisation-limited')
    >>> plan.cost_rbm, plan.cost_full, plan.ratio
    (5.0, 5.0, 1.0)
    >>> optimal_switching(S=0, K=2, K_full=1, p=1, r_bar=1, eps=8).h_star
    4.0
    """
    S = _checked("S", S, lambda v: v >= 0, "a non-negative finite number")
    K, K_full, eps, T = (_positive(n, v) for n, v in (("K", K), ("K_full", K_full), ("eps", eps), ("T", T)))
    p = _checked("p", p, lambda v: v >= 1, "a finite number >= 1")
    r_bar = _checked("r_bar", r_bar, lambda v: 0 < v <= p, f"a finite number with 0 < r_bar <= p = {p:.15g}")
    values = (S, K, K_full, p, r_bar, eps, T)
    numbers = {name: f(*values) for name, f in _evaluators().items()}
    inverse_candidates = numbers.pop("inverse_candidates")
    return SwitchingPlan(
        **numbers,
        regime=DISCRETISATION_LIMITED if eps > numbers["eps_c"] else VARIANCE_LIMITED,
        ratio=numbers["cost_rbm"] / numbers["cost_full"],  # (4.13)
        h_tilde=1 / max(inverse_candidates),
    )
