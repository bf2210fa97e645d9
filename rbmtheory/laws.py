"""Laws of a random batch B of neurons: the few building blocks every scheme is made of.

A sampling scheme (THEORY.md §2) is a probability law on subsets of [p] = {0, ..., p-1}
(0-based here). Every scheme of the toolkit states its law with one of these
primitives, the way a sympy.stats distribution states its density:

* :class:`FiniteLaw` — explicit batches B_1..B_n with probabilities q_1..q_n;
* :class:`ExchangeableLaw` — a *size mixture*: K = |B| from a size law, then a uniform
  K-subset (single batch, drop-one, pick-one, balanced r, all subsets, Bernoulli);
* :class:`PartitionLaw` — one block of a fixed partition, block b with probability q_b;
* :class:`IndependentLaw` — neuron i kept independently with probability q_i (Poisson);
* :class:`ProductLaw` — independent laws on disjoint strata (stratified sampling).

Each primitive derives pi_i = P(i in B) and pi_ik = P(i, k in B) from its own
structure, enumerates its support in exact rationals (the oracle the tests use), and
finds max_B sum_{i in B} w_i (for the imbalance L_pi of THEORY.md §4). The numeric
layer samples from the same objects, so theory and simulation share one law.
"""
from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from rbmtheory.errors import RBMInputError

Batch = frozenset[int]

#: enumeration of more batches than this is refused (exact rationals are slow)
MAX_ENUMERATION = 200_000

z = sp.Symbol("z")


def as_int(p: sp.Expr, what: str = "p") -> int:
    """Python int of a concrete sympy integer; a clear error for a symbolic one."""
    if not (isinstance(p, sp.Integer) or isinstance(p, int)):
        raise RBMInputError(f"{what} must be a concrete integer here, got {p}; give --p")
    return int(p)


class BatchLaw(ABC):
    """The law of a random batch B in {0..p-1}.

    Subclasses implement :meth:`inclusion`, :meth:`joint`, :meth:`enumerate` and
    :meth:`max_batch_sum`; everything else is generic.
    """

    p: sp.Expr
    exchangeable: bool = False

    @property
    def concrete(self) -> bool:
        return isinstance(self.p, sp.Integer)

    @abstractmethod
    def inclusion(self, i: int) -> sp.Expr:
        """pi_i = P(i in B)."""

    @abstractmethod
    def joint(self, i: int, k: int) -> sp.Expr:
        """pi_ik = P(i in B and k in B) for i != k."""

    @abstractmethod
    def enumerate(self) -> Iterator[tuple[Batch, sp.Expr]]:
        """Every batch of positive probability with its probability (exact)."""

    @abstractmethod
    def max_batch_sum(self, weights: Sequence[sp.Expr]) -> sp.Expr:
        """max over batches of positive probability of sum_{i in B} weights[i]."""

    def inclusion_vector(self) -> sp.Matrix:
        """(pi_1, ..., pi_p) as a column."""
        return sp.Matrix([self.inclusion(i) for i in range(as_int(self.p))])

    def joint_matrix(self) -> sp.Matrix:
        """The p x p matrix of pi_ik with pi_ii = pi_i."""
        n = as_int(self.p)
        pi = self.inclusion_vector()
        return sp.Matrix(n, n, lambda i, k: pi[i] if i == k else self.joint(i, k))


def _check_enumerable(count: int) -> None:
    if count > MAX_ENUMERATION:
        raise RBMInputError(
            f"the law has {count} batches, more than the {MAX_ENUMERATION} that are enumerated exactly"
        )


# --------------------------------------------------------------------------- finite


@dataclass(frozen=True)
class FiniteLaw(BatchLaw):
    """Explicit batches with probabilities: pi_i = sum_j q_j [i in B_j] (THEORY.md §2)."""

    p: sp.Integer
    batches: tuple[Batch, ...]
    probs: tuple[sp.Expr, ...]

    def inclusion(self, i: int) -> sp.Expr:
        return sp.Add(*[q for b, q in zip(self.batches, self.probs) if i in b])

    def joint(self, i: int, k: int) -> sp.Expr:
        return sp.Add(*[q for b, q in zip(self.batches, self.probs) if i in b and k in b])

    def enumerate(self) -> Iterator[tuple[Batch, sp.Expr]]:
        merged: dict[Batch, sp.Expr] = {}
        for b, q in zip(self.batches, self.probs):
            merged[b] = merged.get(b, sp.Integer(0)) + q
        return iter([(b, q) for b, q in merged.items() if q != 0])

    def max_batch_sum(self, weights: Sequence[sp.Expr]) -> sp.Expr:
        return sp.Max(*[sp.Add(*[weights[i] for i in b]) for b, q in zip(self.batches, self.probs) if q != 0])


