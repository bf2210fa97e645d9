"""The main job: a rate-versus-theory report on built-in defaults.

Pipeline (SALib's ProblemSpec in spirit: derive -> simulate -> analyse -> plot):

1. symbolic: Table 1 (Markdown, LaTeX, CSV) and worked derivations;
2. numeric: trajectory-error sweeps over h for a few schemes on the default field,
   fitted rates and constants against the derived predictions (:mod:`reporting.rates`);
3. output: ``report.md``, ``report.html`` with figures, CSV/JSON data and a
   ``manifest.json`` (files with SHA-256, seed, versions, command, timings).
"""
from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rbmtheory.schemes.registry import scheme_from_spec
from rbmtheory.table1 import render_table1
from reporting.derivation import worked_derivation

#: the schemes whose derivations the report works through
DERIVATION_SPECS = ("balanced(r=3)", "bernoulli(q=q)", "size-mixture(sizes={1: 1/3, 4: 2/3})")


@dataclass
class ReportWriter:
    """Writes files into ``out`` and records them for the manifest."""

    out: Path
    files: dict[str, str] = field(default_factory=dict)

    def write(self, name: str, text: str | bytes) -> Path:
        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode() if isinstance(text, str) else text
        path.write_bytes(data)
        self.files[name] = hashlib.sha256(data).hexdigest()
        return path

    def produce(self, name: str, make) -> Path:
        """Let ``make(path)`` write a (binary) file, e.g. a figure, and record it."""
        path = self.out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        make(path)
        self.files[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        return path

    def manifest(self, **extra) -> Path:
        import numpy, scipy, sympy  # versions of what produced the numbers

        body = {
            "files": self.files,
            "command": " ".join(sys.argv),
            "python": platform.python_version(),
            "versions": {"sympy": sympy.__version__, "numpy": numpy.__version__, "scipy": scipy.__version__},
            **extra,
        }
        return self.write("manifest.json", json.dumps(body, indent=2) + "\n")


def symbolic_section(writer: ReportWriter) -> str:
    """Table 1 in three formats and the worked derivations; returns the Markdown section."""
    started = time.perf_counter()
    table = render_table1("md")
    writer.write("table1.md", table)
    writer.write("table1.tex", render_table1("latex"))
    writer.write("table1.csv", render_table1("csv"))
    derivations = "\n".join(worked_derivation(scheme_from_spec(spec)) for spec in DERIVATION_SPECS)
    writer.write("derivations.md", derivations)
    seconds = time.perf_counter() - started
    return f"# Table 1 (derived)\n\n{table}\n{derivations}\n_Symbolic section: {seconds:.1f} s._\n"


# --------------------------------------------------------------------------- numeric

#: the quick report's sweep: the seven canonical schemes at the default field's p = 24
QUICK_SCHEMES = ("single", "drop-one", "pick-one", "balanced(r=8)", "disjoint(r=8)", "all-subsets", "bernoulli(q=3/4)")
QUICK_HS = (0.1, 0.05, 0.025, 0.0125)


@dataclass(frozen=True)
class SweepSettings:
    """What the numeric section runs; recorded in the manifest."""

    schemes: tuple[str, ...] = QUICK_SCHEMES
    hs: tuple[float, ...] = QUICK_HS
    realizations: int = 300
    seed: int = 0
    method: str = "rk4"
    switching: str = "uniform"


def _summary_row(result) -> dict:
    fit = result.fit.as_dict()
    pred = result.as_dict()["prediction"]
    measured = fit.get("constant_at_expected")
    c_sup = pred["C_lead_sup"]
    bounds = result.bounds()
    points = result.points()
    return {
        "scheme": result.scheme.spec(),
        "verdict": fit["verdict"],
        "reason": fit["reason"],
        "slope": fit.get("slope"),
        "slope_ci": fit.get("slope_ci"),
        "constant (h^1 fit)": measured,
        "C_lead_sup": c_sup,
        "measured/C_lead_sup": (measured / c_sup) if measured and c_sup else None,
        "Lambda": pred["Lambda"],
        "Lambda_mc": pred["Lambda_mc"],
        "Lambda_mc_se": pred["Lambda_mc_se"],
        "S_bound": pred["S_bound"],
        "bound_holds": None if bounds is None else bool(all(b >= p["sup_mse"] for b, p in zip(bounds, points))),
        "seconds": result.timing["total"],
    }


def _figure(results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(7, 5))
    for result in results:
        frame = result.points_frame()
        if not (frame["sup_mse"] > 0).any():
            continue
        line = ax.errorbar(frame.index, frame["sup_mse"], yerr=2 * frame["sup_mse_se"], fmt="o", ms=4,
                           label=result.scheme.spec())
        h = np.array(frame.index)
        ax.plot(h, frame["predicted_sup_mse"], "--", color=line[0].get_color(), lw=1)
    ax.set(xscale="log", yscale="log", xlabel="switching step h", ylabel=r"$\sup_t E|x - x_h|^2$",
           title=r"measured (points, 2 SE) vs sharp prediction $\sup_t \mathrm{tr}\, P(t)$ (dashed)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _markdown_table(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row[k]) for k in keys) + " |")
    return "\n".join(lines) + "\n"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return "" if value is None else str(value)


def numeric_section(writer: ReportWriter, settings: SweepSettings) -> tuple[str, list[dict]]:
    """Rate-versus-theory sweeps on the default field; returns the section and its summary."""
    import pandas as pd

    from numerics.experiments import rate_trajectory
    from numerics.fieldfile import default_problem

    problem = default_problem(seed=settings.seed)
    results = [
        rate_trajectory(problem, spec, settings.hs, method=settings.method, switching=settings.switching,
                        realizations=settings.realizations, seed=settings.seed)
        for spec in settings.schemes
    ]
    summary = [_summary_row(r) for r in results]
    random_text = _random_switching(problem, settings, results)
    frames = [r.points_frame().assign(scheme=r.scheme.spec()) for r in results]
    writer.write("rates.csv", pd.concat(frames).to_csv())
    writer.write("rates.json", json.dumps([r.as_dict() for r in results], indent=2) + "\n")
    writer.produce("rates.png", lambda path: _figure(results, path))
    text = (
        "# Trajectory rate versus theory\n\n"
        f"Default field ({problem.description or problem.name}); p = {problem.field.p}, "
        f"N = {problem.x0.shape[0]} initial points, T = {problem.T}, {settings.method}, "
        f"{settings.switching} switching, h in {list(settings.hs)}, {settings.realizations} realizations, "
        f"seed {settings.seed}.\n\n"
        "The fit is of sup_t E|x - x_h|^2 (Theorem 3.1). `constant (h^1 fit)` is the fitted constant with "
        "the slope fixed at 1; C_lead_sup = sup_t trace P(t)/h from the Lyapunov ODE (THEORY.md §5); "
        "Lambda is the derived integrated variance (lambdified from rbmtheory) and Lambda_mc its independent "
        "Monte Carlo estimate; bound_holds checks S_bound h >= measured at every h.\n\n"
        + _markdown_table(summary)
        + "\n![rates](rates.png)\n\n"
        + random_text
    )
    return text, summary


#: the scheme of the random-switching comparison
RANDOM_SWITCHING_SCHEME = "disjoint(r=8)"


def _random_switching(problem, settings: SweepSettings, results) -> str:
    """Random (geometric) switching against uniform switching, measured and predicted.

    THEORY.md §5: the leading error weights Sigma(t) by the expected length of the
    interval holding t, which is size-biased for random switching (about 2h - dt).
    """
    from numerics.experiments import rate_trajectory

    uniform = next(r for r in results if r.scheme.spec() == RANDOM_SWITCHING_SCHEME)
    random = rate_trajectory(problem, RANDOM_SWITCHING_SCHEME, settings.hs, method=settings.method,
                             switching="random", realizations=settings.realizations, seed=settings.seed)
    rows = []
    for name, result in (("uniform", uniform), ("random", random)):
        row = _summary_row(result)
        rows.append({"switching": name, "verdict": row["verdict"], "slope": row["slope"],
                     "constant (h^1 fit)": row["constant (h^1 fit)"], "C_lead_sup": row["C_lead_sup"],
                     "measured/C_lead_sup": row["measured/C_lead_sup"]})
    measured = rows[1]["constant (h^1 fit)"] / rows[0]["constant (h^1 fit)"]
    predicted = rows[1]["C_lead_sup"] / rows[0]["C_lead_sup"]
    return (
        f"## Random switching ({RANDOM_SWITCHING_SCHEME})\n\n"
        "A fresh batch at each integrator step with probability dt/h (geometric intervals of mean h). "
        "The sharp constant weights Sigma(t) by the size-biased expected interval length, about 2h - dt.\n\n"
        + _markdown_table(rows)
        + f"\nRandom / uniform constant: measured {measured:.3f}, predicted {predicted:.3f} "
        f"(2 - dt/h at the smallest h: {2 - random.stats[0].dt / min(settings.hs):.3f}).\n"
    )


# ---------------------------------------------------------------------------- output


def _html(markdown: str) -> str:
    """A small Markdown-to-HTML rendering of the report's own output (headings, tables,
    lists, images, paragraphs) — enough for what this module writes."""
    import html

    out, table = [], []

    def flush_table() -> None:
        if table:
            head, *body = [[html.escape(c.strip()) for c in row.strip("|").split("|")] for row in table if "---|" not in row]
            out.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in head) + "</tr>"
                       + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in body) + "</table>")
            table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush_table()
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line[level:].strip())}</h{level}>")
        elif line.startswith("![") and "](" in line:
            src = line[line.index("](") + 2:line.rindex(")")]
            out.append(f'<img src="{html.escape(src)}" alt="figure">')
        elif line.startswith("- "):
            out.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            out.append(f"<p>{html.escape(line)}</p>")
    flush_table()
    style = "body{font-family:sans-serif;max-width:80em;margin:auto}table{border-collapse:collapse}td,th{border:1px solid #aaa;padding:2px 6px;font-size:90%}"
    return f"<!doctype html><html><head><meta charset='utf-8'><title>rbmtheory report</title><style>{style}</style></head><body>{''.join(out)}</body></html>\n"


def build_report(out: Path, settings: SweepSettings, numeric: bool = True) -> Path:
    """Run the whole pipeline into ``out``; returns the path of report.md."""
    started = time.perf_counter()
    writer = ReportWriter(Path(out))
    sections = [symbolic_section(writer)]
    summary: list[dict] = []
    if numeric:
        text, summary = numeric_section(writer, settings)
        sections.append(text)
    markdown = "\n".join(sections)
    path = writer.write("report.md", markdown)
    writer.write("report.html", _html(markdown))
    writer.manifest(settings=settings.__dict__, seed=settings.seed, seconds=time.perf_counter() - started,
                    verdicts={row["scheme"]: row["verdict"] for row in summary})
    return path
