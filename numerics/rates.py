"""Convergence rates: power-law fits metric(h) = C h^slope with error bars, and a verdict.

Model and fit
-------------
Each point is a Monte Carlo mean y_i with standard error se_i at switching length h_i.
On the log scale, log y_i = log C + slope log h_i + eps_i with, by the delta method,
var(eps_i) ~ (se_i / y_i)^2. :func:`fit_power_law` is the weighted least-squares fit
with these weights (known variances: the covariance of (log C, slope) is
(X^T W X)^-1, no rescaling by the residuals; the chi^2 of the residuals is reported
as a goodness-of-fit check).

Confidence intervals — choice
-----------------------------
Two intervals are computed for the slope: the delta-method interval slope +- z se
(exact when the log-means are Gaussian, which the CLT gives for the hundreds of
realizations a sweep uses) and a parametric bootstrap: redraw y_i* ~ N(y_i, se_i^2)
(the engine reports per-h means and SEs, not per-realization errors), refit, take
percentiles. The bootstrap catches the non-linearity of the log when se/y is not
small. The verdict uses the *hull* of the two intervals, so its coverage is at
least that of either; when they agree (the usual case) the hull is the delta interval.

Verdict (:func:`judge`)
-----------------------
* ``EXACT`` — every metric value is at or below the round-off floor: the random
  batch method reproduces the full model (single batch), nothing to fit.
* ``FAIL`` — the 99% CI excludes the expected slope, or a rigorous bound is
  violated beyond 2.58 standard errors.
* ``PASS`` — the 95% CI contains the expected slope and its half-width is at most
  ``tol``.
* ``INCONCLUSIVE`` — otherwise, with the reason; when the interval is too wide the
  factor of realizations needed is (half-width / tol)^2 (the width scales like
  1 / sqrt(M)).

False-failure probability: if the power law holds exactly in the window, a 99%
interval misses the true slope with probability 1%, so a correct method is declared
FAIL in at most 1% of fits; a 95% miss (5%) only makes the verdict INCONCLUSIVE.

Correlation across h: the engine uses common random numbers for all h
(:mod:`numerics.schedules`), so the per-h means are positively correlated, which a
fit from means and SEs cannot see. For a slope (coefficients summing to zero) this
lowers the true variance: on a linear test problem (40 seeds, M = 200, h = 0.1 ..
0.0125) the empirical SD of the slope was 0.045 against a reported SE of 0.055. The
intervals are therefore conservative: the false-failure probability stays below 1%,
at the price of more INCONCLUSIVE verdicts.

Asymptotic window: the power law holds as h -> 0; :func:`asymptotic_window` drops
the largest h while the local slope between the two largest remaining h disagrees
with the fit beyond 2.58 standard errors of their difference, keeping at least
three points. Points at or below the floor are dropped first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import chi2 as chi2_dist
from scipy.stats import norm

from rbmtheory.errors import RBMInputError

FloatArray = NDArray[np.float64]

PASS, FAIL, INCONCLUSIVE, EXACT = "PASS", "FAIL", "INCONCLUSIVE", "EXACT"
#: round-off floor of a mean squared error of O(1) states (float64)
ROUNDOFF_FLOOR = 1e-28
#: confidence of the PASS/INCONCLUSIVE interval and of the FAIL interval
LEVEL_PASS, LEVEL_FAIL = 0.95, 0.99


def z_value(level: float) -> float:
    """Two-sided standard normal quantile: P(|Z| <= z) = level."""
    return float(norm.ppf(0.5 + level / 2))


def _points(h: ArrayLike, y: ArrayLike, se: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validated float arrays of equal length, sorted by increasing h."""
    h, y, se = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (h, y, se))
    if not (h.size == y.size == se.size):
        raise RBMInputError(f"rate fit: h, y and se have lengths {h.size}, {y.size}, {se.size}")
    if not np.all(np.isfinite(np.concatenate([h, y, se]))):
        raise RBMInputError("rate fit: h, y and se must be finite (did the error blow up?)")
    if np.any(h <= 0) or np.any(y < 0) or np.any(se < 0):
        raise RBMInputError("rate fit: h must be positive and y, se non-negative")
    order = np.argsort(h)
    return h[order], y[order], se[order]


