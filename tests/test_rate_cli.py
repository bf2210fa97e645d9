"""The ``rbmtheory rate trajectory`` contract: JSON keys, the text table, bad input (exit 2, one line)."""
import json

import numpy as np
import pytest

from numerics.experiments import rate_trajectory
from numerics.fieldfile import default_problem
from reporting.cli import main

TOP_KEYS = {"seed", "scheme", "points", "fit", "fits", "prediction", "prediction_worst", "timing", "reference_floor"}
POINT_KEYS = {"h", "mse_T", "mse_T_se", "sup_mse", "sup_mse_se", "e_sup", "e_sup_se"}
FIT_KEYS = {"slope", "slope_ci", "constant", "verdict", "reason"}
PREDICTION_KEYS = {"Lambda", "C_lead", "C_lead_sup", "S_bound", "L_pi"}
SMALL = ["--realizations", "50", "--h", "0.2,0.1,0.05"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def small_field(tmp_path_factory):
    rng = np.random.default_rng(0)
    p, d = 6, 2
    data = {
        "kind": "neural", "activation": "tanh",
        "W": (0.2 * rng.standard_normal((p, d))).tolist(), "A": rng.standard_normal((p, d)).tolist(),
        "b": rng.standard_normal(p).tolist(), "x0": rng.standard_normal((4, d)).tolist(), "T": 1.0,
    }
    path = tmp_path_factory.mktemp("fields") / "small.json"
    path.write_text(json.dumps(data))
    return path, data


def test_json_contract(capsys, small_field):
    path, _ = small_field
    code, out, err = run(capsys, "rate", "trajectory", "--field", str(path), "--scheme", "balanced(r=2)", *SMALL,
                         "--seed", "3", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert TOP_KEYS <= set(data) and data["seed"] == 3 and data["scheme"] == "balanced(r=2)"
    assert [p["h"] for p in data["points"]] == [0.2, 0.1, 0.05]
    for point in data["points"]:
        assert POINT_KEYS <= set(point)
        assert point["sup_mse"] >= point["mse_T"] and point["e_sup"] >= point["sup_mse"]
    assert FIT_KEYS <= set(data["fit"]) and len(data["fit"]["slope_ci"]) == 2
    assert set(data["fits"]) == {"sup_mse", "mse_T", "e_sup"} and data["fits"]["sup_mse"] == data["fit"]
    assert PREDICTION_KEYS <= set(data["prediction"]) and PREDICTION_KEYS <= set(data["prediction_worst"])
    assert data["prediction_worst"]["Lambda"] >= data["prediction"]["Lambda"] > 0
    assert data["timing"]["total"] > 0 and data["reference_floor"] >= 1e-28
    assert len(data["points_worst"]) == 3


def test_text_table_and_default_problem(capsys):
    code, out, _ = run(capsys, "rate", "trajectory", "--scheme", "disjoint(r=8)", "--realizations", "20",
                       "--h", "0.5,0.25", "--T", "0.5", "--method", "rk2", "--switching", "random")
    assert code == 0
    assert "sup_mse" in out and "C_lead" in out and "random switching" in out
    assert any(v in out for v in ("PASS", "FAIL", "INCONCLUSIVE"))


def test_single_batch_is_exact(capsys, small_field):
    path, _ = small_field
    code, out, _ = run(capsys, "rate", "trajectory", "--field", str(path), "--scheme", "single", *SMALL, "--json")
    data = json.loads(out)
    assert code == 0 and data["fit"]["verdict"] == "EXACT"
    assert all(p["sup_mse"] <= 1e-28 for p in data["points"]) and data["prediction"]["C_lead"] == 0


def _write(tmp_path, data):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    return str(path)


def _bad(tmp_path, **change):
    rng = np.random.default_rng(1)
    data = {"kind": "neural", "activation": "tanh", "W": rng.standard_normal((3, 2)).tolist(),
            "A": rng.standard_normal((3, 2)).tolist(), "b": [0.0, 0.0, 0.0], "x0": [[0.0, 1.0]], "T": 1.0}
    return _write(tmp_path, {**data, **change})


EXPLODING = {"kind": "linear", "A": [[[800.0, 0.0], [0.0, 800.0]]], "x0": [[1.0, 1.0]], "T": 1.0}
#: finite but unresolved at the default dt: overflows in the dt/4 reference check
UNRESOLVED = {"kind": "linear", "A": [[[300.0, 0.0], [0.0, 300.0]], [[300.0, 0.0], [0.0, 300.0]]],
              "x0": [[1.0, 1.0]], "T": 1.0}


@pytest.mark.parametrize(
    "case, argv, message",
    [
        ("shape", lambda t: ["--field", _bad(t, W=[[1.0, 2.0, 3.0]] * 3)], "W"),
        ("activation", lambda t: ["--field", _bad(t, activation="swish")], "swish"),
        ("multiple", lambda t: ["--h", "0.1,0.03", "--dt", "0.02"], "multiple"),
        ("blow-up", lambda t: ["--field", _write(t, EXPLODING)], "blew up"),
        ("unresolved", lambda t: ["--field", _write(t, UNRESOLVED), "--h", "0.5,0.25"], "blows up"),
        ("scheme", lambda t: ["--scheme", "balanced(r=99)"], "r"),
        ("number", lambda t: ["--h", "0.1,abc"], "--h"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, tmp_path, case, argv, message):
    args = argv(tmp_path)
    scheme = [] if "--scheme" in args else ["--scheme", "pick-one"]
    code, out, err = run(capsys, "rate", "trajectory", *scheme, *args, "--realizations", "10")
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rbmtheory: error:") and message in lines[0], err


def test_python_api_points_frame():
    problem = default_problem(0, n_points=4)
    result = rate_trajectory(problem, "pick-one", [0.2, 0.1], realizations=40, seed=1)
    frame = result.points_frame()
    assert list(frame.index) == [0.2, 0.1]
    assert {"sup_mse", "sup_mse_se", "mse_T", "e_sup", "predicted_sup_mse", "bound"} <= set(frame.columns)
    assert np.all(frame["bound"] >= frame["sup_mse"])
    assert result.fit is result.fits["sup_mse"]
