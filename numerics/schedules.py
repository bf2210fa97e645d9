"""Random batch schedules: batches drawn from a scheme's law, vectorised over realizations.

THEORY.md sections 2 and 5. On each switching interval I_k a batch B_k is drawn from
the scheme's law, independently of the past, and the random field is the
Horvitz-Thompson estimator

    F^omega(t, x) = sum_{i in B_k} f_i(t, x) / pi_i,      E[F^omega] = F.

Three layers:

* **samplers** (:class:`BatchSampler`) turn a concrete law of :mod:`rbmtheory.laws`
  into a numeric sampler of M batches at once, returned as :class:`Batches`: neuron
  indices ``idx (M, r)`` with weights ``(M, r)`` when every batch has the same size
  r, else masked weights ``(M, p)`` (zero off the batch). The weights are 1/pi_i with
  the law's exact pi_i converted to float once;
* **switching rules** (:class:`GridSwitching`, :class:`RandomSwitching`) say at
  which integrator steps a fresh batch is drawn; switching happens only at the start
  of an integrator step and a batch is held for every stage of the step;
* **streams** (:class:`BatchStream`) hold the random generators of a range of
  realizations and give the batches in force at every integrator step.

Random numbers and common random numbers (CRN)
----------------------------------------------
Realizations are grouped in fixed blocks of :data:`REALIZATION_BLOCK` consecutive
indices (the last block may be shorter). Block b owns two generators, seeded with
``SeedSequence(entropy, spawn_key=(b, 0))`` (batches) and
``SeedSequence(entropy, spawn_key=(b, 1))`` (switching coins) -- the children that
``SeedSequence(entropy).spawn(...)[b].spawn(2)`` would give. At *every* integrator
step j = 0, 1, ..., n-1 the batch generator draws one fresh candidate batch D_j for
each realization of the block and, for random switching and j >= 1, the coin
generator draws one uniform U_j per realization. A realization holding its batch
ignores D_j; a switching realization takes D_j. Therefore:

* results depend on (entropy, M, dt) only, not on how realizations are chunked or
  on the number of worker threads (a chunk is a whole number of blocks);
* **common across h** (for a fixed seed, dt and realization index): the candidate
  sequence D_0, D_1, ..., D_{n-1} and the coins U_1, ..., U_{n-1}. With uniform (or
  grid) switching the batch on an interval starting at step j is D_j, so two step
  sizes h and h/2 use the same batch on the first half of every h-interval (a nested
  coupling aligned in time, not merely "the k-th draw"); with random switching a
  realization switches at step j iff U_j < dt/h, so the switching times for h are a
  subset of those for h' < h, and after a common switch both take the same D_j.
  The errors for neighbouring h are then positively correlated, which lowers the
  variance of the log-log slope fitted across h. Uniform and random switching also
  share D_j, so their comparison at one h is coupled as well.
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from numerics.fields._validate import positive_time
from numerics.fields.base import Field
from numerics.integrators import GRID_RTOL, steps_of
from rbmtheory.errors import RBMInputError
from rbmtheory.laws import BatchLaw, ExchangeableLaw, FiniteLaw, IndependentLaw, PartitionLaw, ProductLaw
from rbmtheory.schemes.base import Scheme

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: realizations per random-number block (one pair of generators per block)
REALIZATION_BLOCK = 16


# --------------------------------------------------------------------------- batches


@dataclass(frozen=True)
class Batches:
    """M batches: ``idx (M, r)`` with HT weights ``(M, r)``, or masked ``weights (M, p)``.

    ``kind`` is ``"index"`` (fixed size r, evaluated on the r active neurons only with
    :meth:`Field.evaluate_batch`) or ``"mask"`` (variable size, zero weight = inactive,
    :meth:`Field.evaluate_masked`).
    """

    idx: IntArray | None
    weights: FloatArray

    @property
    def kind(self) -> str:
        return "mask" if self.idx is None else "index"

    def __len__(self) -> int:
        return self.weights.shape[0]

    def evaluate(self, field: Field, t: float, x: FloatArray, out: FloatArray) -> FloatArray:
        """out[m] = sum_{i in B_m} f_i(t, x[m]) / pi_i for ``x (M, N, d)``."""
        if self.idx is None:
            return field.evaluate_masked(t, x, self.weights, out=out)
        return field.evaluate_batch(t, x, self.idx, self.weights, out=out)

    def compact(self) -> "Batches":
        """Mask batches as padded index batches, so a variable-size batch costs its size.

        The active neurons of each row come first; the width is the largest batch of
        the M rows and the padding has weight 0. Index batches are returned as they are,
        and so are masks whose largest batch is all p neurons.
        """
        if self.idx is not None:
            return self
        active = self.weights != 0.0
        width = int(active.sum(axis=1).max(initial=0))
        if width == active.shape[1]:
            return self
        order = np.argsort(~active, axis=1, kind="stable")[:, :width]
        return Batches(order, np.take_along_axis(self.weights, order, axis=1))

    def indicators(self, p: int) -> NDArray[np.bool_]:
        """``(M, p)`` booleans: neuron i is in batch m."""
        if self.idx is None:
            return self.weights != 0.0
        member = np.zeros((len(self), p), dtype=bool)
        np.put_along_axis(member, self.idx, self.weights != 0.0, axis=1)
        return member


# -------------------------------------------------------------------------- samplers


class BatchSampler(ABC):
    """Draws M independent batches of one law at once.

    Attributes: ``p`` neurons, ``pi (p,)`` inclusion probabilities (float), ``kind``
    ``"index"`` or ``"mask"`` and ``width``: r for index batches, p for masks.
    """

    p: int
    pi: FloatArray
    kind: str
    width: int

    def __init__(self, pi: FloatArray, kind: str, width: int) -> None:
        self.pi = np.asarray(pi, dtype=np.float64)
        self.p, self.kind, self.width = self.pi.size, kind, width
        self.inv_pi = 1.0 / self.pi

    @abstractmethod
    def sample(self, rng: np.random.Generator, m: int) -> Batches:
        """``m`` i.i.d. batches."""

    def mask_weights(self, member: NDArray[np.bool_]) -> FloatArray:
        """HT weights ``(m, p)`` of indicator rows: 1/pi_i on the batch, 0 off it."""
        return member * self.inv_pi


def _choose(rng: np.random.Generator, cdf: FloatArray, m: int) -> IntArray:
    """m i.i.d. categories with cumulative probabilities ``cdf`` (inverse transform)."""
    return np.minimum(np.searchsorted(cdf, rng.random(m), side="right"), cdf.size - 1)


class FixedSizeSampler(BatchSampler):
    """Exchangeable law with |B| = r: a uniform r-subset, the r smallest of p uniform keys."""

    def __init__(self, pi: FloatArray, r: int) -> None:
        super().__init__(pi, "index", r)
        self.r = r

    def sample(self, rng: np.random.Generator, m: int) -> Batches:
        if self.r == self.p:  # single batch: nothing random
            idx = np.broadcast_to(np.arange(self.p), (m, self.p)).copy()
        else:
            keys = rng.random((m, self.p))
            idx = np.argpartition(keys, self.r - 1, axis=1)[:, : self.r]
        return Batches(idx, self.inv_pi[idx])


class SizeMixtureSampler(BatchSampler):
    """Exchangeable law with a variable size: K from the size pmf, then the K smallest keys."""

    def __init__(self, pi: FloatArray, size_pmf: FloatArray) -> None:
        super().__init__(pi, "mask", pi.size)
        self.cdf = np.cumsum(size_pmf)

    def sample(self, rng: np.random.Generator, m: int) -> Batches:
        sizes = _choose(rng, self.cdf, m)
        keys = rng.random((m, self.p))
        thresholds = np.concatenate([np.sort(keys, axis=1), np.full((m, 1), np.inf)], axis=1)
        member = keys < np.take_along_axis(thresholds, sizes[:, None], axis=1)
        return Batches(None, self.mask_weights(member))


class TableSampler(BatchSampler):
    """An explicit list of batches with probabilities (finite laws and partitions).

    Equal batch sizes give index batches from an ``(n, r)`` table, else masks from an
    ``(n, p)`` weight table.
    """

    def __init__(self, pi: FloatArray, batches: Sequence[Sequence[int]], probs: Sequence[float]) -> None:
        sizes = {len(b) for b in batches}
        fixed = len(sizes) == 1
        super().__init__(pi, "index" if fixed else "mask", sizes.pop() if fixed else pi.size)
        self.cdf = np.cumsum(np.asarray(probs, dtype=np.float64))
        if fixed:
            self.idx_table = np.array([sorted(b) for b in batches], dtype=np.intp).reshape(len(batches), -1)
            self.weight_table = self.inv_pi[self.idx_table]
        else:
            member = np.zeros((len(batches), self.p), dtype=bool)
            for j, b in enumerate(batches):
                member[j, list(b)] = True
            self.idx_table, self.weight_table = None, self.mask_weights(member)

    def sample(self, rng: np.random.Generator, m: int) -> Batches:
        choice = _choose(rng, self.cdf, m)
        idx = None if self.idx_table is None else self.idx_table[choice]
        return Batches(idx, self.weight_table[choice])


class IndependentSampler(BatchSampler):
    """Poisson sampling: neuron i kept independently with probability q_i = pi_i."""

    def __init__(self, pi: FloatArray) -> None:
        super().__init__(pi, "mask", pi.size)

    def sample(self, rng: np.random.Generator, m: int) -> Batches:
        return Batches(None, self.mask_weights(rng.random((m, self.p)) < self.pi))


class ProductSampler(BatchSampler):
    """Independent samplers on disjoint strata, concatenated (index batches when all are)."""

    def __init__(self, pi: FloatArray, strata: Sequence[Sequence[int]], parts: Sequence[BatchSampler]) -> None:
        fixed = all(part.kind == "index" for part in parts)
        super().__init__(pi, "index" if fixed else "mask", sum(p.width for p in parts) if fixed else pi.size)
        self.strata = [np.asarray(s, dtype=np.intp) for s in strata]
        self.parts = list(parts)

    def sample(self, rng: np.random.Generator, m: int) -> Batches:
        drawn = [part.sample(rng, m) for part in self.parts]
        if self.kind == "index":
            idx = np.concatenate([s[b.idx] for s, b in zip(self.strata, drawn)], axis=1)
            return Batches(idx, self.inv_pi[idx])
        member = np.zeros((m, self.p), dtype=bool)
        for stratum, batch in zip(self.strata, drawn):
            member[:, stratum] = batch.indicators(stratum.size)
        return Batches(None, self.mask_weights(member))


def _float_vector(values: Sequence) -> FloatArray:
    return np.array([float(v) for v in values], dtype=np.float64)


def _size_pmf(law: ExchangeableLaw, p: int) -> FloatArray:
    """[P(K = 0), ..., P(K = p)] as floats."""
    pmf = np.zeros(p + 1)
    if law.size_law.atoms is not None:
        for size, prob in law.size_law.atoms:
            pmf[int(size)] += float(prob)
    else:
        pmf[:] = [float(law.size_law.pmf_at(k)) for k in range(p + 1)]
    return pmf


def _exchangeable(law: ExchangeableLaw, pi: FloatArray) -> BatchSampler:
    pmf = _size_pmf(law, pi.size)
    sizes = np.flatnonzero(pmf)
    if sizes.size == 1:
        return FixedSizeSampler(pi, int(sizes[0]))
    return SizeMixtureSampler(pi, pmf)


def _finite(law: FiniteLaw | PartitionLaw, pi: FloatArray) -> BatchSampler:
    support = list(law.enumerate())  # merged duplicates, zero-probability batches dropped
    return TableSampler(pi, [sorted(b) for b, _ in support], [float(q) for _, q in support])


def _product(law: ProductLaw, pi: FloatArray) -> BatchSampler:
    parts = [law_sampler(c, pi[list(s)]) for s, c in zip(law.strata, law.components)]
    return ProductSampler(pi, law.strata, parts)


#: law type -> builder(law, pi); adding a law primitive touches this table only
_BUILDERS: dict[type, Callable[..., BatchSampler]] = {
    ExchangeableLaw: _exchangeable,
    FiniteLaw: _finite,
    PartitionLaw: _finite,
    IndependentLaw: lambda law, pi: IndependentSampler(pi),
    ProductLaw: _product,
}


def law_sampler(law: BatchLaw, pi: ArrayLike | None = None) -> BatchSampler:
    """The numeric sampler of a concrete law; ``pi`` defaults to the law's exact pi_i."""
    if not law.concrete:
        raise RBMInputError(f"sampling needs a concrete number of neurons, got p = {law.p}")
    pi = _float_vector(law.inclusion_vector()) if pi is None else np.asarray(pi, dtype=np.float64)
    for kind, build in _BUILDERS.items():
        if isinstance(law, kind):
            return build(law, pi)
    raise RBMInputError(f"no sampler for a law of type {type(law).__name__}")


