"""One module per CLI subcommand.

Contract: a command module defines ``NAME`` (the subcommand), ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``. Register it in
``COMMANDS`` below; :mod:`reporting.cli` builds the parser from this list.
"""

from rbmtheory.errors import RBMInputError


def number(option: str, text: str) -> float:
    """A float option read in ``run()`` (not by argparse), so a bad one is one clear line."""
    try:
        return float(text)
    except ValueError:
        raise RBMInputError(f"{option} must be a number, got {text!r}") from None


COMMANDS: list[str] = ["scheme", "table1", "tradeoff", "rate", "report", "check"]
