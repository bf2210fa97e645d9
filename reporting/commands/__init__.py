"""One module per CLI subcommand.

Contract: a command module defines ``NAME`` (the subcommand), ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``. Register it in
``COMMANDS`` below; :mod:`reporting.cli` builds the parser from this list.
"""

COMMANDS: list[str] = ["scheme", "table1", "tradeoff", "rate", "report", "check"]
