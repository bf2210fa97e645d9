"""Experiments as functions: Monte Carlo measurement + theory prediction + verdict.

:func:`rate_trajectory` is the Python API behind ``rbmtheory rate trajectory``: it
measures the trajectory error of the random batch method for several h
(:func:`numerics.engine.run_error_sweep`), predicts it along the full trajectory
(:mod:`numerics.predictions`) and fits the rate (:mod:`numerics.rates`).

It lives in the numeric layer (not in ``reporting``) because it is pure computation
that tests, benchmarks and notebooks call directly; the command line only parses
arguments and formats the :class:`RateResult`.

Metrics (means over the N data points; THEORY.md §5):

* ``sup_mse``  = sup_t (1/N) sum_n E|e_n(t)|^2 over the dt grid — the theorem's
  quantity, fitted for the main verdict (SE: the one at the argmax);
* ``mse_T``    = (1/N) sum_n E|e_n(T)|^2;
* ``e_sup``    = (1/N) sum_n E sup_t |e_n(t)|^2 (not covered by the theorem, whose
  sup is outside the expectation: no bound, no Lyapunov constant). At leading order
  it is h E sup_t |Z_t|^2 for a Gaussian process Z (THEORY.md §5), but the sup of
  the error over the K = T/h switching intervals is the sup of a K-step random walk,
  below that of its continuous limit by a relative O((h/T)^(1/2)) (the
  discrete-monitoring correction of a random walk's maximum); e_sup / h therefore
  grows as h decreases and the fitted slope approaches 1 from below (0.91-0.95 for
  h = 0.1 .. 0.0125 on the default problem). Its verdict carries :data:`E_SUP_NOTE`.

Rigorous bound: sup_t E|e_n(t)|^2 <= S_bound(Lambda_n) h for every data point; since
S_bound is linear in Lambda and sup_t of a mean is at most the mean of the sups,
sup_mse <= S_bound(mean Lambda) h. It is checked for uniform switching only: the
derivation needs intervals of length h, which random switching does not have.
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from numerics.engine import ErrorStats, reference_check, run_error_sweep
from numerics.fieldfile import Problem
from numerics.predictions import LeadingOrder, MonteCarloLambda, TrajectoryPrediction, predict_trajectory
from numerics.rates import FAIL, INCONCLUSIVE, ROUNDOFF_FLOOR, RateVerdict, judge
from numerics.schedules import switching_rules
from numerics.theory_bridge import concrete_scheme
from rbmtheory.errors import RBMInputError
from rbmtheory.schemes.base import Scheme

FloatArray = NDArray[np.float64]

#: the metrics fitted by :func:`rate_trajectory`; the first is the main verdict
METRICS = ("sup_mse", "mse_T", "e_sup")
#: realizations of the Monte Carlo estimate of Lambda (at most)
LAMBDA_REALIZATIONS = 200
#: appended to the reason of the e_sup verdict (module docstring)
E_SUP_NOTE = (
    "note: E sup_t|e|^2 is outside Theorem 3.1 and carries an O(h^1/2) relative correction "
    "(sup of a T/h-step random walk), so its slope tends to 1 from below"
)


def metric_values(stats: ErrorStats) -> dict[str, tuple[float, float]]:
    """(mean, SE) of each metric of :data:`METRICS`, averaged over the data points."""
    j = int(np.argmax(stats.mse_t_avg))
    return {
        "sup_mse": (float(stats.mse_t_avg[j]), float(stats.mse_t_avg_se[j])),
        "mse_T": (float(stats.mse_t_avg[-1]), float(stats.mse_t_avg_se[-1])),
        "e_sup": (stats.e_sup_avg, stats.e_sup_avg_se),
    }


def worst_point_values(stats: ErrorStats) -> dict[str, Any]:
    """The metrics of the data point with the largest sup_t E|e_n(t)|^2, and its index."""
    sup_per_point = stats.mse_t.max(axis=0)
    n = int(np.argmax(sup_per_point))
    j = int(np.argmax(stats.mse_t[:, n]))
    return {
        "data_point": n,
        "sup_mse": float(stats.mse_t[j, n]),
        "sup_mse_se": float(stats.mse_t_se[j, n]),
        "mse_T": float(stats.mse_t[-1, n]),
        "mse_T_se": float(stats.mse_t_se[-1, n]),
        "e_sup": float(stats.e_sup[n]),
        "e_sup_se": float(stats.e_sup_se[n]),
    }


@dataclass(frozen=True)
class RateResult:
    """Measured points, predictions and verdicts of one trajectory-rate experiment."""

    problem: Problem
    scheme: Scheme
    method: str
    switching: str
    seed: int
    stats: list[ErrorStats]
    prediction: TrajectoryPrediction
    leading: list[LeadingOrder]
    lambda_mc: MonteCarloLambda
    fits: dict[str, RateVerdict]
    reference_floor: float
    timing: dict[str, float]

    @property
    def hs(self) -> FloatArray:
        return np.array([s.h for s in self.stats])

    @property
    def fit(self) -> RateVerdict:
        """The main verdict: the fit of sup_mse."""
        return self.fits[METRICS[0]]

    def bounds(self) -> FloatArray | None:
        """S_bound(mean Lambda, h) h at each h (:func:`trajectory_bounds`)."""
        return trajectory_bounds(self.prediction, self.hs, self.switching)

    def points(self) -> list[dict[str, float | None]]:
        """Per h: the data-averaged metrics with SEs, the predictions and the bound."""
        bounds = self.bounds()
        out = []
        for i, (stats, lead) in enumerate(zip(self.stats, self.leading)):
            row: dict[str, float | None] = {"h": stats.h}
            for name, (mean, se) in metric_values(stats).items():
                row[name], row[f"{name}_se"] = mean, se
            row["predicted_sup_mse"] = lead.mean_c_lead_sup * stats.h
            row["predicted_mse_T"] = lead.mean_c_lead * stats.h
            row["bound"] = None if bounds is None else float(bounds[i])
            row["seconds"] = stats.seconds
            out.append(row)
        return out

    def points_frame(self) -> pd.DataFrame:
        """:meth:`points` as a DataFrame indexed by h."""
        return pd.DataFrame(self.points()).set_index("h")

    def points_worst(self) -> list[dict[str, Any]]:
        """Per h: the metrics of the worst data point (largest sup_t E|e_n(t)|^2)."""
        return [{"h": s.h, **worst_point_values(s)} for s in self.stats]

    def _prediction(self, worst: bool) -> dict[str, float]:
        """Lambda, C_lead, C_lead_sup, S_bound and L_pi at the smallest h: mean or worst over the data.

        S_bound increases with Lambda, so its worst value is that of the largest Lambda.
        """
        lead = self.leading[int(np.argmin(self.hs))]
        h_min = float(self.hs.min())
        reduce = np.max if worst else np.mean
        return {
            "Lambda": float(reduce(self.prediction.lam)),
            "C_lead": lead.worst_c_lead if worst else lead.mean_c_lead,
            "C_lead_sup": lead.worst_c_lead_sup if worst else lead.mean_c_lead_sup,
            "S_bound": float(reduce(self.prediction.s_bound(h_min))),
            "L_pi": self.prediction.l_pi,
            "h": h_min,
        }

    def as_dict(self) -> dict[str, Any]:
        """The JSON contract of ``rbmtheory rate trajectory --json`` (non-finite numbers -> null)."""
        prediction = self._prediction(worst=False)
        prediction.update(Lambda_mc=self.lambda_mc.mean_avg, Lambda_mc_se=self.lambda_mc.se_avg)
        field = self.problem.field
        out = {
            "metric": "trajectory",
            "problem": self.problem.name,
            "scheme": self.scheme.spec(),
            "p": field.p,
            "d": field.d,
            "n_points": int(self.problem.x0.shape[0]),
            "T": self.problem.T,
            "dt": self.stats[0].dt,
            "method": self.method,
            "switching": self.switching,
            "realizations": self.stats[0].realizations,
            "seed": self.seed,
            "points": self.points(),
            "points_worst": self.points_worst(),
            "fit": self.fit.as_dict(),
            "fits": {name: verdict.as_dict() for name, verdict in self.fits.items()},
            "prediction": prediction,
            "prediction_worst": self._prediction(worst=True),
            "reference_floor": self.reference_floor,
            "timing": self.timing,
        }
        return _json_safe(out)


def trajectory_bounds(prediction: TrajectoryPrediction, hs: FloatArray, switching: str) -> FloatArray | None:
    """S_bound(mean Lambda, h) h at each h; None for random switching (module docstring)."""
    if switching != "uniform":
        return None
    return np.array([float(np.mean(prediction.s_bound(h))) * h for h in hs])


def _json_safe(value: Any) -> Any:
    """Replace non-finite floats (an overflowing S_bound) by None, recursively; numpy -> Python."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