# ------------------------------------------------------------------------ size laws


@dataclass(frozen=True)
class SizeLaw:
    """Law of the batch size K on {0..p}.

    Given either as ``atoms`` {size: probability} (sizes may be expressions in p, like
    p - 1) or by a ``subset_weight`` w(k): the probability of one particular set of size
    k, so that P(K = k) = C(p, k) w(k). Everything is read off the probability
    generating function G(z) = E[z^K]: E[K] = G'(1), E[K(K-1)] = G''(1).
    """

    p: sp.Expr
    atoms: tuple[tuple[sp.Expr, sp.Expr], ...] | None = None
    subset_weight: sp.Lambda | None = None

    @cached_property
    def pgf(self) -> sp.Expr:
        """G(z) = E[z^K]; for a subset weight, summed with the binomial theorem."""
        if self.atoms is not None:
            return sp.Add(*[q * z**k for k, q in self.atoms])
        return binomial_sum(self.subset_weight, self.p)

    @cached_property
    def mean(self) -> sp.Expr:
        """E[K] = G'(1)."""
        return sp.simplify(sp.diff(self.pgf, z).subs(z, 1))

    @cached_property
    def factorial_moment2(self) -> sp.Expr:
        """E[K(K-1)] = G''(1)."""
        return sp.simplify(sp.diff(self.pgf, z, 2).subs(z, 1))

    @cached_property
    def max_size(self) -> sp.Expr:
        """The largest size of positive probability."""
        if self.atoms is not None:
            sizes = [k for k, q in self.atoms if q != 0]
            return sizes[0] if len(sizes) == 1 else sp.Max(*sizes)
        return self.p if self.pmf_at(self.p) != 0 else _largest_concrete_size(self)

    def pmf_at(self, k: int | sp.Expr) -> sp.Expr:
        """P(K = k)."""
        if self.atoms is not None:
            return sp.Add(*[q for size, q in self.atoms if sp.simplify(size - k) == 0])
        return sp.binomial(self.p, k) * self.subset_weight(k)

    def pmf(self) -> list[sp.Expr]:
        """[P(K = 0), ..., P(K = p)] for a concrete p."""
        return [sp.simplify(self.pmf_at(k)) for k in range(as_int(self.p) + 1)]


def _largest_concrete_size(law: SizeLaw) -> sp.Expr:
    pmf = law.pmf()
    return sp.Integer(max(k for k, q in enumerate(pmf) if q != 0))


def binomial_sum(weight: sp.Lambda, p: sp.Expr) -> sp.Expr:
    """G(z) = sum_{k=0}^p C(p, k) w(k) z^k.

    When w is geometric in k (w(k+1)/w(k) = rho free of k) the binomial theorem gives
    G(z) = w(0) (1 + rho z)^p — the step of the paper's proof of Proposition 4.1
    ("group by cardinality and apply the binomial theorem"). Otherwise, for a
    concrete p, the finite sum is expanded.

    >>> k, q = sp.symbols('k q', positive=True)
    >>> p = sp.Symbol('p', integer=True, positive=True)
    >>> sp.simplify(binomial_sum(sp.Lambda(k, q**k * (1 - q)**(p - k)), p) - (1 - q + q*z)**p)
    0
    """
    k = weight.variables[0]
    up = _ratio(weight(k + 1), weight(k), k)
    if up is not None:
        return sp.simplify(weight(0)) * (1 + up * z) ** p
    down = _ratio(weight(k), weight(k + 1), k)  # w(p - j) geometric in j: the same sum read backwards
    if down is not None:
        return sp.simplify(weight(p)) * (z + down) ** p
    return sp.Add(*[sp.binomial(p, j) * weight(j) * z**j for j in range(as_int(p) + 1)])


def _ratio(num: sp.Expr, den: sp.Expr, k: sp.Symbol) -> sp.Expr | None:
    """num/den when it is a finite constant in k, else None."""
    rho = sp.simplify(sp.powsimp(num / den, force=True))
    if rho.has(k) or rho.has(sp.nan) or rho.is_finite is False:
        return None
    return rho


