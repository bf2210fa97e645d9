"""Errors raised on bad user input.

Every check in the toolkit raises :class:`RBMInputError` (a ``ValueError``) with one
line that names the offending value; the command line prints that line and exits
with status 2, never a traceback.
"""


class RBMInputError(ValueError):
    """Bad input from the user: an invalid scheme, field, spec, grid or option."""