def scheme_sampler(scheme: Scheme, p: int | None = None) -> BatchSampler:
    """The sampler of ``scheme``; with ``p`` (the field's), check that the scheme has p neurons."""
    if not scheme.concrete:
        raise RBMInputError(f"scheme {scheme.spec()} has a symbolic p; build it with p = the field's p")
    if p is not None and int(scheme.p) != p:
        raise RBMInputError(f"scheme {scheme.spec()} has p = {scheme.p} neurons but the field has p = {p}")
    return law_sampler(scheme.law())


# ------------------------------------------------------------------------ switching


@dataclass(frozen=True)
class GridSwitching:
    """Deterministic switching: a fresh batch at the integrator steps ``starts`` (0 first).

    ``h`` is the interval length (uniform grid) or T / K (a given grid of K intervals).
    """

    h: float
    starts: NDArray[np.bool_]  # (n,): True where an interval starts
    label: str

    def switching(self, j: int, coins: Sequence[np.random.Generator], sizes: Sequence[int]) -> bool:
        """Whether every realization takes the fresh batch at step j."""
        return bool(self.starts[j])

    def interval_steps(self) -> IntArray:
        """The number of integrator steps of each switching interval, ``(K,)``."""
        return np.diff(np.append(np.flatnonzero(self.starts), self.starts.size))


