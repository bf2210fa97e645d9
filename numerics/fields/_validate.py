"""Input checks shared by the fields: each failure is one RBMInputError line naming the value."""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rbmtheory.errors import RBMInputError

FloatArray = NDArray[np.float64]


def float_array(name: str, value: ArrayLike, ndim: int, layout: str) -> FloatArray:
    """``value`` as a finite float64 array with ``ndim`` axes (``layout`` describes them)."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise RBMInputError(f"{name} is not a rectangular array of numbers ({layout})") from None
    if arr.ndim != ndim:
        raise RBMInputError(f"{name} must have {ndim} axes ({layout}), got shape {arr.shape}")
    require_finite(name, arr)
    return arr


def require_finite(name: str, arr: FloatArray) -> None:
    """Raise naming the first non-finite entry of ``arr`` and its index."""
    bad = np.argwhere(~np.isfinite(arr))
    if bad.size:
        where = tuple(int(i) for i in bad[0])
        raise RBMInputError(f"{name} has a non-finite entry {arr[where]} at index {where}")


def require_shape(name: str, arr: FloatArray, shape: tuple[int, ...], ref: str) -> None:
    """Raise unless ``arr.shape == shape``; ``ref`` says where the expected shape comes from."""
    if arr.shape != shape:
        raise RBMInputError(f"{name} has shape {arr.shape} but {ref}: expected {shape}")


def positive_time(name: str, value: object) -> float:
    """A finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise RBMInputError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0.0):
        raise RBMInputError(f"{name} must be a finite number > 0, got {value}")
    return value


def control_grid(name: str, value: ArrayLike, n_pieces: int) -> FloatArray:
    """Breakpoints t_0 = 0 < t_1 < ... < t_K for ``n_pieces`` = K pieces."""
    grid = float_array(name, value, 1, "K + 1 increasing times from 0 to T")
    if grid.shape != (n_pieces + 1,):
        raise RBMInputError(
            f"{name} has {grid.size} entries but the parameters have {n_pieces} pieces: "
            f"expected {n_pieces + 1}"
        )
    if grid[0] != 0.0:
        raise RBMInputError(f"{name} must start at 0, got {grid[0]}")
    steps = np.diff(grid)
    if np.any(steps <= 0.0):
        k = int(np.argmax(steps <= 0.0))
        raise RBMInputError(
            f"{name} must be strictly increasing: entry {k + 1} ({grid[k + 1]}) "
            f"does not exceed entry {k} ({grid[k]})"
        )
    return grid
