"""``rbmtheory table1 [--format md|latex|csv|json] [--scaling mean-field|unit] [--out FILE]``."""
from __future__ import annotations

import argparse
from pathlib import Path

from rbmtheory.asymptotics import SCALINGS
from rbmtheory.table1 import FORMATS, render_table1

NAME = "table1"
HELP = "the paper's Table 1 for the seven canonical schemes, generated from the derivations"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="md")
    parser.add_argument("--scaling", choices=SCALINGS, default="mean-field",
                        help="neuron scaling for the orders in p (mean-field: f_i = O(1/p))")
    parser.add_argument("--out", type=Path, default=None, help="write to this file instead of stdout")


def run(args: argparse.Namespace) -> int:
    text = render_table1(args.format, args.scaling)
    if args.out is None:
        print(text, end="")
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    return 0