@dataclass(frozen=True)
class RandomSwitching:
    """At step 0 a batch is drawn; at each later step a fresh one with probability s = dt/h."""

    h: float
    s: float
    label: str = "random"

    def switching(
        self, j: int, coins: Sequence[np.random.Generator], sizes: Sequence[int]
    ) -> bool | NDArray[np.bool_]:
        """True at step 0, else one coin U_j < s per realization (block by block)."""
        if j == 0:
            return True
        return np.concatenate([rng.random(m) < self.s for rng, m in zip(coins, sizes)])


SwitchRule = Union[GridSwitching, RandomSwitching]


def uniform_switching(h: float, T: float, dt: float) -> GridSwitching:
    """The paper's grid: intervals [(k-1)h, kh), h a multiple of dt dividing T."""
    per = steps_of(h, dt, "h")
    n = steps_of(T, dt, "T")
    steps_of(T, h, "T", "h")
    starts = np.zeros(n, dtype=bool)
    starts[::per] = True
    return GridSwitching(h, starts, "uniform")


def _grid_times(grid: ArrayLike, T: float) -> FloatArray:
    """Validated switching times 0 = t_0 < ... < t_K = T."""
    try:
        times = np.asarray(grid, dtype=np.float64)
    except (TypeError, ValueError):
        raise RBMInputError(f"a switching grid must be a list of times, got {grid!r}") from None
    if times.ndim != 1 or times.size < 2 or not np.all(np.isfinite(times)):
        raise RBMInputError(f"a switching grid must be finite times 0 = t_0 < ... < t_K = T, got {grid!r}")
    if times[0] != 0.0 or not math.isclose(times[-1], T, rel_tol=GRID_RTOL):
        raise RBMInputError(f"a switching grid must run from 0 to T = {T}, got {times[0]} .. {times[-1]}")
    if np.any(np.diff(times) <= 0.0):
        raise RBMInputError(f"a switching grid must be strictly increasing, got {times.tolist()}")
    return times


