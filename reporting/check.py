"""Check a (new) sampling scheme end to end: ``rbmtheory check SPEC``.

1. derive everything symbolically (:func:`rbmtheory.analysis.analyse`) and write the
   worked derivation;
2. hold the derivation against exact enumeration and the THEORY.md §2 identities at
   small p (:mod:`rbmtheory.checks`);
3. hold the numeric sampler against the exact pi_i and pi_ik (Monte Carlo, with a
   Bonferroni-corrected z threshold so the whole family of comparisons has a false
   alarm probability of 1e-3);
4. run the trajectory-rate experiment on a field (the default one, with the scheme's
   p if the scheme fixes it) and compare the measured rate and constant with the
   sharp prediction and S_bound.

Everything lands in ``reports/check-<slug>/`` (report.md, report.html, check.json,
the rate figure) and a summary is printed; the exit status is 1 when a check fails.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy import stats as st

from rbmtheory.checks import Check, enumeration_checks, identity_checks, small_p_values
from rbmtheory.inclusion import inclusion
from rbmtheory.schemes.base import Scheme
from rbmtheory.schemes.registry import scheme_from_spec
from reporting.derivation import worked_derivation
from reporting.report import ReportWriter, _figure, _html, _markdown_table, _summary_row

#: family-wise false-alarm probability of the sampler comparisons
FAMILY_ALPHA = 1e-3


@dataclass(frozen=True)
class CheckSettings:
    field: Path | None = None
    hs: tuple[float, ...] = (0.1, 0.05, 0.025, 0.0125)
    realizations: int = 300
    samples: int = 20000
    seed: int = 0
    switching: str = "uniform"


def slug(spec: str) -> str:
    """A folder name for a spec: ``balanced(r=3)`` -> ``balanced-r-3``."""
    return re.sub(r"[^a-z0-9]+", "-", spec.lower()).strip("-")[:60]


def sampler_checks(scheme: Scheme, samples: int, seed: int) -> list[Check]:
    """Empirical inclusion frequencies of the numeric sampler against the exact pi_i, pi_ik."""
    from numerics.schedules import scheme_sampler

    sampler = scheme_sampler(scheme)
    member = sampler.sample(np.random.default_rng(np.random.SeedSequence(seed)), samples).indicators(sampler.p)
    inc = inclusion(scheme)
    exact = np.array(inc.matrix.tolist(), dtype=float)
    freq = member.T.astype(float) @ member.astype(float) / samples
    degenerate = exact * (1 - exact) == 0  # P = 0 or 1: the frequency must be exact
    se = np.sqrt(np.where(degenerate, 1.0, exact * (1 - exact)) / samples)
    z = np.abs(freq - exact) / se
    z[degenerate] = np.where(freq[degenerate] == exact[degenerate], 0.0, np.inf)
    tests = exact.size
    threshold = st.norm.isf(FAMILY_ALPHA / (2 * tests))
    worst = np.unravel_index(np.argmax(z), z.shape)
    return [Check(
        "sampler pi_i, pi_ik", bool(z.max() <= threshold),
        f"{samples} draws; max |freq - exact|/SE = {z.max():.2f} at {tuple(map(int, worst))} "
        f"(threshold {threshold:.2f}, family-wise false alarm {FAMILY_ALPHA})",
    )]


def _problem(scheme: Scheme, settings: CheckSettings):
    from numerics.fieldfile import default_problem, load_problem

    if settings.field is not None:
        return load_problem(settings.field)
    fixed = scheme.fixed_p()
    return default_problem(seed=settings.seed, p=int(fixed) if fixed is not None else 24)


def check_scheme(spec: str, settings: CheckSettings, out: Path | None = None) -> tuple[list[Check], Path]:
    """Run the four stages; returns the checks and the report folder."""
    from numerics.experiments import rate_trajectory

    scheme = scheme_from_spec(spec)
    problem = _problem(scheme, settings)
    concrete = scheme if scheme.concrete else scheme.at(problem.field.p)
    writer = ReportWriter(out or Path("reports") / f"check-{slug(spec)}")
    sections = [worked_derivation(scheme)]
    checks: list[Check] = []
    for p in small_p_values(scheme):
        at_p = scheme.at(p) if not scheme.concrete else scheme
        checks += [Check(f"{c.name} (p = {p})", c.passed, c.detail) for c in enumeration_checks(at_p) + identity_checks(at_p)]
    checks += sampler_checks(concrete, settings.samples, settings.seed)
    result = rate_trajectory(problem, concrete, settings.hs, switching=settings.switching,
                             realizations=settings.realizations, seed=settings.seed)
    row = _summary_row(result)
    checks.append(Check("trajectory rate", row["verdict"] in ("PASS", "EXACT"), f"{row['verdict']}: {row['reason']}"))
    if row["bound_holds"] is not None:
        checks.append(Check("S_bound h >= measured error", row["bound_holds"], f"S_bound = {row['S_bound']:.4g}"))
    writer.produce("rates.png", lambda path: _figure([result], path))
    sections.append("## Checks\n\n" + _markdown_table([asdict(c) for c in checks]))
    sections.append("## Trajectory rate\n\n" + _markdown_table([row]) + "\n![rates](rates.png)\n")
    markdown = "\n".join(sections)
    writer.write("report.md", markdown)
    writer.write("report.html", _html(markdown))
    writer.write("check.json", json.dumps({"scheme": spec, "seed": settings.seed, "checks": [asdict(c) for c in checks],
                                           "rate": result.as_dict()}, indent=2, default=str) + "\n")
    return checks, writer.out
