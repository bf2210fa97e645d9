"""Variance of the Horvitz–Thompson random field (THEORY.md §3).

With f_i = f_i(t, y) at a fixed (t, y) and the design matrix
Delta_ik = pi_ik / (pi_i pi_k) - 1,

    Cov(F^omega) = sum_{i,k} Delta_ik f_i f_k^T,    V = E|F^omega - F|^2 = sum_{i,k} Delta_ik <f_i, f_k>.

For an exchangeable scheme (a = 1/pi - 1 on the diagonal, b = pi_2/pi^2 - 1 off it)
the quadratic form reduces to V = c_s s^2 + c_m |m|^2 with the neuron-wise mean m
and spread s^2 ("variance factors"); for a partition to the block form
V = sum_B |S_B|^2 / q_B - |F|^2 (= n sum_B |sum_{i in B} (f_i - m)|^2 for equal blocks).
Lambda = integral_0^T V(t, x(t)) dt (paper eq. 3.2).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from rbmtheory.errors import RBMInputError
from rbmtheory.inclusion import inclusion
from rbmtheory.laws import PartitionLaw
from rbmtheory.schemes.base import Scheme

#: integrated neuron spread and mean along the trajectory: int_0^T s^2 dt, int_0^T |m|^2 dt
SIGMA_S, SIGMA_M = sp.symbols("Sigma_s Sigma_m", nonnegative=True)
#: the neuron-wise spread s^2 and squared mean |m|^2 at one (t, y)
S2, M2 = sp.symbols("s2 m2", nonnegative=True)


def design_matrix(scheme: Scheme, generic: bool = False) -> sp.Matrix:
    """Delta_ik = pi_ik / (pi_i pi_k) - 1 for a concrete p (exact).

    >>> from rbmtheory.schemes import PickOne
    >>> design_matrix(PickOne(p=2))
    Matrix([
    [ 1, -1],
    [-1,  1]])
    """
    inc = inclusion(scheme, generic)
    if inc.matrix is None:
        raise RBMInputError(f"the design matrix of {scheme.spec()} needs a concrete p")
    pi, joint = inc.vector, inc.matrix
    return sp.Matrix(joint.rows, joint.cols, lambda i, k: _tidy(joint[i, k] / (pi[i] * pi[k]) - 1))


def _tidy(expr: sp.Expr) -> sp.Expr:
    """Exact numbers stay as they are (fast for large p); expressions are simplified."""
    return expr if expr.is_Rational else sp.simplify(expr)


@dataclass(frozen=True)
class VarianceFactors:
    """V = c_s s^2 + c_m |m|^2 for an exchangeable scheme, with a = Delta_ii, b = Delta_ik."""

    a: sp.Expr
    b: sp.Expr
    c_s: sp.Expr
    c_m: sp.Expr


def reduce_exchangeable(a: sp.Expr, b: sp.Expr, p: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """Collect V = a sum|f_i|^2 + b sum_{i != k} <f_i, f_k> in s^2 and |m|^2.

    Uses sum_i |f_i|^2 = p (s^2 + |m|^2) and |sum_i f_i|^2 = p^2 |m|^2 (definitions of
    m and s); returns (c_s, c_m) = ((a - b) p, (a - b) p + b p^2).
    """
    sum_sq = p * (S2 + M2)
    sq_sum = p**2 * M2
    v = sp.expand(a * sum_sq + b * (sq_sum - sum_sq))
    return readable(v.coeff(S2)), readable(v.coeff(M2))


def readable(expr: sp.Expr) -> sp.Expr:
    """Factored, with a leading minus sign absorbed into a factor: p (1 - q)/q, not -p (q - 1)/q.

    >>> q, p = sp.symbols('q p', positive=True)
    >>> readable(p / q - p)
    p*(1 - q)/q
    """
    e = sp.powsimp(sp.factor(sp.simplify(expr)), combine="exp")
    e = e.replace(sp.exp, lambda arg: sp.exp(sp.factor(arg)))
    if not e.could_extract_minus_sign():
        return e
    num, den = sp.fraction(e)
    factors = list(sp.Mul.make_args(-num))
    for j, f in enumerate(factors):
        if f.is_Add:
            factors[j] = -f
            return sp.Mul(*factors) / den
    return e


def variance_factors(scheme: Scheme, generic: bool = False) -> VarianceFactors:
    """c_s and c_m of an exchangeable scheme (THEORY.md §3).

    >>> from rbmtheory.schemes import Balanced
    >>> f = variance_factors(Balanced(r=3, p=7))
    >>> f.c_s, f.c_m
    (98/9, 0)
    """
    if not scheme.exchangeable:
        raise RBMInputError(f"{scheme.spec()} is not exchangeable: it has no variance factors c_s, c_m")
    inc = inclusion(scheme, generic)
    a = sp.simplify(1 / inc.pi - 1)
    b = sp.simplify(inc.pi2 / inc.pi**2 - 1)
    c_s, c_m = reduce_exchangeable(a, b, scheme.p)
    closed = {} if generic else scheme.closed_forms()
    return VarianceFactors(a, b, closed.get("c_s", c_s), closed.get("c_m", c_m))


def _as_matrix(contributions) -> sp.Matrix:
    return contributions if isinstance(contributions, sp.MatrixBase) else sp.Matrix(contributions)


def covariance(scheme: Scheme, contributions) -> sp.Matrix:
    """Cov(F^omega) = sum_{i,k} Delta_ik f_i f_k^T for the rows f_i of ``contributions``."""
    f = _as_matrix(contributions)
    return f.T * design_matrix(scheme) * f


def variance(scheme: Scheme, contributions) -> sp.Expr:
    """V = sum_{i,k} Delta_ik <f_i, f_k> (exact for exact contributions).

    >>> from rbmtheory.schemes import PickOne
    >>> variance(PickOne(p=2), [[1, 0], [0, 1]])
    2
    """
    return sp.simplify(covariance(scheme, contributions).trace())


def block_variance(scheme: Scheme, contributions) -> sp.Expr:
    """Block form of a partition scheme: V = sum_B |S_B|^2 / q_B - |F|^2, S_B = sum_{i in B} f_i."""
    law = scheme.law()
    if not isinstance(law, PartitionLaw) or law.blocks is None:
        raise RBMInputError(f"{scheme.spec()} is not a concrete partition scheme")
    f = _as_matrix(contributions)
    total = sum((f.row(i) for i in range(f.rows)), sp.zeros(1, f.cols))
    sums = [sum((f.row(i) for i in block), sp.zeros(1, f.cols)) for block in law.blocks]
    return sp.simplify(sum((s.dot(s) / q for s, q in zip(sums, law.probs)), sp.Integer(0)) - total.dot(total))


def neuron_moments(contributions) -> tuple[sp.Expr, sp.Expr]:
    """(s^2, |m|^2): m = (1/p) sum_i f_i, s^2 = (1/p) sum_i |f_i - m|^2."""
    f = _as_matrix(contributions)
    p = f.rows
    m = sum((f.row(i) for i in range(p)), sp.zeros(1, f.cols)) / p
    s2 = sum(((f.row(i) - m).dot(f.row(i) - m) for i in range(p)), sp.Integer(0)) / p
    return sp.simplify(s2), sp.simplify(m.dot(m))


def integrated_variance(scheme: Scheme) -> sp.Expr:
    """Lambda = int_0^T V dt; for exchangeable schemes c_s Sigma_s + c_m Sigma_m.

    Sigma_s = int_0^T s^2 dt and Sigma_m = int_0^T |m|^2 dt. For other schemes the
    result is sum_ik Delta_ik Gamma_ik with the integrated Gram matrix
    Gamma_ik = int_0^T <f_i, f_k> dt (a MatrixSymbol ``Gamma``; concrete p).

    >>> from rbmtheory.schemes import AllSubsets
    >>> integrated_variance(AllSubsets())
    Sigma_m*p + Sigma_s*p
    """
    if scheme.exchangeable:
        f = variance_factors(scheme)
        return f.c_s * SIGMA_S + f.c_m * SIGMA_M
    delta = design_matrix(scheme)
    gamma = sp.MatrixSymbol("Gamma", delta.rows, delta.cols)
    return sp.Add(*[delta[i, k] * gamma[i, k] for i in range(delta.rows) for k in range(delta.cols) if delta[i, k] != 0])


def pointwise_variance(scheme: Scheme) -> sp.Expr:
    """V as an expression in s2 = s^2 and m2 = |m|^2 (exchangeable schemes), for lambdify."""
    f = variance_factors(scheme)
    return f.c_s * S2 + f.c_m * M2


def partition_variance_bound(scheme: Scheme) -> sp.Expr:
    """Worst-case c_s of a partition into n blocks of size r: V <= c_s s^2 with c_s = p^2.

    Cauchy–Schwarz in each block, |sum_{i in B} (f_i - m)|^2 <= r sum_{i in B} |f_i - m|^2,
    turns V = n sum_B |sum_{i in B}(f_i - m)|^2 into V <= n r p s^2; the bound is
    attained when the centred contributions are aligned inside each block.

    >>> from rbmtheory.schemes import Disjoint
    >>> partition_variance_bound(Disjoint(r=sp.Symbol('r', positive=True)))
    p**2
    """
    law = scheme.law()
    if not isinstance(law, PartitionLaw):
        raise RBMInputError(f"{scheme.spec()} is not a partition scheme")
    block_size = law.block_size if law.blocks is None else sp.Max(*[len(b) for b in law.blocks])
    return sp.simplify(law.n_blocks * block_size * scheme.p)