def grid_switching(grid: ArrayLike, T: float, dt: float) -> GridSwitching:
    """A given grid 0 = t_0 < ... < t_K = T, every t_k a multiple of dt."""
    times = _grid_times(grid, T)
    starts = np.zeros(steps_of(T, dt, "T"), dtype=bool)
    starts[0] = True
    for t in times[1:-1]:
        starts[steps_of(float(t), dt, "switching time")] = True
    K = times.size - 1
    return GridSwitching(T / K, starts, f"grid(K={K})")


def random_switching(h: float, T: float, dt: float) -> RandomSwitching:
    """Random switching with mean interval h: needs dt <= h and T a multiple of dt."""
    steps_of(T, dt, "T")
    if dt > h * (1.0 + GRID_RTOL):
        raise RBMInputError(f"random switching needs dt <= h, got dt = {dt:.12g} > h = {h:.12g}")
    return RandomSwitching(h, min(dt / h, 1.0))


def switching_rules(
    hs: Sequence[float] | None, switching: str | ArrayLike, T: float, dt: float | None
) -> tuple[list[SwitchRule], float]:
    """The switching rule of every h and the integrator step dt (default: smallest h / 4).

    ``switching`` is ``"uniform"``, ``"random"`` or an explicit grid of switching
    times; with a grid, ``hs`` must be None (the grid is one run, h = T / K) and the
    default dt is the shortest interval / 4.
    """
    T = positive_time("T", T)
    if isinstance(switching, str):
        if switching not in ("uniform", "random"):
            raise RBMInputError(f"switching must be 'uniform', 'random' or a grid of times, got {switching!r}")
        if hs is None or np.ndim(hs) != 1 or len(hs) == 0:
            raise RBMInputError(f"hs must be a non-empty list of switching steps, got {hs!r}")
        steps = [positive_time("h", h) for h in hs]
        for h in steps:
            if h > T * (1.0 + GRID_RTOL):
                raise RBMInputError(f"h = {h:.12g} exceeds T = {T:.12g}")
        dt = min(steps) / 4.0 if dt is None else positive_time("dt", dt)
        build = uniform_switching if switching == "uniform" else random_switching
        return [build(h, T, dt) for h in steps], dt
    if hs is not None:
        raise RBMInputError("with an explicit switching grid pass hs=None (h is read off the grid as T / K)")
    times = _grid_times(switching, T)
    dt = float(np.min(np.diff(times))) / 4.0 if dt is None else positive_time("dt", dt)
    return [grid_switching(times, T, dt)], dt