#: a slope FAIL counts only when the largest h of the fitted window has h L_pi at most this
ASYMPTOTIC_HL = 1.0


def _pre_asymptotic(verdict: RateVerdict, l_pi: float) -> RateVerdict:
    """Downgrade a slope FAIL to INCONCLUSIVE when the window is outside h L_pi <= 1.

    The O(h) law is the leading term of an expansion in h times the field's Lipschitz
    scale; with h L_pi > 1 at the largest fitted h the window is pre-asymptotic and a
    slope far from 1 says nothing about the theorem. A violated rigorous bound stays
    a FAIL whatever h is.
    """
    if verdict.status != FAIL or verdict.bound_ok is False or verdict.fit is None:
        return verdict
    scale = float(np.max(verdict.fit.h)) * l_pi
    if scale <= ASYMPTOTIC_HL:
        return verdict
    reason = (f"{verdict.reason}; but h L_pi = {scale:.3g} > {ASYMPTOTIC_HL:g} at the largest fitted h: "
              "outside the asymptotic regime, add smaller h")
    return dataclasses.replace(verdict, status=INCONCLUSIVE, reason=reason)


def _verdicts(
    stats: list[ErrorStats], leading: list[LeadingOrder], bounds: FloatArray | None, floor: float, seed: int,
    l_pi: float,
) -> dict[str, RateVerdict]:
    """One verdict per metric; C_lead and the bound where the theory gives them."""
    hs = np.array([s.h for s in stats])
    values = [metric_values(s) for s in stats]
    lead = leading[int(np.argmin(hs))]
    predicted = {"sup_mse": lead.mean_c_lead_sup, "mse_T": lead.mean_c_lead, "e_sup": None}
    covered = {"sup_mse": bounds, "mse_T": bounds, "e_sup": None}
    out = {}
    for name in METRICS:
        y = np.array([v[name][0] for v in values])
        se = np.array([v[name][1] for v in values])
        out[name] = _pre_asymptotic(judge(
            hs, y, se, floor=floor, c_lead=predicted[name], bound=covered[name],
            realizations=stats[0].realizations, seed=seed,
        ), l_pi)
    if out["e_sup"].fit is not None:
        out["e_sup"] = dataclasses.replace(out["e_sup"], reason=f"{out['e_sup'].reason}; {E_SUP_NOTE}")
    return out


