"""Monte Carlo engine: the random-batch error E|x(t) - x_h(t)|^2 against the full model.

THEORY.md section 5 (Theorem 3.1): sup_t E|x(t) - x_h(t)|^2 <= S h. For every switching
step h of a sweep the engine integrates M independent realizations of the random
dynamics x_h' = F^{omega_k}(t, x_h) (:mod:`numerics.schedules`) for all N data points
at once and accumulates, against the full trajectory x(t) stored once per sweep,

* ``mse_t[j, n]``   = E|e_n(t_j)|^2,            e_n = x_n - x_{h,n} (mean over M);
* ``mse_t_avg[j]``  = E[(1/N) sum_n |e_n(t_j)|^2];
* ``e_sup[n]``      = E sup_j |e_n(t_j)|^2       (sup over the integrator grid t_0..t_n);
* ``e_sup_avg``     = E[(1/N) sum_n sup_j |e_n(t_j)|^2];

each with its Monte Carlo standard error s / sqrt(M) (s the sample standard
deviation over realizations). The full reference uses the same integrator and the
same dt as the random runs, so the time-discretisation error cancels to first order
and the measured error is the random-batch error (its floor: :func:`reference_check`).

Realizations are processed in chunks of whole random-number blocks
(:data:`numerics.schedules.REALIZATION_BLOCK`), on ``workers`` threads each holding
its own copy of the field (fields are not thread-safe; numpy releases the GIL in the
ufuncs and matmuls that dominate). Partial sums are merged in chunk order, so
results depend on the seed, M and dt only, not on ``chunk`` or ``workers`` (up to
the last bits of the sums).

Memory bound (bytes), with c = chunk, w = workers, n = T/dt steps, H = len(hs),
B the integrator's buffers (RK4: 3):

    w * c * N * (8 d (B + 2) + 16)        states, integrator buffers, error work
  + w * c * 32 r   (or 16 p for masks)     held and candidate batches
  + 8 (n + 1) N d                         the full reference trajectory
  + 16 (n + 1) (N + 1) (2 w + 1 + H)      pending partial sums, their total, the results
  + the field's own scratch per worker (256 KiB for the neural field)

plus ``keep_states``: 8 M N d per h. The default chunk holds about
:data:`CHUNK_STATES` states (c N), i.e. 0.7 MB of state buffers per worker for d = 2
and RK4, so the working set stays in cache.
"""
from __future__ import annotations

import copy
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from numerics.fieldfile import Problem
from numerics.fields.base import Field
from numerics.integrators import get_method, integrate, time_grid
from numerics.schedules import (
    REALIZATION_BLOCK,
    BatchSampler,
    BatchStream,
    Batches,
    SwitchRule,
    block_sizes,
    scheme_sampler,
    switching_rules,
)
from rbmtheory.errors import RBMInputError
from rbmtheory.schemes.base import Scheme

FloatArray = NDArray[np.float64]

#: target number of states (realizations x data points) per chunk
CHUNK_STATES = 8192


@dataclass
class ErrorStats:
    """Monte Carlo error statistics of one switching step h (module docstring)."""

    h: float
    dt: float
    times: FloatArray  # (n+1,)
    mse_t: FloatArray  # (n+1, N)
    mse_t_se: FloatArray  # (n+1, N)
    mse_t_avg: FloatArray  # (n+1,)
    mse_t_avg_se: FloatArray  # (n+1,)
    e_sup: FloatArray  # (N,)
    e_sup_se: FloatArray  # (N,)
    e_sup_avg: float
    e_sup_avg_se: float
    realizations: int
    seed_entropy: int
    switching: str
    method: str
    seconds: float  # wall time of the random runs for this h (the shared reference excluded)
    states: FloatArray | None = None  # x_h(T) per realization (M, N, d) when keep_states


# ------------------------------------------------------------------------ full model


def _check_problem(problem: Problem) -> Field:
    if not isinstance(problem, Problem):
        raise RBMInputError(f"problem must be a numerics.fieldfile.Problem, got {type(problem).__name__}")
    return problem.field


def _full_rhs(field: Field):
    def rhs(t: float, x: FloatArray, out: FloatArray) -> None:
        field.evaluate(t, x, out=out)

    return rhs