# -------------------------------------------------------------------------- streams


def block_sizes(realizations: int, block: int = REALIZATION_BLOCK) -> list[int]:
    """Sizes of the random-number blocks of ``realizations`` (all ``block`` but the last)."""
    full, rest = divmod(realizations, block)
    return [block] * full + ([rest] if rest else [])


def block_generators(entropy: int, b: int) -> tuple[np.random.Generator, np.random.Generator]:
    """(batch generator, coin generator) of realization block b (module docstring)."""
    return tuple(  # type: ignore[return-value]
        np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(b, k))) for k in (0, 1)
    )


class BatchStream:
    """The batches in force at every integrator step for realization blocks ``blocks``.

    Call :meth:`at_step` with j = 0, 1, ..., n-1 in order; each call draws the
    candidate batches D_j (and the coins) and returns the batches held during step j
    (arrays owned by the stream, updated in place).
    """

    def __init__(
        self, sampler: BatchSampler, rule: SwitchRule, entropy: int, blocks: range, sizes: Sequence[int]
    ) -> None:
        self.sampler, self.rule = sampler, rule
        self.sizes = [sizes[b] for b in blocks]
        pairs = [block_generators(entropy, b) for b in blocks]
        self.draws, self.coins = [g for g, _ in pairs], [c for _, c in pairs]
        m = sum(self.sizes)
        self.current = Batches(
            None if sampler.kind == "mask" else np.zeros((m, sampler.width), dtype=np.intp),
            np.zeros((m, sampler.width)),
        )

    def __len__(self) -> int:
        return len(self.current)

    def candidates(self) -> Batches:
        """One fresh batch per realization (block by block)."""
        drawn = [self.sampler.sample(rng, m) for rng, m in zip(self.draws, self.sizes)]
        if len(drawn) == 1:
            return drawn[0]
        idx = None if self.sampler.kind == "mask" else np.concatenate([b.idx for b in drawn])
        return Batches(idx, np.concatenate([b.weights for b in drawn]))

    def at_step(self, j: int) -> Batches:
        fresh = self.candidates()
        take = self.rule.switching(j, self.coins, self.sizes)
        if isinstance(take, bool):
            if take:
                self._replace(fresh, None)
        elif take.any():
            self._replace(fresh, take[:, None])
        return self.current

    def _replace(self, fresh: Batches, where: NDArray[np.bool_] | None) -> None:
        cur = self.current
        np.copyto(cur.weights, fresh.weights, where=True if where is None else where)
        if cur.idx is not None:
            np.copyto(cur.idx, fresh.idx, where=True if where is None else where)
