"""``rbmtheory tradeoff``: optimal switching step, costs and their ratio (THEORY.md §8).

``--S --K --K-full --p --r-bar --eps [--T 1]`` prints h*, eps_c, the regime, both
costs and their ratio (Prop. 4.2, 4.12, Prop. 4.4) as a table, or as one JSON object
with ``--json``; ``--symbolic`` prints the derived formulas (text and LaTeX) instead.
"""
from __future__ import annotations

import argparse
import dataclasses
import json

import sympy as sp

from rbmtheory.errors import RBMInputError
from rbmtheory.tradeoff import formulas, optimal_switching
from reporting.commands import number

NAME = "tradeoff"
HELP = "Cost-accuracy trade-off (Section 4.2): optimal switching step h*, costs and their ratio."

#: (option, keyword of optimal_switching, help) for the numeric options.
_OPTIONS = (
    ("--S", "S", "variance constant S >= 0 (0 for a single batch)"),
    ("--K", "K", "Euler constant K > 0 of the random model (4.8)"),
    ("--K-full", "K_full", "Euler constant K_full > 0 of the full model"),
    ("--p", "p", "number of neurons p >= 1"),
    ("--r-bar", "r_bar", "mean batch size, 0 < r_bar <= p"),
    ("--eps", "eps", "RMS tolerance eps > 0"),
    ("--T", "T", "time horizon T > 0 (default 1)"),
)


#: Row labels of the table, by field of :class:`rbmtheory.tradeoff.SwitchingPlan`.
_LABELS = {
    "h_star": "h* = dt, optimal switching step (Prop. 4.2)",
    "eps_c": "eps_c = S/K, critical tolerance",
    "regime": "regime",
    "cost_rbm": "C_rbm = r_bar T / h*",
    "cost_full": "C_full = p T K_full / eps (4.12)",
    "ratio": "C_rbm / C_full (Prop. 4.4)",
    "dt_full": "dt_full = eps / K_full (4.12)",
    "h_tilde": "h~, simpler step (Remark 4.3)",
    "h_star_quadrature": "h* of the quadrature model",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for option, dest, help_text in _OPTIONS:
        # Parsed in run(), so that a bad number is one RBMInputError line, not a usage dump.
        parser.add_argument(option, dest=dest, metavar="X", help=help_text)
    parser.set_defaults(T="1")
    parser.add_argument("--symbolic", action="store_true", help="print the formulas (text and LaTeX)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _numbers(args: argparse.Namespace) -> dict[str, object]:
    missing = [option for option, dest, _ in _OPTIONS if getattr(args, dest) is None]
    if missing:
        raise RBMInputError(f"missing required option(s) {', '.join(missing)} (or use --symbolic)")
    values = {dest: number(option, getattr(args, dest)) for option, dest, _ in _OPTIONS}
    return dataclasses.asdict(optimal_switching(**values))


def _symbolic() -> dict[str, dict[str, str]]:
    return {name: {"text": sp.sstr(e), "latex": sp.latex(e)} for name, e in formulas().items()}


def _table(numbers: dict[str, object]) -> str:
    width = max(map(len, _LABELS.values()))
    cells = {name: f"{v:.10g}" if isinstance(v, float) else str(v) for name, v in numbers.items()}
    return "\n".join(f"{_LABELS[name]:<{width}}  {cell}" for name, cell in cells.items())


def run(args: argparse.Namespace) -> int:
    if args.symbolic:
        payload = _symbolic()
        text = "\n".join(f"{name}\n  {f['text']}\n  {f['latex']}" for name, f in payload.items())
    else:
        payload = _numbers(args)
        text = _table(payload)
    print(json.dumps(payload, indent=2) if args.json else text)
    return 0