@dataclass(frozen=True)
class ExchangeableLaw(BatchLaw):
    """Size mixture: K from ``size_law``, then a uniform K-subset of [p] (THEORY.md §2).

    By exchangeability P(i in B | K) = K/p and P(i, k in B | K) = K(K-1)/(p(p-1)), so

        pi = E[K] / p,     pi_2 = E[K(K-1)] / (p(p-1))   (i != k).

    >>> p = sp.Symbol('p', integer=True, positive=True)
    >>> law = ExchangeableLaw(p, SizeLaw(p, atoms=((sp.Integer(1), sp.Integer(1)),)))
    >>> law.pi, law.pi2
    (1/p, 0)
    """

    p: sp.Expr
    size_law: SizeLaw
    exchangeable = True

    @cached_property
    def pi(self) -> sp.Expr:
        return sp.simplify(self.size_law.mean / self.p)

    @cached_property
    def pi2(self) -> sp.Expr:
        if self.p == 1:  # no pairs i != k: the value is vacuous, 0 keeps Delta finite
            return sp.Integer(0)
        return sp.simplify(self.size_law.factorial_moment2 / (self.p * (self.p - 1)))

    def inclusion(self, i: int) -> sp.Expr:
        return self.pi

    def joint(self, i: int, k: int) -> sp.Expr:
        return self.pi2

    def enumerate(self) -> Iterator[tuple[Batch, sp.Expr]]:
        n = as_int(self.p)
        pmf = self.size_law.pmf()
        _check_enumerable(sum(int(sp.binomial(n, k)) for k, q in enumerate(pmf) if q != 0))
        for k, q in enumerate(pmf):
            if q != 0:
                each = q / sp.binomial(n, k)
                for b in itertools.combinations(range(n), k):
                    yield frozenset(b), each

    def max_batch_sum(self, weights: Sequence[sp.Expr]) -> sp.Expr:
        kmax = as_int(self.size_law.max_size, "the largest batch size")
        ordered = sorted(weights, key=lambda w: -float(w))
        return sp.Add(*ordered[:kmax])


# ----------------------------------------------------------------------- partitions


@dataclass(frozen=True)
class PartitionLaw(BatchLaw):
    """One block of a partition of [p], block b with probability q_b.

    Blocks are disjoint, so P(i in B) = q_{b(i)} and P(i, k in B) = q_b when i and k
    share block b, else 0 (THEORY.md §2, scheme 5). With a symbolic p the partition
    is n = p/r equal blocks drawn uniformly (``block_size`` = r).
    """

    p: sp.Expr
    blocks: tuple[tuple[int, ...], ...] | None = None
    probs: tuple[sp.Expr, ...] | None = None
    block_size: sp.Expr | None = None

    @property
    def n_blocks(self) -> sp.Expr:
        return sp.Integer(len(self.blocks)) if self.blocks is not None else self.p / self.block_size

    @cached_property
    def _block_of(self) -> dict[int, int]:
        return {i: b for b, block in enumerate(self.blocks) for i in block}

    @property
    def pi(self) -> sp.Expr:
        """pi of every neuron for equal, uniformly drawn blocks: 1/n."""
        return 1 / self.n_blocks

    def inclusion(self, i: int) -> sp.Expr:
        return self.probs[self._block_of[i]]

    def joint(self, i: int, k: int) -> sp.Expr:
        b = self._block_of[i]
        return self.probs[b] if self._block_of[k] == b else sp.Integer(0)

    def enumerate(self) -> Iterator[tuple[Batch, sp.Expr]]:
        return iter([(frozenset(b), q) for b, q in zip(self.blocks, self.probs) if q != 0])

    def max_batch_sum(self, weights: Sequence[sp.Expr]) -> sp.Expr:
        return sp.Max(*[sp.Add(*[weights[i] for i in b]) for b, q in zip(self.blocks, self.probs) if q != 0])


# ---------------------------------------------------------------------- independent


