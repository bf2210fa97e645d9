"""The paper's Table 1, generated from the derivations for the canonical schemes.

Every cell is computed: pi_i, pi_min and E|B| by :mod:`rbmtheory.inclusion`, the
variance factors by :mod:`rbmtheory.variance`, Lambda = c_s Sigma_s + c_m Sigma_m with
Sigma_s = int_0^T s^2 dt and Sigma_m = int_0^T |m|^2 dt, the imbalance
iota = L_pi / L (equal L_i) by :mod:`rbmtheory.levers`, and the orders in p of Lambda
and S_bound by :mod:`rbmtheory.asymptotics` under the chosen scaling.

For balanced disjoint batches the variance depends on the partition: the table
gives the worst case over partitions, c_s <= p^2 (Cauchy–Schwarz, attained), and
notes that the average over uniformly random partitions equals balanced r.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import sympy as sp

from rbmtheory.asymptotics import Growth, order_in_p
from rbmtheory.constants import LAMBDA, s_bound
from rbmtheory.errors import RBMInputError
from rbmtheory.inclusion import inclusion
from rbmtheory.levers import imbalance
from rbmtheory.schemes import Scheme, canonical_schemes
from rbmtheory.variance import SIGMA_M, SIGMA_S, partition_variance_bound, variance_factors

FORMATS = ("md", "latex", "csv", "json")
TITLES = {
    "md": ["Scheme", "pi_i", "pi_min", "E|B|", "c_s", "c_m", "Lambda", "iota", "order of Lambda", "order of S_bound"],
    "latex": ["Scheme", r"$\pi_i$", r"$\pi_{\min}$", r"$\mathrm{E}|B|$", "$c_s$", "$c_m$", r"$\Lambda$",
              r"$\iota$", r"order of $\Lambda$", r"order of $S$"],
}
KEYS = ["scheme", "pi", "pi_min", "expected_batch_size", "c_s", "c_m", "Lambda", "imbalance", "order_Lambda", "order_S_bound"]
LABELS = {
    "single": "Single batch", "drop-one": "Drop-one", "pick-one": "Pick-one",
    "balanced": "Balanced r-subsets", "disjoint": "Balanced disjoint", "all-subsets": "All subsets",
    "bernoulli": "Bernoulli dropout",
}


@dataclass(frozen=True)
class Row:
    """One scheme's derived entries; ``bound`` marks c_s and Lambda as worst-case bounds."""

    scheme: Scheme
    pi: sp.Expr
    pi_min: sp.Expr
    expected_size: sp.Expr
    c_s: sp.Expr
    c_m: sp.Expr
    lam: sp.Expr
    iota: sp.Expr
    orders_lambda: dict[str, Growth]
    orders_s: dict[str, Growth]
    bound: bool


def derive_row(scheme: Scheme, scaling: str = "mean-field") -> Row:
    """Derive one row of Table 1 for a canonical scheme (symbolic p, r, q)."""
    inc = inclusion(scheme)
    bound = not scheme.exchangeable
    if bound:
        c_s, c_m = partition_variance_bound(scheme), sp.Integer(0)
    else:
        factors = variance_factors(scheme)
        c_s, c_m = factors.c_s, factors.c_m
    lam = c_s * SIGMA_S + c_m * SIGMA_M
    s_expr = s_bound(scheme).subs(LAMBDA, lam)
    regimes = {"": None}
    r = getattr(scheme, "r", None)
    if r is not None and isinstance(r, sp.Symbol):
        regimes = {"r fixed": None, "r = alpha p": r}
    orders_lambda = {name: order_in_p(lam, scaling, prop) for name, prop in regimes.items()}
    orders_s = {name: order_in_p(s_expr, scaling, prop) for name, prop in regimes.items()}
    return Row(scheme, inc.pi, inc.pi_min, inc.expected_size, c_s, c_m, lam, imbalance(scheme),
               orders_lambda, orders_s, bound)


def table1_rows(scaling: str = "mean-field") -> list[Row]:
    """All seven rows."""
    return [derive_row(s, scaling) for s in canonical_schemes()]


def _orders(orders: dict[str, Growth], latex: bool) -> str:
    text = [(g.latex() if latex else str(g)) for g in orders.values()]
    names = list(orders)
    if names == [""]:
        return f"${text[0]}$" if latex else text[0]
    if latex:
        names = [n.replace("alpha", r"$\alpha$") for n in names]
        return "; ".join(f"${t}$ ({n})" for n, t in zip(names, text))
    return "; ".join(f"{t} ({n})" for n, t in zip(names, text))


def _cells(row: Row, latex: bool) -> list[str]:
    fmt = (lambda e: f"${sp.latex(e)}$") if latex else sp.sstr
    prefix = (r"$\le$ " if latex else "<= ") if row.bound else ""
    return [
        LABELS[row.scheme.name], fmt(row.pi), fmt(row.pi_min), fmt(row.expected_size),
        prefix + fmt(row.c_s), fmt(row.c_m), prefix + fmt(row.lam), fmt(row.iota),
        _orders(row.orders_lambda, latex), _orders(row.orders_s, latex),
    ]


def render_table1(fmt: str = "md", scaling: str = "mean-field") -> str:
    """Table 1 as Markdown, LaTeX (a tabular), CSV or JSON.

    >>> print(render_table1("csv").splitlines()[2])
    drop-one,(p - 1)/p,(p - 1)/p,p - 1,p**2/(p - 1)**2,0,Sigma_s*p**2/(p - 1)**2,1,O(p**(-2)),O(p**(-2))
    """
    if fmt not in FORMATS:
        raise RBMInputError(f"unknown table format {fmt!r}; choose one of {', '.join(FORMATS)}")
    rows = table1_rows(scaling)
    return {"md": _markdown, "latex": _latex, "csv": _csv, "json": _json}[fmt](rows, scaling)


def _note(scaling: str) -> str:
    return (
        f"Scaling: {scaling}. Sigma_s = int_0^T s^2 dt, Sigma_m = int_0^T |m|^2 dt; iota = L_pi/L with equal L_i. "
        "Balanced disjoint: worst case over partitions (<=); the average over uniformly random partitions "
        "equals balanced r."
    )


def _markdown(rows: list[Row], scaling: str) -> str:
    lines = ["| " + " | ".join(TITLES["md"]) + " |", "|" + "---|" * len(TITLES["md"])]
    for row in rows:
        lines.append("| " + " | ".join(f"`{c}`" if j else c for j, c in enumerate(_cells(row, False))) + " |")
    return "\n".join(lines) + "\n\n" + _note(scaling) + "\n"


def _latex(rows: list[Row], scaling: str) -> str:
    lines = [r"\begin{tabular}{" + "l" * len(TITLES["latex"]) + "}", r"\hline", " & ".join(TITLES["latex"]) + r" \\", r"\hline"]
    lines += [" & ".join(_cells(row, True)) + r" \\" for row in rows]
    lines += [r"\hline", r"\end{tabular}", "% " + _note(scaling)]
    return "\n".join(lines) + "\n"


def _plain_rows(rows: list[Row]) -> list[list[str]]:
    return [[row.scheme.name] + _cells(row, False)[1:] for row in rows]


def _csv(rows: list[Row], scaling: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(KEYS)
    writer.writerows(_plain_rows(rows))
    return out.getvalue()


def _json(rows: list[Row], scaling: str) -> str:
    return json.dumps({"scaling": scaling, "rows": [dict(zip(KEYS, r)) for r in _plain_rows(rows)]}, indent=2) + "\n"