def rate_trajectory(
    problem: Problem,
    scheme: Scheme | str,
    hs: ArrayLike = (0.1, 0.05, 0.025, 0.0125),
    *,
    dt: float | None = None,
    method: str = "rk4",
    switching: str = "uniform",
    realizations: int = 1000,
    seed: int = 0,
    workers: int | None = None,
) -> RateResult:
    """Measure, predict and judge the O(h) trajectory rate (module docstring).

    ``scheme`` is a scheme or a spec; it is taken at the field's p. ``dt`` defaults
    to the engine's (smallest h / 4). The reference floor is
    max(1e-28, reference_check^2): below it an MSE is round-off or discretisation.
    """
    if switching not in ("uniform", "random"):
        raise RBMInputError(f"rate trajectory: switching must be 'uniform' or 'random', got {switching!r}")
    hs = [float(h) for h in np.atleast_1d(np.asarray(hs, dtype=np.float64))]
    if len(hs) < 2:
        raise RBMInputError(f"rate trajectory needs at least two values of h, got {hs}")
    scheme = concrete_scheme(scheme, problem.field.p)
    tic = time.perf_counter()
    stats = run_error_sweep(
        problem, scheme, hs, dt=dt, method=method, switching=switching,
        realizations=realizations, seed=seed, workers=workers,
    )
    engine_seconds = time.perf_counter() - tic
    dt = stats[0].dt
    prediction = predict_trajectory(problem, scheme, dt, method)
    rules, _ = switching_rules(hs, switching, problem.T, dt)
    leading = [prediction.leading_order(rule) for rule in rules]
    lambda_mc = prediction.monte_carlo_lambda(min(realizations, LAMBDA_REALIZATIONS), seed)
    with np.errstate(over="ignore", invalid="ignore"):
        gap = reference_check(problem, dt, method)
        floor = max(ROUNDOFF_FLOOR, gap**2)
    if not np.isfinite(floor):
        raise RBMInputError(
            f"the full trajectory is not resolved at dt = {dt:.6g}: |x_dt - x_dt/4| = {gap:.3g} "
            "(it blows up; reduce dt or check the field)"
        )
    prediction_seconds = time.perf_counter() - tic - engine_seconds
    fits = _verdicts(stats, leading, trajectory_bounds(prediction, np.array(hs), switching), floor, seed,
                     prediction.l_pi)
    timing = {
        "engine": engine_seconds,
        "prediction": prediction_seconds,
        "total": time.perf_counter() - tic,
    }
    return RateResult(
        problem, scheme, method, switching, seed, stats, prediction, leading, lambda_mc, fits, floor, timing,
    )
