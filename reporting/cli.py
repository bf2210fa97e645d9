"""The ``rbmtheory`` console script (also ``python -m rbmtheory``).

Each subcommand lives in its own module under :mod:`reporting.commands` (see the
contract there). Bad input raises :class:`rbmtheory.errors.RBMInputError`; it is
printed as one line ``rbmtheory: error: ...`` and the exit status is 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from rbmtheory.errors import RBMInputError
from reporting.commands import COMMANDS


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the problem (exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="rbmtheory",
        description="Continuous-time dropout as a random batch method: theory and numerics.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    for name in COMMANDS:
        module = importlib.import_module(f"reporting.commands.{name}")
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except RBMInputError as exc:
        print(f"rbmtheory: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into head
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