@dataclass(frozen=True)
class IndependentLaw(BatchLaw):
    """Neuron i kept independently with probability q_i (Poisson sampling).

    P(B) = prod_{i in B} q_i prod_{i not in B} (1 - q_i); marginalising gives
    pi_i = q_i and, by independence, pi_ik = q_i q_k. A common keep probability
    (``q`` a single expression) is Bernoulli dropout; its law depends on B only
    through |B| — see :meth:`exchangeable_form` (Proposition 4.1).
    """

    p: sp.Expr
    q: tuple[sp.Expr, ...] | sp.Expr

    @property
    def common(self) -> bool:
        return not isinstance(self.q, tuple)

    @property
    def exchangeable(self) -> bool:  # type: ignore[override]
        return self.common

    def keep(self, i: int) -> sp.Expr:
        return self.q if self.common else self.q[i]

    def inclusion(self, i: int) -> sp.Expr:
        return self.keep(i)

    def joint(self, i: int, k: int) -> sp.Expr:
        return self.keep(i) * self.keep(k)

    def batch_probability(self, batch: Batch) -> sp.Expr:
        """P(B) = prod_{i in B} q_i prod_{i not in B} (1 - q_i)."""
        return sp.Mul(*[self.keep(i) if i in batch else 1 - self.keep(i) for i in range(as_int(self.p))])

    def enumerate(self) -> Iterator[tuple[Batch, sp.Expr]]:
        n = as_int(self.p)
        _check_enumerable(2**n)
        for bits in itertools.product((False, True), repeat=n):
            batch = frozenset(i for i, on in enumerate(bits) if on)
            prob = self.batch_probability(batch)
            if prob != 0:
                yield batch, prob

    def max_batch_sum(self, weights: Sequence[sp.Expr]) -> sp.Expr:
        return sp.Add(*[w for w in weights if float(w) > 0])

    def exchangeable_form(self) -> ExchangeableLaw:
        """Proposition 4.1: with a common q the product law is a size mixture.

        The probability of one set of size k is the product of k factors q and p - k
        factors (1 - q): w(k) = q^k (1 - q)^(p - k), a function of |B| alone; the size
        law is C(p, k) w(k) = Bin(p, q).
        """
        if not self.common:
            raise RBMInputError("only a common keep probability gives an exchangeable law")
        k, j = sp.Symbol("k", integer=True, nonnegative=True), sp.Symbol("j", integer=True)
        keep = sp.Dummy("q", positive=True)  # derive for a generic q, then put its value in
        w = sp.product(keep, (j, 1, k)) * sp.product(1 - keep, (j, k + 1, self.p))
        return ExchangeableLaw(self.p, SizeLaw(self.p, subset_weight=sp.Lambda(k, sp.simplify(w).subs(keep, self.q))))


# -------------------------------------------------------------------------- product


@dataclass(frozen=True)
class ProductLaw(BatchLaw):
    """Independent laws on disjoint strata: B = union over s of B_s, B_s in stratum s.

    Component s is a law on {0..n_s - 1}, mapped to the neurons ``strata[s]``. Then
    pi_i is the component's inclusion probability, and pi_ik is the component's joint
    probability within a stratum and pi_i pi_k across strata (independence).
    """

    p: sp.Integer
    strata: tuple[tuple[int, ...], ...]
    components: tuple[BatchLaw, ...]

    @cached_property
    def _where(self) -> dict[int, tuple[int, int]]:
        return {i: (s, j) for s, stratum in enumerate(self.strata) for j, i in enumerate(stratum)}

    def inclusion(self, i: int) -> sp.Expr:
        s, j = self._where[i]
        return self.components[s].inclusion(j)

    def joint(self, i: int, k: int) -> sp.Expr:
        (s, a), (t, b) = self._where[i], self._where[k]
        if s == t:
            return self.components[s].joint(a, b)
        return self.inclusion(i) * self.inclusion(k)

    def enumerate(self) -> Iterator[tuple[Batch, sp.Expr]]:
        parts = [list(c.enumerate()) for c in self.components]
        count = 1
        for part in parts:
            count *= len(part)
        _check_enumerable(count)
        for combo in itertools.product(*parts):
            batch = frozenset(self.strata[s][j] for s, (b, _) in enumerate(combo) for j in b)
            yield batch, sp.Mul(*[q for _, q in combo])

    def max_batch_sum(self, weights: Sequence[sp.Expr]) -> sp.Expr:
        return sp.Add(
            *[c.max_batch_sum([weights[i] for i in stratum]) for c, stratum in zip(self.components, self.strata)]
        )
