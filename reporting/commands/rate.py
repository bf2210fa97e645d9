"""``rbmtheory rate trajectory``: measure and judge the O(h) rate of the trajectory error.

    rbmtheory rate trajectory [--field FILE.json] --scheme SPEC [--T 1] [--dt DT]
        [--h 0.1,0.05,0.025,0.0125] [--method euler|rk2|rk4] [--switching uniform|random]
        [--realizations 1000] [--seed 0] [--json]

A thin layer over :func:`numerics.experiments.rate_trajectory` (THEORY.md §5): a
table of the measured sup_t E|e|^2, E|e(T)|^2 and E sup_t |e|^2 per h, with the
Lyapunov prediction, the rigorous bound and the verdicts; ``--json`` prints
:meth:`numerics.experiments.RateResult.as_dict`. The positional metric family
leaves room for others (transport, training).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Callable

from numerics.experiments import METRICS, RateResult, rate_trajectory
from numerics.fieldfile import Problem, default_problem, load_problem
from reporting.commands import number

NAME = "rate"
HELP = "measure the convergence rate in h of the random batch method against its prediction"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("metric", choices=sorted(_FAMILIES), help="metric family (trajectory: sup_t E|x - x_h|^2)")
    parser.add_argument("--field", metavar="FILE.json", help="field file (default: the built-in default problem)")
    parser.add_argument("--scheme", required=True, metavar="SPEC", help='scheme spec, e.g. "disjoint(r=8)"')
    parser.add_argument("--T", metavar="T", help="time horizon (default: the problem's, 1 for the default)")
    parser.add_argument("--dt", metavar="DT", help="integrator step (default: smallest h / 4)")
    parser.add_argument("--h", default="0.1,0.05,0.025,0.0125", metavar="H1,H2,...", help="switching steps")
    parser.add_argument("--method", choices=("euler", "rk2", "rk4"), default="rk4", help="integrator")
    parser.add_argument("--switching", choices=("uniform", "random"), default="uniform", help="switching times")
    parser.add_argument("--realizations", type=int, default=1000, metavar="M", help="Monte Carlo realizations")
    parser.add_argument("--seed", type=int, default=0, help="random seed (SeedSequence entropy)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _problem(args: argparse.Namespace) -> Problem:
    problem = load_problem(args.field) if args.field else default_problem()
    if args.T is not None:
        problem = dataclasses.replace(problem, T=number("--T", args.T))
    return problem


def _trajectory(args: argparse.Namespace) -> RateResult:
    return rate_trajectory(
        _problem(args),
        args.scheme,
        [number("--h", h) for h in args.h.split(",")],
        dt=None if args.dt is None else number("--dt", args.dt),
        method=args.method,
        switching=args.switching,
        realizations=args.realizations,
        seed=args.seed,
    )


_FAMILIES: dict[str, Callable[[argparse.Namespace], RateResult]] = {"trajectory": _trajectory}


def _g(value: float | None, spec: str = ".4g") -> str:
    return "-" if value is None else format(value, spec)


def _table(data: dict) -> str:
    header = ("h", "sup_mse", "se", "mse_T", "se", "e_sup", "se", "predicted", "S_bound*h")
    rows = [
        (p["h"], p["sup_mse"], p["sup_mse_se"], p["mse_T"], p["mse_T_se"], p["e_sup"], p["e_sup_se"],
         p["predicted_sup_mse"], p["bound"])
        for p in data["points"]
    ]
    lines = ["  ".join(f"{h:>10}" for h in header)]
    lines += ["  ".join(f"{_g(v, '.4g' if i == 0 else '.3e'):>10}" for i, v in enumerate(row)) for row in rows]
    return "\n".join(lines)


def _fit_line(name: str, fit: dict) -> str:
    if fit["slope"] is None:
        return f"{name:>8}: {fit['verdict']} ({fit['reason']})"
    lo, hi = fit["slope_ci"]
    ratio = f" = {fit['constant_ratio']:.3f} C_lead" if fit["constant_ratio"] is not None else ""
    return (
        f"{name:>8}: slope {fit['slope']:.3f} [{lo:.3f}, {hi:.3f}], C = {fit['constant']:.4g}; "
        f"at slope {fit['expected_slope']:g}: C = {fit['constant_at_expected']:.4g}{ratio} -> {fit['verdict']}"
        f"\n{'':>10}{fit['reason']}"
    )


def _text(data: dict) -> str:
    pred, worst = data["prediction"], data["prediction_worst"]
    head = (
        f"rate trajectory: {data['problem']} (p={data['p']}, d={data['d']}, N={data['n_points']}, T={data['T']:g}), "
        f"scheme {data['scheme']}, {data['method']} dt={data['dt']:.4g}, {data['switching']} switching, "
        f"M={data['realizations']}, seed {data['seed']}"
    )
    theory = (
        f"prediction (mean over data / worst point): Lambda = {_g(pred['Lambda'])} / {_g(worst['Lambda'])} "
        f"(Monte Carlo {_g(pred['Lambda_mc'])} +- {_g(pred['Lambda_mc_se'], '.2g')}), L_pi = {_g(pred['L_pi'])}, "
        f"C_lead = {_g(pred['C_lead'])} / {_g(worst['C_lead'])}, C_lead_sup = {_g(pred['C_lead_sup'])} / "
        f"{_g(worst['C_lead_sup'])}, S_bound = {_g(pred['S_bound'])} / {_g(worst['S_bound'])} at h = {pred['h']:g}"
    )
    fits = [_fit_line(name, data["fits"][name]) for name in METRICS]
    timing = ", ".join(f"{k} {v:.1f} s" for k, v in data["timing"].items())
    floor = f"reference floor {data['reference_floor']:.2e}; FAIL uses a 99% CI (false-failure probability 1%)"
    return "\n".join([head, _table(data), theory, "fits (95% CI):", *fits, floor, f"timing: {timing}"])


def run(args: argparse.Namespace) -> int:
    data = _FAMILIES[args.metric](args).as_dict()
    print(json.dumps(data, indent=2) if args.json else _text(data))
    return 0