def _require_finite_trajectory(X: FloatArray, times: FloatArray) -> None:
    bad = ~np.isfinite(X).reshape(X.shape[0], -1).all(axis=1)
    if bad.any():
        t = times[int(np.argmax(bad))]
        raise RBMInputError(f"the full trajectory blew up at t = {t:.6g} (non-finite state)")


def integrate_full(problem: Problem, dt: float, method: str) -> tuple[FloatArray, FloatArray]:
    """The full model x' = F(t, x) on the grid t_j = j dt: ``times (n+1,)``, ``X (n+1, N, d)``."""
    field = _check_problem(problem)
    get_method(method)
    times = time_grid(problem.T, dt, field.time_breakpoints)
    with np.errstate(over="ignore", invalid="ignore"):
        X = integrate(_full_rhs(field), method, problem.x0, times)
    _require_finite_trajectory(X, times)
    return times, X


def reference_check(problem: Problem, dt: float, method: str) -> float:
    """max_{j, n} |x_dt(t_j) - x_{dt/4}(t_j)|: the discretisation floor of the dt-reference.

    The random and the full runs share the integrator and dt, so the measured error
    contains no reference-against-exact-solution term; what time discretisation
    leaves in it is O(dt^order) per trajectory, and this number measures that for
    the full model (an RMS error near it is discretisation, not random batches).
    """
    _, coarse = integrate_full(problem, dt, method)
    _, fine = integrate_full(problem, dt / 4.0, method)
    return float(np.max(np.linalg.norm(coarse - fine[::4], axis=-1)))


# --------------------------------------------------------------------- accumulation


class _Sums:
    """Sums over realizations of |e|^2, |e|^4 per (step, point), of the data average and of the sups."""

    def __init__(self, n_times: int, n_points: int) -> None:
        self.s1 = np.zeros((n_times, n_points))
        self.s2 = np.zeros((n_times, n_points))
        self.a1 = np.zeros(n_times)
        self.a2 = np.zeros(n_times)
        self.sup1 = np.zeros(n_points)
        self.sup2 = np.zeros(n_points)
        self.supavg1 = 0.0
        self.supavg2 = 0.0

    def merge(self, other: "_Sums") -> None:
        for name in ("s1", "s2", "a1", "a2", "sup1", "sup2"):
            mine = getattr(self, name)
            mine += getattr(other, name)
        self.supavg1 += other.supavg1
        self.supavg2 += other.supavg2


class _ErrorTracker:
    """Per-chunk error work: |e|^2 at each step into the sums, and the running sup."""

    def __init__(self, m: int, n_points: int, d: int, sums: _Sums) -> None:
        self.diff = np.empty((m, n_points, d))
        self.sq = np.empty((m, n_points))
        self.sup = np.zeros((m, n_points))
        self.sums = sums

    def record(self, j: int, x: FloatArray, ref: FloatArray) -> int | None:
        """Add |x - ref|^2 at step j; return the first realization with a non-finite state."""
        np.subtract(x, ref, out=self.diff)
        np.square(self.diff, out=self.diff)
        np.copyto(self.sq, self.diff[..., 0])  # sum over the short last axis, component by
        for k in range(1, self.diff.shape[-1]):  # component: 10x faster than sum(axis=-1)
            self.sq += self.diff[..., k]
        sums = self.sums
        np.sum(self.sq, axis=0, out=sums.s1[j])
        np.einsum("mn,mn->n", self.sq, self.sq, out=sums.s2[j])
        avg = self.sq.mean(axis=1)
        sums.a1[j] = avg.sum()
        sums.a2[j] = avg @ avg
        if not math.isfinite(sums.a1[j]):
            return int(np.argmax(~np.isfinite(avg)))
        np.maximum(self.sup, self.sq, out=self.sup)
        return None

    def finish(self) -> None:
        """Add the per-realization sups to the sums."""
        sums = self.sums
        sums.sup1 += self.sup.sum(axis=0)
        sums.sup2 += np.einsum("mn,mn->n", self.sup, self.sup)
        avg = self.sup.mean(axis=1)
        sums.supavg1 += float(avg.sum())
        sums.supavg2 += float(avg @ avg)


def _mean_se(s1: FloatArray | float, s2: FloatArray | float, m: int) -> tuple[FloatArray, FloatArray]:
    """Mean and standard error s / sqrt(m) from the sum and the sum of squares of m samples."""
    mean = np.asarray(s1) / m
    var = np.maximum(np.asarray(s2) / m - mean**2, 0.0) * (m / (m - 1))
    return mean, np.sqrt(var / m)


