"""The symbolic CLI contract: scheme --json keys and values, table1 formats, bad input."""
import csv
import io
import json
import subprocess
import sys

import pytest
import sympy as sp

from reporting.cli import main

SCHEME_KEYS = {"scheme", "p", "pi", "pi_joint", "pi_min", "expected_batch_size", "c_s", "c_m", "imbalance", "S_bound"}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_balanced_json_contract(capsys):
    code, out, _ = run(capsys, "scheme", "balanced(r=3)", "--p", "7", "--json")
    data = json.loads(out)
    assert code == 0 and SCHEME_KEYS <= set(data)
    assert data["pi"] == ["3/7"] * 7 and data["pi2"] == "1/7"
    assert data["pi_joint"][0][1] == "1/7" and data["c_s"] == "98/9" and data["c_m"] == "0"
    for key in ("pi_min", "expected_batch_size", "c_s", "imbalance", "S_bound"):
        sp.sympify(data[key])  # parsable by sympy (our output, not user input)


def test_symbolic_json_and_non_exchangeable(capsys):
    _, out, _ = run(capsys, "scheme", "bernoulli(q=q)", "--json")
    data = json.loads(out)
    assert data["pi"] == ["q"] and sp.simplify(sp.sympify(data["c_s"]) - sp.sympify("p*(1-q)/q")) == 0
    _, out, _ = run(capsys, "scheme", "poisson(q=[1/2, 1/3])", "--json")
    data = json.loads(out)
    assert data["c_s"] is None and data["c_m"] is None and data["pi_joint"] == [["1/2", "1/6"], ["1/6", "1/3"]]


def test_family_file(tmp_path, capsys):
    path = tmp_path / "fam.json"
    path.write_text(json.dumps({"p": 5, "batches": [[0, 1], [2, 3, 4], [0, 4]], "probs": ["1/2", "1/4", "1/4"]}))
    code, out, _ = run(capsys, "scheme", f"family({path})", "--json")
    assert code == 0 and json.loads(out)["pi"] == ["3/4", "1/2", "1/4", "1/4", "1/2"]


@pytest.mark.parametrize("argv,needle", [
    (["scheme", "family(nope.json)"], "nope.json"),
    (["scheme", "pick-one(q=[1/2, 1/3])"], "sum to 5/6"),
    (["scheme", "balanced(r=9)", "--p", "4"], "r <= p"),
    (["scheme", "bernoulli(q=0)"], "(0, 1]"),
    (["scheme", "bernoulli(q=3/2)"], "(0, 1]"),
    (["scheme", "disjoint(r=3)", "--p", "7"], "divisible"),
    (["scheme", "family(blocks.json)"], "blocks.json"),
    (["scheme", "disjoint(blocks=[[0,1],[3]])"], "neuron 2"),
    (["scheme", "balanced(r=3"], "column"),
    (["scheme", "wobble"], "unknown scheme"),
    (["scheme", "balanced(q=3)"], "takes r"),
    (["table1", "--format", "docx"], "invalid choice"),
])
def test_bad_input_is_one_line(capsys, argv, needle):
    if argv[0] == "table1":  # argparse's own usage errors exit through SystemExit(2)
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
    else:
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_family_json(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{"p": 3, "batches": [[0, 1]], "probs": ["1/2"]}')
    assert main(["scheme", f"family({path})"]) == 2
    assert "sum to 1/2" in capsys.readouterr().err
    path.write_text('{"p": 3, "batches": [[0, 1]], "probs": ["1"]}')
    assert main(["scheme", f"family({path})"]) == 2
    assert "never includes neuron 2" in capsys.readouterr().err
    path.write_text('{"p": 3, "batches": [[0, 1, 2]], "probs": [1')
    assert main(["scheme", f"family({path})"]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_table1_csv_and_latex(capsys):
    _, out, _ = run(capsys, "table1", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert len(rows) == 8 and rows[0][0] == "scheme"
    assert [r[0] for r in rows[1:]] == ["single", "drop-one", "pick-one", "balanced", "disjoint", "all-subsets", "bernoulli"]
    assert {len(r) for r in rows} == {len(rows[0])}
    _, out, _ = run(capsys, "table1", "--format", "latex")
    lines = [l for l in out.splitlines() if l.endswith(r"\\")]
    assert out.startswith(r"\begin{tabular}") and r"\end{tabular}" in out
    assert {l.count("&") for l in lines} == {9} and len(lines) == 8
    assert sum(l.count("$") for l in lines) % 2 == 0


def test_table1_unit_scaling_changes_orders(capsys):
    _, mean_field, _ = run(capsys, "table1", "--format", "json")
    _, unit, _ = run(capsys, "table1", "--format", "json", "--scaling", "unit")
    mf = {r["scheme"]: r for r in json.loads(mean_field)["rows"]}
    un = {r["scheme"]: r for r in json.loads(unit)["rows"]}
    assert mf["pick-one"]["order_Lambda"] == "O(1)" and un["pick-one"]["order_Lambda"] == "O(p**2)"
    assert mf["bernoulli"]["order_Lambda"] == "O(1/p)" and "exp" in un["bernoulli"]["order_S_bound"]


def test_python_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "rbmtheory", "scheme", "pick-one", "--p", "3", "--json"],
                          capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout)["pi"] == ["1/3"] * 3


@pytest.mark.skipif(not __import__("shutil").which("pdflatex"), reason="pdflatex not installed")
def test_table1_latex_compiles(tmp_path):
    """The LaTeX table compiles inside a plain article (no extra packages)."""
    from rbmtheory.table1 import render_table1

    for scaling in ("mean-field", "unit"):
        doc = tmp_path / f"t-{scaling}.tex"
        doc.write_text("\\documentclass{article}\\begin{document}\\tiny\n" + render_table1("latex", scaling)
                       + "\\end{document}\n")
        proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
                              cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-2000:]
