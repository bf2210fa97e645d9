"""``python -m rbmtheory``: the same as the ``rbmtheory`` console script.

This entry-point shim is the only place where the symbolic package reaches up to the
reporting layer; no module of ``rbmtheory`` imports ``numerics`` or ``reporting``.
"""
import sys

from reporting.cli import main

sys.exit(main())