# ------------------------------------------------------------------------ random runs


class _BatchRHS:
    """rhs(t, x, out) of the random field with the batches currently held."""

    def __init__(self, field: Field) -> None:
        self.field = field
        self.batches: Batches | None = None

    def __call__(self, t: float, x: FloatArray, out: FloatArray) -> None:
        self.batches.evaluate(self.field, t, x, out)


@dataclass(frozen=True)
class _Run:
    """Everything a chunk needs for one h."""

    sampler: BatchSampler
    rule: SwitchRule
    entropy: int
    sizes: list[int]
    times: FloatArray
    ref: FloatArray
    method: str
    keep_states: bool


def _simulate_chunk(field: Field, run: _Run, blocks: range, start: int) -> tuple[_Sums, FloatArray | None]:
    """Integrate the realizations of ``blocks`` and return their sums (and x_h(T))."""
    stream = BatchStream(run.sampler, run.rule, run.entropy, blocks, run.sizes)
    n_times, n_points, d = run.ref.shape
    x = np.empty((len(stream), n_points, d))
    x[...] = run.ref[0]
    stepper = get_method(run.method)(x.shape)
    rhs = _BatchRHS(field)
    sums = _Sums(n_times, n_points)
    tracker = _ErrorTracker(x.shape[0], n_points, d, sums)
    tracker.record(0, x, run.ref[0])
    times = run.times
    with np.errstate(over="ignore", invalid="ignore"):
        for j in range(n_times - 1):
            rhs.batches = stream.at_step(j).compact()
            stepper.step(rhs, float(times[j]), float(times[j + 1]), x)
            bad = tracker.record(j + 1, x, run.ref[j + 1])
            if bad is not None:
                raise RBMInputError(
                    f"h = {run.rule.h:.6g}: the random trajectory blew up at t = {times[j + 1]:.6g} "
                    f"(realization {start + bad}: non-finite error)"
                )
    tracker.finish()
    return sums, (x if run.keep_states else None)


