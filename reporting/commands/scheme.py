"""``rbmtheory scheme SPEC [--p N] [--json|--latex]``: derive everything about a scheme."""
from __future__ import annotations

import argparse
import json

from rbmtheory.analysis import analyse
from rbmtheory.schemes.registry import scheme_from_spec

NAME = "scheme"
HELP = "derive pi, joint pi, Delta, variance factors, Lambda, levers and S_bound of a scheme"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC", help='scheme spec, e.g. "balanced(r=3)" or "bernoulli(q=q)"')
    parser.add_argument("--p", type=int, default=None, help="number of neurons (default: symbolic p)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON object; every value a sympy-parsable string")
    out.add_argument("--latex", action="store_true", help="LaTeX lines")


def run(args: argparse.Namespace) -> int:
    analysis = analyse(scheme_from_spec(args.spec, p=args.p))
    if args.json:
        print(json.dumps(analysis.as_strings(), indent=2))
    elif args.latex:
        for key, value in analysis.as_latex().items():
            print(f"${key} = {value}$")
    else:
        for key, value in analysis.as_strings().items():
            if isinstance(value, list) and value and isinstance(value[0], list):
                value = "\n    " + "\n    ".join("  ".join(row) for row in value)
            elif isinstance(value, list):
                value = ", ".join(value)
            print(f"{key:>20}: {value}")
    return 0
