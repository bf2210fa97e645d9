"""Scheme 5, balanced disjoint batches: one block of a fixed partition, drawn uniformly.

The partition is p/r contiguous blocks of size r (the default), interleaved blocks
(block b holds the neurons i with i mod n = b), or an explicit list of blocks.
"""
from __future__ import annotations

from typing import Any

import sympy as sp

from rbmtheory.errors import RBMInputError
from rbmtheory.laws import BatchLaw, PartitionLaw
from rbmtheory.schemes.base import Scheme, as_size, decided, require

LAYOUTS = ("contiguous", "interleaved")


class Disjoint(Scheme):
    """Balanced disjoint batches: pi_i = 1/n with n blocks; pi_ik = 1/n in a block, else 0.

    >>> from rbmtheory.inclusion import inclusion
    >>> inclusion(Disjoint(r=3)).pi
    3/p
    >>> Disjoint(r=2, p=6, layout="interleaved").blocks()
    ((0, 3), (1, 4), (2, 5))
    """

    name = "disjoint"
    params = ("r", "layout", "blocks")

    def __init__(self, r: Any = None, layout: Any = None, blocks: Any = None, p: Any = None) -> None:
        if (r is None) == (blocks is None):
            raise RBMInputError("disjoint needs exactly one of r=... or blocks=[[...], ...]")
        if blocks is not None and layout is not None:
            raise RBMInputError("disjoint: layout goes with r=..., not with explicit blocks")
        self.r = as_size(r, "r") if r is not None else None
        self.layout = str(layout) if layout is not None else ("contiguous" if r is not None else None)
        self.blocks_given = _blocks(blocks) if blocks is not None else None
        super().__init__(p)

    def parameters(self) -> dict[str, Any]:
        blocks = [list(b) for b in self.blocks_given] if self.blocks_given is not None else None
        layout = self.layout if self.layout != "contiguous" else None
        return {"r": self.r, "layout": layout, "blocks": blocks}

    def fixed_p(self) -> sp.Integer | None:
        if self.blocks_given is None:
            return None
        return sp.Integer(sum(len(b) for b in self.blocks_given))

    def check(self) -> None:
        super().check()
        if self.blocks_given is not None:
            _check_partition(self.blocks_given, int(self.p))
            return
        if self.layout not in LAYOUTS:
            raise RBMInputError(f"disjoint layout must be one of {', '.join(LAYOUTS)}, got {self.layout}")
        require(self.r <= self.p, f"disjoint needs r <= p, got r = {self.r}, p = {self.p}")
        if decided(sp.Eq(sp.Mod(self.p, self.r), 0)) is False:
            raise RBMInputError(f"disjoint needs p divisible by r, got p = {self.p}, r = {self.r}")

    def blocks(self) -> tuple[tuple[int, ...], ...]:
        """The blocks of the partition (concrete p)."""
        if self.blocks_given is not None:
            return self.blocks_given
        p, r = int(self.p), int(self.r)
        n = p // r
        if self.layout == "interleaved":
            return tuple(tuple(range(b, p, n)) for b in range(n))
        return tuple(tuple(range(b * r, (b + 1) * r)) for b in range(n))

    def law(self) -> BatchLaw:
        if not self.concrete:
            return PartitionLaw(self.p, block_size=self.r)
        blocks = self.blocks()
        return PartitionLaw(self.p, blocks=blocks, probs=tuple(sp.Rational(1, len(blocks)) for _ in blocks))


def _blocks(value: Any) -> tuple[tuple[int, ...], ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(b, (list, tuple)) and b for b in value):
        raise RBMInputError("disjoint blocks must be a list of non-empty lists of neuron indices")
    return tuple(tuple(int(i) for i in b) for b in value)


def _check_partition(blocks: tuple[tuple[int, ...], ...], p: int, what: str = "disjoint blocks") -> None:
    seen: dict[int, int] = {}
    for b, block in enumerate(blocks):
        for i in block:
            if i in seen:
                raise RBMInputError(f"{what} overlap: neuron {i} is in {seen[i]} and {b}")
            seen[i] = b
    missing = sorted(set(range(p)) - set(seen))
    if missing or max(seen) >= p:
        raise RBMInputError(f"{what} must partition 0..{p - 1}: neuron {missing[0] if missing else max(seen)} is off")