def _chunks(sizes: list[int], chunk: int) -> list[tuple[range, int]]:
    """(block range, first realization) of each chunk of ``chunk`` realizations (whole blocks)."""
    per = max(1, chunk // REALIZATION_BLOCK)
    out, start = [], 0
    for b in range(0, len(sizes), per):
        blocks = range(b, min(b + per, len(sizes)))
        out.append((blocks, start))
        start += sum(sizes[i] for i in blocks)
    return out


class _FieldPool:
    """One copy of the field per worker thread (the first thread may use the original)."""

    def __init__(self, field: Field) -> None:
        self.field, self.local, self.lock, self.lent = field, threading.local(), threading.Lock(), False

    def get(self) -> Field:
        if not hasattr(self.local, "field"):
            with self.lock:
                self.local.field = self.field if not self.lent else copy.deepcopy(self.field)
                self.lent = True
        return self.local.field


def _sweep_one(
    pool: _FieldPool, run: _Run, chunks: list[tuple[range, int]], executor: ThreadPoolExecutor | None, workers: int
) -> tuple[_Sums, FloatArray | None, float]:
    """All chunks of one h: merged sums (in chunk order), x_h(T) (or None) and the wall time."""
    tic = time.perf_counter()

    def work(chunk: tuple[range, int]) -> tuple[_Sums, FloatArray | None]:
        return _simulate_chunk(pool.get(), run, *chunk)

    total, states = _Sums(*run.ref.shape[:2]), []
    for sums, final in _in_order(executor, work, chunks, 2 * workers):
        total.merge(sums)
        states.append(final)
    return total, (np.concatenate(states) if run.keep_states else None), time.perf_counter() - tic


def _in_order(executor: ThreadPoolExecutor | None, work: Callable, items: list, window: int) -> Iterator:
    """work(item) for each item, in order, with at most ``window`` results pending at once."""
    if executor is None:
        yield from map(work, items)
        return
    pending: deque = deque()
    for item in items:
        pending.append(executor.submit(work, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _stats(run: _Run, dt: float, total: _Sums, m: int, states: FloatArray | None, seconds: float) -> ErrorStats:
    mse, mse_se = _mean_se(total.s1, total.s2, m)
    avg, avg_se = _mean_se(total.a1, total.a2, m)
    sup, sup_se = _mean_se(total.sup1, total.sup2, m)
    supavg, supavg_se = _mean_se(total.supavg1, total.supavg2, m)
    return ErrorStats(
        h=run.rule.h, dt=dt, times=run.times, mse_t=mse, mse_t_se=mse_se, mse_t_avg=avg, mse_t_avg_se=avg_se,
        e_sup=sup, e_sup_se=sup_se, e_sup_avg=float(supavg), e_sup_avg_se=float(supavg_se),
        realizations=m, seed_entropy=run.entropy, switching=run.rule.label, method=run.method,
        seconds=seconds, states=states,
    )


def _count(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise RBMInputError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _entropy(seed: int | None) -> int:
    if seed is not None:
        _count("seed", seed, 0)
    return int(np.random.SeedSequence(seed).entropy)


def _layout(m: int, n_points: int, chunk: int | None, workers: int | None) -> tuple[list[int], list, int]:
    """Block sizes, chunks and the number of worker threads."""
    sizes = block_sizes(m)
    if chunk is None:
        chunk = max(1, CHUNK_STATES // n_points)
    chunk = -(-_count("chunk", chunk, 1) // REALIZATION_BLOCK) * REALIZATION_BLOCK
    chunks = _chunks(sizes, chunk)
    workers = (os.cpu_count() or 1) if workers is None else _count("workers", workers, 1)
    return sizes, chunks, min(workers, len(chunks))


def run_error_sweep(
    problem: Problem,
    scheme: Scheme,
    hs: Sequence[float] | None,
    *,
    dt: float | None = None,
    method: str = "rk4",
    switching: str | ArrayLike = "uniform",
    realizations: int = 1000,
    seed: int | None = 0,
    chunk: int | None = None,
    keep_states: bool = False,
    workers: int | None = None,
) -> list[ErrorStats]:
    """Monte Carlo error statistics of the random batch method, one :class:`ErrorStats` per h.

    Parameters
    ----------
    problem : Problem
        Field, data ``x0 (N, d)`` and horizon T.
    scheme : Scheme
        A concrete scheme with the field's p (``scheme_from_spec(spec, p=field.p)``).
    hs : sequence of float, or None
        Switching steps. ``None`` exactly when ``switching`` is an explicit grid.
    dt : float, optional
        Integrator step, shared by all h and the reference; default smallest h / 4
        (grid: shortest interval / 4). Uniform switching needs dt | h and h | T, random
        switching dt <= h and dt | T, a grid every switching time a multiple of dt;
        the field's time breakpoints must lie on the dt grid.
    method : {"euler", "rk2", "rk4"}
    switching : "uniform", "random" or an array 0 = t_0 < ... < t_K = T
        Uniform: fresh batch every h (the paper's scheme). Random: first batch at t = 0,
        then at each later integrator step a fresh batch with probability dt / h.
        Grid: fresh batch at the given times.
    realizations : int
        M >= 2 independent realizations (schedules).
    seed : int or None
        Entropy of ``numpy.random.SeedSequence``; None draws fresh entropy (recorded in
        ``seed_entropy``). Streams and common random numbers: :mod:`numerics.schedules`.
    chunk : int, optional
        Realizations per chunk, rounded up to a multiple of
        :data:`numerics.schedules.REALIZATION_BLOCK`; bounds memory (module docstring).
    keep_states : bool
        Keep x_h(T) of every realization in ``ErrorStats.states (M, N, d)``.
    workers : int, optional
        Threads (default: the number of CPUs, at most the number of chunks).
    """
    field = _check_problem(problem)
    get_method(method)
    sampler = scheme_sampler(scheme, p=field.p)
    m = _count("realizations", realizations, 2)
    rules, dt = switching_rules(hs, switching, problem.T, dt)
    times, ref = integrate_full(problem, dt, method)
    entropy = _entropy(seed)
    sizes, chunks, n_workers = _layout(m, ref.shape[1], chunk, workers)
    pool = _FieldPool(field)
    executor = ThreadPoolExecutor(n_workers) if n_workers > 1 else None
    try:
        out = []
        for rule in rules:
            run = _Run(sampler, rule, entropy, sizes, times, ref, method, bool(keep_states))
            total, states, seconds = _sweep_one(pool, run, chunks, executor, n_workers)
            out.append(_stats(run, dt, total, m, states, seconds))
        return out
    finally:
        if executor is not None:
            executor.shutdown()