@dataclass(frozen=True)
class PowerLawFit:
    """log y = log C + slope log h, weighted by (y/se)^2 (module docstring).

    ``slope_cov`` is the 2 x 2 covariance of (log C, slope); ``bootstrap`` holds the
    bootstrap slopes (for percentile intervals).
    """

    h: FloatArray
    y: FloatArray
    se: FloatArray
    log_constant: float
    slope: float
    cov: FloatArray
    chi2: float
    bootstrap: FloatArray

    @property
    def slope_se(self) -> float:
        return float(np.sqrt(self.cov[1, 1]))

    @property
    def constant(self) -> float:
        return float(np.exp(self.log_constant))

    @property
    def dof(self) -> int:
        return self.h.size - 2

    @property
    def gof_pvalue(self) -> float | None:
        """P(chi^2_dof >= chi2): small values flag a misfit (None with two points)."""
        return float(chi2_dist.sf(self.chi2, self.dof)) if self.dof > 0 else None

    def delta_ci(self, level: float = LEVEL_PASS) -> tuple[float, float]:
        """slope +- z se (delta method)."""
        z = z_value(level)
        return self.slope - z * self.slope_se, self.slope + z * self.slope_se

    def bootstrap_ci(self, level: float = LEVEL_PASS) -> tuple[float, float]:
        """Percentile interval of the parametric-bootstrap slopes."""
        lo, hi = np.quantile(self.bootstrap, [0.5 - level / 2, 0.5 + level / 2])
        return float(lo), float(hi)

    def slope_ci(self, level: float = LEVEL_PASS) -> tuple[float, float]:
        """The hull of the delta-method and bootstrap intervals (used by the verdict)."""
        (a, b), (c, d) = self.delta_ci(level), self.bootstrap_ci(level)
        return min(a, c), max(b, d)

    def constant_ci(self, level: float = LEVEL_PASS) -> tuple[float, float]:
        """exp(log C +- z se(log C))."""
        half = z_value(level) * np.sqrt(self.cov[0, 0])
        return float(np.exp(self.log_constant - half)), float(np.exp(self.log_constant + half))

    def constant_at(self, slope: float, level: float = LEVEL_PASS) -> tuple[float, tuple[float, float]]:
        """C and its CI with the slope fixed: log C = weighted mean of log y - slope log h."""
        w = (self.y / self.se) ** 2
        log_c = float(np.sum(w * (np.log(self.y) - slope * np.log(self.h))) / w.sum())
        half = z_value(level) / np.sqrt(w.sum())
        return float(np.exp(log_c)), (float(np.exp(log_c - half)), float(np.exp(log_c + half)))


