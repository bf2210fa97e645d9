"""Tests of the cost–accuracy trade-off (THEORY.md §8, paper Section 4.2)."""
from __future__ import annotations

import json
import math

import pytest
import sympy as sp

from rbmtheory import tradeoff as t
from rbmtheory.errors import RBMInputError
from reporting.cli import main

S, K, K_full, eps, h, dt, T, p, r_bar = t.S, t.K, t.K_full, t.eps, t.h, t.dt, t.T, t.p, t.r_bar
C_lead, B = t.C_lead, t.B

EPS_GRID = [10.0**k for k in range(-15, 4)] + [3.7 * 10.0**k for k in range(-15, 3)]
S_VALUES = [0.0, 1e-6, 0.3, 1.0, 1e3]
K_VALUES = [1e-3, 0.7, 1.0, 1e3]
MODELS = {"additive": t.additive_model, "quadrature": t.quadrature_model}
CLOSED_FORMS = {  # THEORY.md §8 (Prop. 4.2) and its quadrature analogue
    "additive": ((sp.sqrt(S + 4 * K * eps) - sp.sqrt(S)) / (2 * K)) ** 2,
    "quadrature": (sp.sqrt(C_lead**2 + 4 * B**2 * eps**2) - C_lead) / (2 * B**2),
}
PLAN = dict(K_full=2.5, p=100, r_bar=20)


def plan(S: float, K: float, eps: float, **kw: float) -> t.SwitchingPlan:
    return t.optimal_switching(S=S, K=K, eps=eps, **{**PLAN, **kw})


def relative_error(value: float, reference: float) -> float:
    return abs(value - reference) / abs(reference)


@pytest.mark.parametrize("name", MODELS)
def test_reduction_to_dt_equals_h(name):
    assert MODELS[name]().facts == dict.fromkeys(MODELS[name]().facts, True)
    assert len(MODELS[name]().facts) == 3


# In the additive model sqrt(S h*) leaves |sqrt(S + 4 K eps) - sqrt(S)| in the naive form;
# in the quadrature model simplify handles the naive form but not the rationalised one.
@pytest.mark.parametrize("name, form", [("additive", "h_star_stable"), ("quadrature", "h_star")])
def test_h_star_solves_tolerance_equation(name, form):
    model = MODELS[name]()
    at_optimum = model.error.subs(dt, h).subs(h, getattr(model, form))
    assert sp.simplify(at_optimum - eps) == 0


@pytest.mark.parametrize("name", MODELS)
def test_h_star_closed_form_and_stable_form(name):
    model = MODELS[name]()
    assert sp.simplify(model.h_star - CLOSED_FORMS[name]) == 0
    assert sp.simplify(model.h_star_stable - model.h_star) == 0
    sums = model.h_star_stable.atoms(sp.Add)
    assert sums and not any(term.could_extract_minus_sign() for s in sums for term in s.args)


@pytest.mark.parametrize("name", MODELS)
def test_numeric_h_star_matches_mpmath_50_digits(name):
    exact = MODELS[name]().h_star
    if name == "quadrature":
        exact = exact.subs({C_lead: S, B: K})
    field = {"additive": "h_star", "quadrature": "h_star_quadrature"}[name]
    worst = 0.0
    for s_value in S_VALUES:
        for k_value in K_VALUES:
            for e_value in EPS_GRID:
                values = {S: sp.Rational(s_value), K: sp.Rational(k_value), eps: sp.Rational(e_value)}
                reference = float(exact.evalf(50, subs=values))
                worst = max(worst, relative_error(getattr(plan(s_value, k_value, e_value), field), reference))
    assert worst < 1e-12


def test_regimes_and_critical_tolerance():
    add, quad = t.additive_model(), t.quadrature_model()
    assert (add.h_star_large, add.h_star_small, add.eps_c) == (eps / K, eps**2 / S, S / K)
    assert (quad.h_star_large, quad.h_star_small, quad.eps_c) == (eps / B, eps**2 / C_lead, C_lead / B)
    for model in (add, quad):
        assert sp.limit(model.h_star / model.h_star_large, eps, sp.oo) == 1
        assert sp.limit(model.h_star / model.h_star_small, eps, 0) == 1


@pytest.mark.parametrize("s_value, k_value", [(1.0, 1.0), (1e-4, 3.0), (50.0, 0.02)])
def test_regimes_numerically_at_extreme_eps(s_value, k_value):
    eps_large = 1e15 * s_value / k_value  # 1e15 eps_c
    small, large = plan(s_value, k_value, 1e-15), plan(s_value, k_value, eps_large)
    assert small.regime == "variance-limited" and large.regime == "discretisation-limited"
    assert small.eps_c == pytest.approx(s_value / k_value, rel=1e-15)
    assert small.h_star == pytest.approx(1e-30 / s_value, rel=1e-9)
    assert small.h_star_quadrature == pytest.approx(1e-30 / s_value, rel=1e-9)
    assert large.h_star == pytest.approx(eps_large / k_value, rel=1e-6)
    assert large.h_star_quadrature == pytest.approx(eps_large / k_value, rel=1e-6)


def test_single_batch_s_zero():
    result = plan(0.0, 3.0, 0.6)
    assert result.h_star == pytest.approx(0.2, rel=1e-15)
    assert result.h_star_quadrature == pytest.approx(0.2, rel=1e-15)
    assert result.h_tilde == pytest.approx(0.1, rel=1e-15)
    assert (result.eps_c, result.regime) == (0.0, "discretisation-limited")


