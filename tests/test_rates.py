"""Rate fitting and the verdict on synthetic data (numerics.rates)."""
import numpy as np
import pytest

from numerics.rates import (
    EXACT,
    FAIL,
    INCONCLUSIVE,
    PASS,
    asymptotic_window,
    fit_power_law,
    judge,
    local_slopes,
)
from rbmtheory.errors import RBMInputError

H = np.array([0.1, 0.05, 0.025, 0.0125])


def _noisy(slope, constant, rel, seed, h=H):
    rng = np.random.default_rng(seed)
    y = constant * h**slope
    se = rel * y
    return y + se * rng.standard_normal(h.size), se


def test_fit_recovers_slope_and_constant():
    y, se = _noisy(1.3, 4.0, 0.01, seed=1)
    fit = fit_power_law(H, y, se)
    assert fit.slope == pytest.approx(1.3, abs=0.05)
    assert fit.constant == pytest.approx(4.0, rel=0.2)
    lo, hi = fit.slope_ci()
    assert lo < fit.slope < hi
    c_lo, c_hi = fit.constant_ci()
    assert c_lo < fit.constant < c_hi
    assert fit.dof == 2 and fit.gof_pvalue is not None


def test_fit_is_exact_without_noise_and_order_independent():
    y = 2.5 * H**0.5
    fit = fit_power_law(H[::-1], y[::-1], 1e-3 * y[::-1])
    assert fit.slope == pytest.approx(0.5, abs=1e-12)
    assert fit.constant == pytest.approx(2.5, rel=1e-12)
    assert fit.chi2 == pytest.approx(0.0, abs=1e-18)
    assert fit.constant_at(0.5)[0] == pytest.approx(2.5, rel=1e-12)


def test_delta_and_bootstrap_intervals_agree_for_small_errors():
    y, se = _noisy(1.0, 1.0, 0.02, seed=2)
    fit = fit_power_law(H, y, se)
    (a, b), (c, d) = fit.delta_ci(), fit.bootstrap_ci()
    assert c == pytest.approx(a, abs=0.1 * (b - a)) and d == pytest.approx(b, abs=0.1 * (b - a))
    lo, hi = fit.slope_ci()
    assert lo <= min(a, c) and hi >= max(b, d)


def test_ci_coverage():
    """The 95% interval covers the true slope in about 95% of synthetic experiments."""
    trials = 400
    covered = 0
    for seed in range(trials):
        y, se = _noisy(1.0, 3.0, 0.05, seed=100 + seed)
        lo, hi = fit_power_law(H, y, se, n_bootstrap=400, seed=seed).delta_ci()
        covered += lo <= 1.0 <= hi
    assert 0.92 <= covered / trials <= 0.98  # binomial SD ~ 0.011


def test_local_slopes():
    y = H**2
    slopes, ses = local_slopes(H, y, 0.01 * y)
    np.testing.assert_allclose(slopes, 2.0)
    assert np.all(ses > 0)


def test_window_drops_a_preasymptotic_large_h():
    y = H * (1 + 3 * (H >= 0.1))  # the largest h is far off the line
    fit, dropped = asymptotic_window(H, y, 0.005 * y)
    assert dropped == [0.1]
    assert fit.slope == pytest.approx(1.0, abs=1e-9)


def test_window_keeps_points_that_fit():
    y = 2.0 * H
    fit, dropped = asymptotic_window(H, y, 0.01 * y)
    assert dropped == [] and fit.h.size == 4


def test_window_false_drop_rate_is_about_one_percent():
    drops = sum(bool(asymptotic_window(H, *_noisy(1.0, 2.0, 0.01, seed=s))[1]) for s in range(300))
    assert drops / 300 < 0.04


def test_verdict_pass_with_constant_comparison_and_bound():
    y, se = _noisy(1.0, 2.0, 0.005, seed=4)
    verdict = judge(H, y, se, c_lead=2.0, bound=10 * H)
    assert verdict.status == PASS, verdict.reason
    assert verdict.constant_ratio == pytest.approx(1.0, abs=0.02)
    assert verdict.ratio_smallest_h == pytest.approx(1.0, abs=0.03)
    assert verdict.bound_ok and verdict.bound_margin == pytest.approx(5.0, rel=0.05)
    assert verdict.false_failure_probability == pytest.approx(0.01)
    summary = verdict.as_dict()
    assert summary["verdict"] == PASS and len(summary["slope_ci"]) == 2


def test_verdict_fail_when_slope_is_wrong():
    y, se = _noisy(0.5, 1.0, 0.005, seed=5)
    verdict = judge(H, y, se)
    assert verdict.status == FAIL and "99% CI" in verdict.reason


def test_verdict_fail_when_the_bound_is_violated():
    y, se = _noisy(1.0, 2.0, 0.005, seed=6)
    verdict = judge(H, y, se, bound=0.5 * H)
    assert verdict.status == FAIL and not verdict.bound_ok and "bound" in verdict.reason


def test_verdict_inconclusive_when_ci_is_too_wide():
    y = 2.0 * H
    verdict = judge(H, y, 0.3 * y, realizations=100)
    assert verdict.status == INCONCLUSIVE
    assert "CI too wide" in verdict.reason and "more realizations" in verdict.reason
    half = (verdict.fit.slope_ci()[1] - verdict.fit.slope_ci()[0]) / 2
    assert verdict.more_realizations == pytest.approx((half / 0.15) ** 2)


def test_verdict_exact_for_identically_zero_error():
    verdict = judge(H, np.zeros(4), np.zeros(4))
    assert verdict.status == EXACT and verdict.fit is None
    assert judge(H, np.full(4, 1e-31), np.full(4, 1e-32)).status == EXACT


def test_floor_points_are_dropped():
    y = 2.0 * H
    y[3] = 1e-30  # the smallest h, at the round-off floor
    verdict = judge(H, y, 0.005 * y + 1e-40)
    assert verdict.status == PASS and "floor" in verdict.reason
    assert verdict.fit.h.size == 3


def test_inconclusive_with_too_few_points():
    y = 2.0 * H
    y[1:] = 0.0
    assert judge(H, y, 0.01 * y).status == INCONCLUSIVE


def test_reference_floor_is_not_exact():
    y = 1e-20 * H
    verdict = judge(H, y, 0.01 * y, floor=1e-18)
    assert verdict.status == INCONCLUSIVE and "floor" in verdict.reason


def test_bad_input():
    with pytest.raises(RBMInputError):
        fit_power_law([0.1, 0.05], [1.0], [0.1])
    with pytest.raises(RBMInputError):
        judge(H, [1, 2, np.nan, 4], [0.1] * 4)
    with pytest.raises(RBMInputError):
        fit_power_law([0.1, 0.1], [1.0, 1.0], [0.1, 0.1])


def test_slope_fail_outside_the_asymptotic_regime_is_inconclusive():
    """A wrong slope with h L_pi > 1 is pre-asymptotic (INCONCLUSIVE), with h L_pi <= 1 a FAIL."""
    from numerics.experiments import _pre_asymptotic

    h = np.array([0.4, 0.2, 0.1, 0.05])
    y = 0.3 * h**0.5
    verdict = judge(h, y, 1e-3 * y)
    assert verdict.status == "FAIL"
    assert _pre_asymptotic(verdict, l_pi=1.0).status == "FAIL"
    relaxed = _pre_asymptotic(verdict, l_pi=10.0)
    assert relaxed.status == "INCONCLUSIVE" and "asymptotic regime" in relaxed.reason
