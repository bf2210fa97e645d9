"""``rbmtheory check``: a new scheme end to end, on small settings."""
import json

from rbmtheory.schemes.registry import scheme_from_spec
from reporting.check import CheckSettings, check_scheme, sampler_checks
from reporting.cli import main


def test_check_new_scheme_end_to_end(tmp_path):
    settings = CheckSettings(hs=(0.1, 0.05), realizations=60, samples=4000, seed=3)
    checks, folder = check_scheme("stratified(strata=[[0,1],[2,3,4]], r=[1,2])", settings, tmp_path / "c")
    names = {c.name for c in checks}
    assert {"pi_ik (p = 5)", "sampler pi_i, pi_ik", "trajectory rate"} <= names
    assert all(c.passed for c in checks if c.name != "trajectory rate")  # too few h for a verdict
    data = json.loads((folder / "check.json").read_text())
    assert data["seed"] == 3 and data["rate"]["seed"] == 3
    assert (folder / "report.html").exists() and (folder / "rates.png").stat().st_size > 0


def test_sampler_check_detects_a_wrong_sampler(monkeypatch):
    """A sampler that draws from another law than the derivation's must fail the check."""
    import numerics.schedules as schedules

    right = scheme_from_spec("poisson(q=[1/2, 1/3, 1/4])")
    assert sampler_checks(right, 4000, 0)[0].passed
    other = scheme_from_spec("poisson(q=[1/2, 1/2, 1/4])").law()
    monkeypatch.setattr(schedules, "scheme_sampler", lambda scheme: schedules.law_sampler(other))
    assert not sampler_checks(right, 4000, 0)[0].passed


def test_check_cli_bad_spec_is_one_line(capsys):
    assert main(["check", "balanced(r=0)"]) == 2
    err = capsys.readouterr().err
    assert "r must be a positive integer" in err and len(err.strip().splitlines()) == 1


def test_worked_derivation_picks_a_valid_p():
    """balanced(r=8) has no p = 7: the enumeration check runs at an enumerable p >= r."""
    from reporting.derivation import worked_derivation

    text = worked_derivation(scheme_from_spec("balanced(r=8)"))
    assert "Enumeration at p = 10" in text and "all agree" in text
