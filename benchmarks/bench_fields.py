"""Time the full neural field against active-subset (random batch) evaluation.

    python benchmarks/bench_fields.py                 # default BLAS threads and 1 thread
    python benchmarks/bench_fields.py --threads 1     # one setting only
    python benchmarks/bench_fields.py --p 24 --r 8

Setting: x (M, N, d) states, tanh neurons, one batch of r of the p neurons per
realization with Horvitz-Thompson weights p / r (THEORY.md section 2). Reported:
best and median wall time of one evaluation of the full field, of the batched subset
(``evaluate_batch``, idx (M, r)) and of the masked form (``evaluate_masked``,
weights (M, p)), and the ratio subset / full against the ideal r / p. Thread
counts are set through OPENBLAS_NUM_THREADS / OMP_NUM_THREADS before numpy is
imported, so each setting runs in its own subprocess.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p", type=int, default=256, help="neurons")
    parser.add_argument("--r", type=int, default=32, help="active neurons per realization")
    parser.add_argument("--M", type=int, default=200, help="realizations")
    parser.add_argument("--N", type=int, default=256, help="data points")
    parser.add_argument("--d", type=int, default=2, help="dimension")
    parser.add_argument("--repeat", type=int, default=15, help="timed evaluations per variant")
    parser.add_argument(
        "--threads", type=int, default=None,
        help="BLAS/OpenMP threads, 0 = library default (omitted: run 0 and 1 in subprocesses)",
    )
    return parser.parse_args()


def run(args: argparse.Namespace) -> None:
    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from numerics.fields import NeuralField

    rng = np.random.default_rng(0)
    p, r, M, N, d = args.p, args.r, args.M, args.N, args.d
    field = NeuralField(rng.normal(size=(p, d)) / p, rng.normal(size=(p, d)), rng.normal(size=p))
    x = rng.normal(size=(M, N, d))
    idx = np.argsort(rng.random((M, p)), axis=1)[:, :r]
    weights = np.full((M, r), p / r)
    mask = np.zeros((M, p))
    np.put_along_axis(mask, idx, p / r, axis=1)
    out = np.empty_like(x)

    def timings_ms(fn) -> tuple[float, float]:
        """(best, median) wall time of one call in ms."""
        fn()
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return 1e3 * min(times), 1e3 * float(np.median(times))

    full = timings_ms(lambda: field.evaluate(0.0, x, out=out))
    batch = timings_ms(lambda: field.evaluate_batch(0.0, x, idx, weights, out=out))
    masked = timings_ms(lambda: field.evaluate_masked(0.0, x, mask, out=out))
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    print(f"threads={threads}  p={p} r={r} M={M} N={N} d={d}  (best / median of {args.repeat}, ms)")
    for label, (best, median) in (("full", full), ("subset", batch), ("masked", masked)):
        print(f"  {label:<7} {best:8.2f} / {median:8.2f}")
    ratios = f"{batch[0] / full[0]:.3f} best, {batch[1] / full[1]:.3f} median"
    print(f"  subset/full {ratios} (r/p = {r / p:.3f})", flush=True)


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        if args.threads > 0:
            os.environ.update({var: str(args.threads) for var in THREAD_VARS})
        run(args)
        return
    sizes = [f"--{k}={getattr(args, k)}" for k in ("p", "r", "M", "N", "d", "repeat")]
    base = [sys.executable, __file__, *sizes]
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    for threads in (0, 1):
        subprocess.run(base + [f"--threads={threads}"], env=env, check=True)


if __name__ == "__main__":
    main()
