"""``rbmtheory report [--quick] [--out reports] [--seed 0] [--symbolic-only]``: the main job."""
from __future__ import annotations

import argparse
from pathlib import Path

from reporting.report import SweepSettings, build_report

NAME = "report"
HELP = "Table 1, worked derivations and rate-versus-theory sweeps on the default field, with figures and a manifest"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("reports"), help="output folder (default: reports)")
    parser.add_argument("--quick", action="store_true", help="300 realizations per h (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="SeedSequence entropy (recorded in the output)")
    parser.add_argument("--symbolic-only", action="store_true", help="only Table 1 and the derivations")


def run(args: argparse.Namespace) -> int:
    settings = SweepSettings(realizations=300 if args.quick else 1000, seed=args.seed)
    path = build_report(args.out, settings, numeric=not args.symbolic_only)
    print(f"wrote {path} (and report.html, data, figures, manifest.json in {path.parent})")
    return 0