def test_h_tilde_symbolic():
    remark = t.remark_4_3()
    assert remark.candidates == (eps**2 / (4 * S), eps / (2 * K))
    assert remark.h_tilde == sp.Min(eps**2 / (4 * S), eps / (2 * K))
    assert len(remark.facts) == 4 and all(remark.facts.values())


def test_h_tilde_meets_tolerance_on_grid():
    for s_value in S_VALUES:
        for k_value in K_VALUES:
            for e_value in EPS_GRID:
                result = plan(s_value, k_value, e_value)
                error = math.sqrt(s_value * result.h_tilde) + k_value * result.h_tilde
                assert error <= e_value * (1 + 1e-14)
                assert result.h_tilde <= result.h_star * (1 + 1e-14) <= result.h_star_quadrature * (1 + 2e-14)
                if s_value > 0:
                    expected = min(e_value**2 / (4 * s_value), e_value / (2 * k_value))
                    assert result.h_tilde == pytest.approx(expected, rel=1e-15)


def test_full_model_and_ratio_formula():
    dt_full, cost_full = t.full_model()
    assert (dt_full, cost_full) == (eps / K_full, p * T * K_full / eps)
    for model in MODELS.values():
        assert sp.simplify(model().ratio - (r_bar / p) * eps / (K_full * model().h_star)) == 0


def test_corollary_4_5_symbolic():
    add, quad = t.additive_model(), t.quadrature_model()
    assert sp.simplify(add.ratio_large - t.PI_BAR * t.KAPPA) == 0
    assert sp.simplify(add.ratio_small - t.PI_BAR * S / (K_full * eps)) == 0
    assert sp.simplify(quad.ratio_large - t.PI_BAR * B / K_full) == 0
    assert sp.simplify(quad.ratio_small - t.PI_BAR * C_lead / (K_full * eps)) == 0
    assert sp.limit(add.ratio / add.ratio_small, eps, 0) == 1


def test_corollary_4_5_numerically():
    s_value, k_value, pi_bar = 0.5, 4.0, PLAN["r_bar"] / PLAN["p"]
    large = plan(s_value, k_value, 1e3, T=7.0)
    assert large.ratio == pytest.approx(pi_bar * k_value / PLAN["K_full"], rel=2e-2)
    assert plan(s_value, k_value, 1e3 * 1e12).ratio == pytest.approx(pi_bar * k_value / PLAN["K_full"], rel=1e-6)
    small = plan(s_value, k_value, 1e-12)
    assert small.ratio == pytest.approx(pi_bar * s_value / (PLAN["K_full"] * 1e-12), rel=1e-10)
    assert large.cost_rbm / large.cost_full == large.ratio
    assert large.cost_full == pytest.approx(PLAN["p"] * 7.0 * PLAN["K_full"] / 1e3, rel=1e-15)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"eps": -1}, "eps must be a positive finite number, got -1"),
        ({"eps": float("nan")}, "eps must be a positive finite number, got nan"),
        ({"S": -0.5}, "S must be a non-negative finite number, got -0.5"),
        ({"K": 0}, "K must be a positive finite number, got 0"),
        ({"K_full": float("inf")}, "K_full must be a positive finite number, got inf"),
        ({"p": 0.5}, "p must be a finite number >= 1, got 0.5"),
        ({"r_bar": 101}, "r_bar must be a finite number with 0 < r_bar <= p = 100, got 101"),
        ({"r_bar": 0}, "r_bar must be a finite number with 0 < r_bar <= p = 100, got 0"),
        ({"T": -2}, "T must be a positive finite number, got -2"),
        ({"S": "x"}, "S must be a non-negative finite number, got 'x'"),
    ],
)
def test_invalid_input(bad, message):
    arguments = {"S": 1.0, "K": 1.0, "eps": 0.1, **PLAN, **bad}
    with pytest.raises(RBMInputError) as info:
        t.optimal_switching(**arguments)
    assert str(info.value) == message


CLI_NUMBERS = ["--S", "0.5", "--K", "4", "--K-full", "2.5", "--p", "100", "--r-bar", "20", "--eps", "0.01"]


def test_cli_json(capsys):
    assert main(["tradeoff", *CLI_NUMBERS, "--T", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = plan(0.5, 4.0, 0.01, T=3.0)
    assert {"h_star", "eps_c", "regime", "cost_rbm", "cost_full", "ratio"} <= set(out)
    for key in ("h_star", "eps_c", "cost_rbm", "cost_full", "ratio"):
        assert isinstance(out[key], float) and out[key] == getattr(expected, key)
    assert out["regime"] == "variance-limited"


def test_cli_table(capsys):
    assert main(["tradeoff", *CLI_NUMBERS]) == 0
    out = capsys.readouterr().out
    assert "variance-limited" in out and "Prop. 4.2" in out
    assert f"{plan(0.5, 4.0, 0.01).ratio:.10g}" in out


def test_cli_symbolic(capsys):
    assert main(["tradeoff", "--symbolic"]) == 0
    out = capsys.readouterr().out
    assert "(-sqrt(S) + sqrt(4*K*epsilon + S))**2/(4*K**2)" in out
    assert r"\frac{S}{K}" in out


@pytest.mark.parametrize(
    "argv, named",
    [
        (CLI_NUMBERS[:-2], "--eps"),
        (["--S", "1"], "--K-full"),
        ([*CLI_NUMBERS[:-1], "-3"], "eps"),
        ([*CLI_NUMBERS[:-1], "abc"], "--eps"),
        ([*CLI_NUMBERS, "--T", "0"], "T"),
    ],
)
def test_cli_bad_input_exit_2_one_line(capsys, argv, named):
    assert main(["tradeoff", *argv]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert captured.out == "" and len(lines) == 1
    assert lines[0].startswith("rbmtheory: error: ") and named in lines[0]