def _solve(x: FloatArray, logs: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """WLS for columns of ``logs`` (n, B): coefficients (2, B) and the covariance (2, 2)."""
    design = np.column_stack([np.ones_like(x), x])
    cov = np.linalg.inv(design.T @ (w[:, None] * design))
    return cov @ design.T @ (w[:, None] * logs), cov


def fit_power_law(
    h: ArrayLike, y: ArrayLike, se: ArrayLike, *, n_bootstrap: int = 4000, seed: int = 0
) -> PowerLawFit:
    """Weighted log-log least squares of y = C h^slope (module docstring).

    Bootstrap draws with a non-positive y_i* are rejected (they have no logarithm).

    >>> h = np.array([0.1, 0.05, 0.025])
    >>> fit = fit_power_law(h, 3 * h, 0.01 * 3 * h)
    >>> round(fit.slope, 12), round(fit.constant, 12)
    (1.0, 3.0)
    """
    h, y, se = _points(h, y, se)
    if h.size < 2 or np.any(y <= 0) or np.any(se <= 0):
        raise RBMInputError("rate fit: needs at least two points with positive y and se")
    if np.unique(h).size != h.size:
        raise RBMInputError(f"rate fit: repeated h values in {h.tolist()}")
    x, logs, w = np.log(h), np.log(y), (y / se) ** 2
    coef, cov = _solve(x, logs[:, None], w)
    resid = logs - coef[0, 0] - coef[1, 0] * x
    draws = y[:, None] + se[:, None] * np.random.default_rng(seed).standard_normal((h.size, n_bootstrap))
    draws = draws[:, np.all(draws > 0, axis=0)]
    boot, _ = _solve(x, np.log(draws), w)
    return PowerLawFit(h, y, se, float(coef[0, 0]), float(coef[1, 0]), cov, float(np.sum(w * resid**2)), boot[1])


def local_slopes(h: ArrayLike, y: ArrayLike, se: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Slopes log(y_{i+1}/y_i) / log(h_{i+1}/h_i) between consecutive h and their SEs."""
    h, y, se = _points(h, y, se)
    dx = np.diff(np.log(h))
    rel = se / y
    return np.diff(np.log(y)) / dx, np.sqrt(rel[1:] ** 2 + rel[:-1] ** 2) / np.abs(dx)


def _top_disagreement(fit: PowerLawFit) -> float:
    """(local slope of the two largest h - fitted slope) / its standard error.

    Both are linear in log y, so the variance of the difference is g^T diag(rel^2) g
    with g the difference of their coefficient vectors.
    """
    x, rel = np.log(fit.h), fit.se / fit.y
    w = rel**-2
    design = np.column_stack([np.ones_like(x), x])
    fit_row = (fit.cov @ design.T * w)[1]
    local_row = np.zeros_like(x)
    local_row[-2:] = np.array([-1.0, 1.0]) / (x[-1] - x[-2])
    g = local_row - fit_row
    local = float(local_row @ np.log(fit.y))
    return (local - fit.slope) / float(np.sqrt(np.sum((g * rel) ** 2)))


def asymptotic_window(
    h: ArrayLike, y: ArrayLike, se: ArrayLike, *, level: float = LEVEL_FAIL, min_points: int = 3, seed: int = 0
) -> tuple[PowerLawFit, list[float]]:
    """Fit on the asymptotic window: drop the largest h while its local slope disagrees.

    Returns the fit on the window and the dropped h values (module docstring).
    """
    h, y, se = _points(h, y, se)
    dropped: list[float] = []
    z = z_value(level)
    fit = fit_power_law(h, y, se, seed=seed)
    while fit.h.size > min_points and abs(_top_disagreement(fit)) > z:
        dropped.append(float(fit.h[-1]))
        fit = fit_power_law(fit.h[:-1], fit.y[:-1], fit.se[:-1], seed=seed)
    return fit, dropped


@dataclass(frozen=True)
class RateVerdict:
    """The outcome of a rate check (module docstring) and every number behind it."""

    status: str
    reason: str
    expected: float
    fit: PowerLawFit | None = None
    dropped: list[float] = field(default_factory=list)
    c_lead: float | None = None
    constant_ratio: float | None = None
    ratio_smallest_h: float | None = None
    bound_ok: bool | None = None
    bound_margin: float | None = None
    more_realizations: float | None = None
    false_failure_probability: float = 1 - LEVEL_FAIL

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (slope, CIs, constant, verdict, reason, comparisons)."""
        out: dict[str, Any] = {"verdict": self.status, "reason": self.reason, "expected_slope": self.expected}
        if self.fit is not None:
            fit = self.fit
            constant_fixed, constant_fixed_ci = fit.constant_at(self.expected)
            out.update(
                slope=fit.slope,
                slope_se=fit.slope_se,
                slope_ci=list(fit.slope_ci(LEVEL_PASS)),
                slope_ci_99=list(fit.slope_ci(LEVEL_FAIL)),
                slope_ci_delta=list(fit.delta_ci(LEVEL_PASS)),
                slope_ci_bootstrap=list(fit.bootstrap_ci(LEVEL_PASS)),
                constant=fit.constant,
                constant_ci=list(fit.constant_ci()),
                constant_at_expected=constant_fixed,
                constant_at_expected_ci=list(constant_fixed_ci),
                chi2=fit.chi2,
                dof=fit.dof,
                gof_pvalue=fit.gof_pvalue,
                window=fit.h.tolist(),
            )
        else:
            out.update(slope=None, slope_ci=None, constant=None)
        out.update(
            dropped=self.dropped,
            c_lead=self.c_lead,
            constant_ratio=self.constant_ratio,
            ratio_smallest_h=self.ratio_smallest_h,
            bound_ok=self.bound_ok,
            bound_margin=self.bound_margin,
            more_realizations=self.more_realizations,
            false_failure_probability=self.false_failure_probability,
        )
        return out


def _bound_check(y: FloatArray, se: FloatArray, bound: FloatArray | None) -> tuple[bool | None, float | None, bool]:
    """(bound >= y at every h, min bound / y, violated beyond 2.58 SE)."""
    if bound is None:
        return None, None, False
    positive = y > 0
    margin = float(np.min(bound[positive] / y[positive])) if positive.any() else None
    significant = bool(np.any(y - z_value(LEVEL_FAIL) * se > bound))
    return bool(np.all(bound >= y)), margin, significant


def _slope_status(fit: PowerLawFit, expected: float, tol: float, realizations: int | None) -> tuple[str, str, float | None]:
    """PASS / FAIL / INCONCLUSIVE from the 95% and 99% slope intervals."""
    lo, hi = fit.slope_ci(LEVEL_PASS)
    lo99, hi99 = fit.slope_ci(LEVEL_FAIL)
    half = (hi - lo) / 2
    ci = f"slope {fit.slope:.3f}, 95% CI [{lo:.3f}, {hi:.3f}]"
    if not lo99 <= expected <= hi99:
        return FAIL, f"{ci}: the 99% CI [{lo99:.3f}, {hi99:.3f}] excludes the expected slope {expected:g}", None
    if not lo <= expected <= hi:
        return INCONCLUSIVE, f"{ci} excludes {expected:g} but the 99% CI does not: borderline, rerun with more realizations", None
    if half > tol:
        factor = (half / tol) ** 2
        need = f" (about {int(np.ceil(factor * realizations))})" if realizations else ""
        return INCONCLUSIVE, f"{ci}: CI too wide (half-width {half:.3f} > {tol:g}): need about {factor:.1f}x more realizations{need}", factor
    return PASS, f"{ci} contains {expected:g} with half-width {half:.3f} <= {tol:g}", None


def judge(
    h: ArrayLike,
    y: ArrayLike,
    se: ArrayLike,
    *,
    expected: float = 1.0,
    tol: float = 0.15,
    floor: float = 0.0,
    roundoff: float = ROUNDOFF_FLOOR,
    c_lead: float | None = None,
    bound: ArrayLike | None = None,
    realizations: int | None = None,
    seed: int = 0,
) -> RateVerdict:
    """The verdict on metric(h) ~ C h^expected (module docstring).

    ``roundoff``: values at or below it are zero to round-off (all of them: EXACT);
    ``floor``: a further floor (e.g. the reference discretisation floor); points at or
    below max(floor, roundoff) are dropped before the fit.
    ``c_lead``: the predicted constant, compared with C at the expected slope
    (``constant_ratio``) and with y / h at the smallest h (``ratio_smallest_h``).
    ``bound``: rigorous upper bounds on y at each h (e.g. S_bound(h) h).

    >>> h = np.array([0.1, 0.05, 0.025, 0.0125])
    >>> judge(h, 0 * h, 0 * h).status
    'EXACT'
    >>> judge(h, 2 * h, 0.01 * h, c_lead=2.0).status
    'PASS'
    """
    order = np.argsort(np.asarray(h, dtype=np.float64).reshape(-1))
    h, y, se = _points(h, y, se)
    if bound is not None:
        bound = np.asarray(bound, dtype=np.float64).reshape(-1)
        if bound.size != h.size:
            raise RBMInputError(f"rate verdict: {bound.size} bounds for {h.size} values of h")
        bound = bound[order]
    bound_ok, margin, violated = _bound_check(y, se, bound)
    common = dict(expected=expected, c_lead=c_lead, bound_ok=bound_ok, bound_margin=margin)
    if np.all(y <= roundoff):
        return RateVerdict(EXACT, f"every value is at or below {roundoff:g}: error zero to round-off", **common)
    floor = max(floor, roundoff)
    above = y > floor
    notes = [f"{int((~above).sum())} h at or below the floor {floor:.3g} dropped"] if not above.all() else []
    if above.sum() < 2 or np.any(se[above] <= 0):
        why = f"fewer than two h above the floor {floor:.3g}" if above.sum() < 2 else "a zero standard error"
        return RateVerdict(INCONCLUSIVE, f"cannot fit: {why}", **common)
    fit, dropped = asymptotic_window(h[above], y[above], se[above], seed=seed)
    notes += [f"h = {', '.join(f'{v:g}' for v in dropped)} outside the asymptotic window"] if dropped else []
    status, reason, factor = _slope_status(fit, expected, tol, realizations)
    if violated:
        status, reason = FAIL, f"the rigorous bound is below the measured error beyond 2.58 SE; {reason}"
    ratios = {}
    if c_lead:
        ratios = dict(
            constant_ratio=fit.constant_at(expected)[0] / c_lead,
            ratio_smallest_h=float(fit.y[0] / fit.h[0] ** expected / c_lead),
        )
    reason = "; ".join([reason] + notes)
    return RateVerdict(status, reason, fit=fit, dropped=dropped, more_realizations=factor, **common, **ratios)
