"""Time one Monte Carlo integration of :func:`numerics.engine.run_error_sweep`.

Workloads (all: d = 2, N = 256 circle points, M = 200 schedules, T = 1, h = 1/16,
RK4 with dt = h/8, GELU neurons with piecewise-constant parameters on 16 pieces,
``numerics.fieldfile.default_problem(seed=0, ...)``):

* ``p24_r8``    p = 24,  scheme ``disjoint(r=8)``;
* ``p256_r32``  p = 256, scheme ``disjoint(r=32)``;
* ``p256_full`` p = 256, scheme ``single`` (the full field on the same M x N states).

Each workload runs in a fresh subprocess per configuration, so that BLAS threads can
be set before numpy is imported (``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` = 1,
or unset: the library default) and so that memory is measured cleanly:
``peak_mb`` is the increase of the process's peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) during the call, i.e. what the run
adds on top of the interpreter, numpy, sympy and the problem. ``seconds`` is the wall
time of the whole ``run_error_sweep`` call (sampler construction, the full reference
and the M random runs).

Usage::

    python benchmarks/bench_engine.py [--json] [--workloads p24_r8,p256_r32] [--workers-sweep]
    python benchmarks/bench_engine.py --profile p24_r8     # cProfile, top functions

With ``--json`` the last line is one JSON object {workload: {"seconds", "peak_mb"}}
for the default configuration (default BLAS threads, default engine workers).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKLOADS = {
    "p24_r8": (24, "disjoint(r=8)"),
    "p256_r32": (256, "disjoint(r=32)"),
    "p256_full": (256, "single"),
}
H, DT, M, N_POINTS, PIECES = 1 / 16, 1 / 128, 200, 256, 16
BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _setup(name: str):
    from numerics.fieldfile import default_problem
    from rbmtheory.schemes.registry import scheme_from_spec

    p, spec = WORKLOADS[name]
    problem = default_problem(seed=0, p=p, activation="gelu", n_points=N_POINTS, time_dependent=True, n_pieces=PIECES)
    return problem, scheme_from_spec(spec, p=p)


def _run(problem, scheme, workers: int | None):
    from numerics.engine import run_error_sweep

    return run_error_sweep(problem, scheme, [H], dt=DT, method="rk4", realizations=M, seed=0, workers=workers)


def child(name: str, workers: int | None) -> None:
    """Measure one workload in this process and print one JSON line."""
    import resource

    from threadpoolctl import threadpool_info

    problem, scheme = _setup(name)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tic = time.perf_counter()
    (stats,) = _run(problem, scheme, workers)
    seconds = time.perf_counter() - tic
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    blas = [info.get("num_threads") for info in threadpool_info() if info.get("user_api") == "blas"]
    print(json.dumps({
        "seconds": round(seconds, 3), "peak_mb": round(peak_kb / 1024, 1), "blas_threads": blas,
        "mse_T_avg": float(stats.mse_t_avg[-1]),
    }))


def measure(name: str, blas_threads: int | None, workers: int | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    if blas_threads is not None:
        env.update({k: str(blas_threads) for k in BLAS_VARS})
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, __file__, "--child", name] + ([] if workers is None else ["--workers", str(workers)])
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"workload {name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def profile(name: str) -> None:
    import cProfile
    import pstats

    problem, scheme = _setup(name)
    with cProfile.Profile() as prof:
        _run(problem, scheme, 1)
    pstats.Stats(prof).sort_stats("tottime").print_stats(15)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the default configuration")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--workers-sweep", action="store_true", help="also run with one engine worker")
    parser.add_argument("--profile", metavar="WORKLOAD")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.workers)
    sys.path.insert(0, str(ROOT))
    if args.profile:
        return profile(args.profile)
    names = [n for n in args.workloads.split(",") if n]
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown:
        raise SystemExit(f"unknown workload {unknown[0]!r} (known: {', '.join(WORKLOADS)})")
    configs = [("default BLAS", None, None), ("BLAS threads=1", 1, None)]
    if args.workers_sweep:
        configs += [("default BLAS, 1 worker", None, 1), ("BLAS threads=1, 1 worker", 1, 1)]
    print(f"load before: {os.getloadavg()}  cpus: {os.cpu_count()}")
    results: dict[str, dict[str, dict]] = {}
    for name in names:
        for label, blas, workers in configs:
            r = measure(name, blas, workers)
            results.setdefault(name, {})[label] = r
            print(f"{name:10s} {label:26s} {r['seconds']:8.3f} s  {r['peak_mb']:7.1f} MB  blas={r['blas_threads']}")
    if "p256_r32" in results and "p256_full" in results:
        for label, *_ in configs:
            speedup = results["p256_full"][label]["seconds"] / results["p256_r32"][label]["seconds"]
            print(f"p256_full / p256_r32 ({label}): {speedup:.2f}x  (target >= 0.7 p/r = 5.6)")
    print(f"load after: {os.getloadavg()}")
    if args.json:
        print(json.dumps({n: {k: results[n]["default BLAS"][k] for k in ("seconds", "peak_mb")} for n in names}))


if __name__ == "__main__":
    main()
