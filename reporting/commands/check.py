"""``rbmtheory check SPEC [--field FILE.json] [--realizations N] [--seed S] [--out DIR]``."""
from __future__ import annotations

import argparse
from pathlib import Path

from reporting.check import CheckSettings, check_scheme

NAME = "check"
HELP = "check a sampling scheme end to end: derivation, enumeration, sampler, trajectory rate"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", metavar="SPEC")
    parser.add_argument("--field", type=Path, default=None, help="field file (default: the built-in field)")
    parser.add_argument("--realizations", type=int, default=300)
    parser.add_argument("--samples", type=int, default=20000, help="draws for the sampler check")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--switching", choices=("uniform", "random"), default="uniform")
    parser.add_argument("--out", type=Path, default=None, help="report folder (default: reports/check-<spec>)")


def run(args: argparse.Namespace) -> int:
    settings = CheckSettings(field=args.field, realizations=args.realizations, samples=args.samples,
                             seed=args.seed, switching=args.switching)
    checks, folder = check_scheme(args.spec, settings, args.out)
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"{'PASS' if c.passed else 'FAIL'}  {c.name:<{width}}  {c.detail}")
    failed = sum(not c.passed for c in checks)
    print(f"{len(checks) - failed} passed, {failed} failed; report in {folder}")
    return 1 if failed else 0
