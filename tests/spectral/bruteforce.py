"""Brute-force oracles for set functions on few features, computed from the definitions.

Everything here works on the *full table* of a function of n binary features, n <= ~12:
``values[m]`` is f at the mask whose bit i (``m >> i & 1``) says whether feature i is kept.
A subset S of ``range(n)`` is identified with the integer ``sum(2**i for i in S)``.

Nothing here uses the closed-form Möbius weights of :mod:`interplay.spectral.indices`; each
oracle is the textbook definition (marginal contributions with coalition weights, discrete
derivatives, least squares solved as a linear system) so it can be used to test them.

Indices returned as dicts map a sorted tuple of features to the value. Other test modules
may import this one (``tests/conftest.py`` puts this folder on ``sys.path``)::

    import bruteforce as bf
    table = bf.table(f, n)
    shapley = bf.shapley_values(table)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "all_masks",
    "banzhaf_values",
    "bii",
    "discrete_derivative",
    "faithful_least_squares",
    "fbii",
    "fsii",
    "index",
    "inverse_mobius",
    "inverse_walsh_hadamard",
    "mobius",
    "n_of",
    "popcounts",
    "random_dense_table",
    "shapley_values",
    "shapley_values_by_permutations",
    "sii",
    "stii",
    "subset_code",
    "subset_tuple",
    "subsets_up_to",
    "table",
    "walsh_hadamard",
]


# ----------------------------------------------------------------------------- encoding
def all_masks(n: int) -> np.ndarray:
    """All 2^n masks.

    Returns
    -------
    (2**n, n) bool array
        Row m keeps feature i iff bit i of m is set.
    """
    return ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)


def popcounts(codes: np.ndarray) -> np.ndarray:
    """Number of set bits of each non-negative integer in ``codes`` (any shape)."""
    codes = np.asarray(codes, dtype=np.int64)
    out = np.zeros(codes.shape, dtype=np.int64)
    work = codes.copy()
    while np.any(work):
        out += work & 1
        work >>= 1
    return out


def subset_code(subset: tuple[int, ...] | list[int]) -> int:
    """Integer code of a subset: ``sum(2**i for i in subset)``."""
    return int(sum(1 << int(i) for i in set(subset)))


def subset_tuple(code: int, n: int) -> tuple[int, ...]:
    """Sorted tuple of the features whose bit is set in ``code``."""
    return tuple(i for i in range(n) if code >> i & 1)


def n_of(values: np.ndarray) -> int:
    """n for a table of length 2^n (raises on any other length)."""
    size = int(np.asarray(values).shape[0])
    n = size.bit_length() - 1
    if size < 2 or 2**n != size:
        raise ValueError(f"a full table has length 2**n with n >= 1, got {size}")
    return n


def table(function: Callable[[np.ndarray], Any] | Any, n: int) -> np.ndarray:
    """Full table of ``function`` (a value function, or anything with ``predict``).

    Returns
    -------
    (2**n,) float array
    """
    masks = all_masks(n)
    if hasattr(function, "predict"):
        return np.asarray(function.predict(masks), dtype=np.float64)
    return np.asarray(function(masks), dtype=np.float64).ravel()


def random_dense_table(n: int, rng: np.random.Generator, *, scale: float = 1.0) -> np.ndarray:
    """A random function: 2^n i.i.d. normal values (all Fourier coefficients non-zero a.s.)."""
    return rng.normal(0.0, scale, size=2**n)


# ----------------------------------------------------------------------------- transforms
def _character_matrix(n: int) -> np.ndarray:
    """(2^n, 2^n) matrix H[k, m] = (-1)^{|k ∩ m|}, from the definition."""
    codes = np.arange(2**n)
    return 1.0 - 2.0 * (popcounts(codes[:, None] & codes[None, :]) & 1)


def _subset_matrix(n: int) -> np.ndarray:
    """(2^n, 2^n) bool matrix Z[S, T] = [T ⊆ S]."""
    codes = np.arange(2**n)
    return (codes[:, None] & codes[None, :]) == codes[None, :]


def walsh_hadamard(values: np.ndarray) -> np.ndarray:
    """Fourier coefficients F(k) = 2^{-n} Σ_m f(m)·(−1)^⟨m,k⟩ (dense matrix product).

    Parameters
    ----------
    values : (2**n,) float array
        The table of f.

    Returns
    -------
    (2**n,) float array indexed by the code of k, with f(m) = Σ_k F(k)·(−1)^⟨m,k⟩.
    """
    values = np.asarray(values, dtype=np.float64)
    n = n_of(values)
    return _character_matrix(n) @ values / 2**n


def inverse_walsh_hadamard(coefficients: np.ndarray) -> np.ndarray:
    """Table f(m) = Σ_k F(k)·(−1)^⟨m,k⟩ from a (2**n,) coefficient vector."""
    coefficients = np.asarray(coefficients, dtype=np.float64)
    n = n_of(coefficients)
    return _character_matrix(n) @ coefficients


def mobius(values: np.ndarray) -> np.ndarray:
    """Möbius transform (Harsanyi dividends) a(S) = Σ_{T ⊆ S} (−1)^{|S|−|T|} f(T).

    Returns
    -------
    (2**n,) float array indexed by the code of S, with f(m) = Σ_{S ⊆ m} a(S).
    """
    values = np.asarray(values, dtype=np.float64)
    n = n_of(values)
    codes = np.arange(2**n)
    signs = 1.0 - 2.0 * ((popcounts(codes)[:, None] - popcounts(codes)[None, :]) & 1)
    return (_subset_matrix(n) * signs) @ values


def inverse_mobius(coefficients: np.ndarray) -> np.ndarray:
    """Table f(m) = Σ_{S ⊆ m} a(S) from a (2**n,) Möbius vector."""
    coefficients = np.asarray(coefficients, dtype=np.float64)
    n = n_of(coefficients)
    return _subset_matrix(n) @ coefficients


# ----------------------------------------------------------------------------- indices
def subsets_up_to(n: int, order: int) -> list[tuple[int, ...]]:
    """All subsets of ``range(n)`` of size <= ``order``, by size then lexicographically."""
    out: list[tuple[int, ...]] = []
    for size in range(min(order, n) + 1):
        out.extend(itertools.combinations(range(n), size))
    return out


def discrete_derivative(values: np.ndarray, subset: tuple[int, ...]) -> np.ndarray:
    """Δ_T f(S) = Σ_{L ⊆ T} (−1)^{|T|−|L|} f(S ∪ L) for every S (by code).

    Returns
    -------
    (2**n,) float array; only entries with S ∩ T = ∅ are meaningful.
    """
    values = np.asarray(values, dtype=np.float64)
    n = n_of(values)
    codes = np.arange(2**n)
    out = np.zeros(2**n)
    t = len(subset)
    for size in range(t + 1):
        for part in itertools.combinations(subset, size):
            out += (-1.0) ** (t - size) * values[codes | subset_code(part)]
    return out


def _disjoint(n: int, subset: tuple[int, ...]) -> np.ndarray:
    """(2**n,) bool: which codes S are disjoint from T."""
    return (np.arange(2**n) & subset_code(subset)) == 0


def shapley_values(values: np.ndarray) -> np.ndarray:
    """Shapley values φ_i = Σ_{S ⊆ N∖i} s!(n−s−1)!/n! · (f(S ∪ i) − f(S)).

    Returns
    -------
    (n,) float array
    """
    values = np.asarray(values, dtype=np.float64)
    n = n_of(values)
    sizes = popcounts(np.arange(2**n))
    weight = np.array(
        [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
        + [0.0]
    )[sizes]
    out = np.zeros(n)
    for i in range(n):
        free = _disjoint(n, (i,))
        out[i] = np.sum(weight[free] * discrete_derivative(values, (i,))[free])
    return out


def shapley_values_by_permutations(values: np.ndarray) -> np.ndarray:
    """Shapley values as the average marginal contribution over all n! orderings (n <= 8)."""
    values = np.asarray(values, dtype=np.float64)
    n = n_of(values)
    if n > 8:
        raise ValueError("enumerating n! permutations is only sensible for n <= 8")
    perms = np.array(list(itertools.permutations(range(n))))  # (n!, n)
    out = np.zeros(n)
    before = np.zeros(perms.shape[0], dtype=np.int64)
    for pos in range(n):
        player = perms[:, pos]
        after = before | (1 << player)
        np.add.at(out, player, values[after] - values[before])
        before = after
    return out / perms.shape[0]


def banzhaf_values(values: np.ndarray) -> np.ndarray:
    """Banzhaf values β_i = 2^{−(n−1)} Σ_{S ⊆ N∖i} (f(S ∪ i) − f(S)).

    Returns
    -------
    (n,) float array
    """
    values = np.asarray(values, dtype=np.float64)
    n = n_of(values)
    out = np.zeros(n)
    for i in range(n):
        free = _disjoint(n, (i,))
        out[i] = np.sum(discrete_derivative(values, (i,))[free]) / 2 ** (n - 1)
    return out


def sii(values: np.ndarray, order: int) -> dict[tuple[int, ...], float]:
    """Shapley interaction index (Grabisch & Roubens 1999) of every |T| <= order.

    I(T) = Σ_{S ⊆ N∖T} (n−s−t)!·s!/(n−t+1)! · Δ_T f(S).
    """
    values = np.asarray(values, dtype=np.float64)
    n = n_of(values)
    sizes = popcounts(np.arange(2**n))
    out = {}
    for subset in subsets_up_to(n, order):
        t = len(subset)
        free = _disjoint(n, subset)
        s = sizes[free]
        weight = np.array(
            [math.factorial(n - k - t) * math.factorial(k) / math.factorial(n - t + 1) for k in s]
        )
        out[subset] = float(np.sum(weight * discrete_derivative(values, subset)[free]))
    return out


def bii(values: np.ndarray, order: int) -> dict[tuple[int, ...], float]:
    """Banzhaf interaction index of every |T| <= order: 2^{t−n} Σ_{S ⊆ N∖T} Δ_T f(S)."""
    values = np.asarray(values, dtype=np.float64)
    n = n_of(values)
    out = {}
    for subset in subsets_up_to(n, order):
        free = _disjoint(n, subset)
        total = np.sum(discrete_derivative(values, subset)[free])
        out[subset] = float(total / 2 ** (n - len(subset)))
    return out


def stii(values: np.ndarray, order: int) -> dict[tuple[int, ...], float]:
    """Shapley–Taylor interaction index of order k (Sundararajan et al. 2020, Def. 2).

    I(T) = Δ_T f(∅) for |T| < k and, for |T| = k,
    I(T) = (k/n) Σ_{S ⊆ N∖T} Δ_T f(S) / C(n−1, |S|).
    """
    values = np.asarray(values, dtype=np.float64)
    n = n_of(values)
    k = min(order, n)
    sizes = popcounts(np.arange(2**n))
    out = {}
    for subset in subsets_up_to(n, k):
        delta = discrete_derivative(values, subset)
        if len(subset) < k:
            out[subset] = float(delta[0])
            continue
        free = _disjoint(n, subset)
        weight = np.array([1.0 / math.comb(n - 1, int(s)) for s in sizes[free]])
        out[subset] = float(k / n * np.sum(weight * delta[free]))
    return out


def _design(n: int, order: int) -> tuple[list[tuple[int, ...]], np.ndarray]:
    """Columns T (|T| <= order) and the (2^n, p) 0/1 design X[S, T] = [T ⊆ S]."""
    columns = subsets_up_to(n, order)
    col_codes = np.array([subset_code(c) for c in columns])
    codes = np.arange(2**n)
    design = ((codes[:, None] & col_codes[None, :]) == col_codes[None, :]).astype(np.float64)
    return columns, design


def faithful_least_squares(
    values: np.ndarray,
    order: int,
    weights: np.ndarray,
    *,
    exact: np.ndarray | None = None,
) -> dict[tuple[int, ...], float]:
    """min_E Σ_S w(S)·(f(S) − Σ_{T ⊆ S, |T| <= k} E(T))², optionally with equality rows.

    Parameters
    ----------
    values : (2**n,) float array
    order : int
        Largest |T| of the fitted terms.
    weights : (2**n,) float array
        Non-negative weight w(S) of each coalition (0 for constrained ones).
    exact : (2**n,) bool array, optional
        Coalitions whose equation must hold exactly; solved through the KKT system
        [[2XᵀWX, Cᵀ], [C, 0]]·[E; λ] = [2XᵀWf; f_C].

    Returns
    -------
    dict
        E(T) for every |T| <= order.
    """
    values = np.asarray(values, dtype=np.float64)
    n = n_of(values)
    columns, design = _design(n, order)
    weights = np.asarray(weights, dtype=np.float64)
    gram = 2.0 * design.T @ (weights[:, None] * design)
    rhs = 2.0 * design.T @ (weights * values)
    if exact is None or not np.any(exact):
        solution = np.linalg.solve(gram, rhs)
    else:
        constraint = design[exact]
        m = constraint.shape[0]
        kkt = np.block([[gram, constraint.T], [constraint, np.zeros((m, m))]])
        solution = np.linalg.solve(kkt, np.concatenate([rhs, values[exact]]))[: len(columns)]
    return {c: float(v) for c, v in zip(columns, solution, strict=True)}


def fbii(values: np.ndarray, order: int) -> dict[tuple[int, ...], float]:
    """Faith-Banzhaf interaction index: uniform-weight least squares over all 2^n coalitions."""
    values = np.asarray(values, dtype=np.float64)
    return faithful_least_squares(values, order, np.ones(values.shape[0]))


def fsii(values: np.ndarray, order: int) -> dict[tuple[int, ...], float]:
    """Faith-Shapley interaction index (Tsai, Yeh & Ravikumar 2023, Def. 3 / Eq. 11).

    Least squares with the Shapley kernel μ(S) = (n−1) / (C(n, s)·s·(n−s)) on 0 < s < n,
    and the equations of S = ∅ and S = N imposed exactly (μ = ∞ there), solved via KKT.
    """
    values = np.asarray(values, dtype=np.float64)
    n = n_of(values)
    sizes = popcounts(np.arange(2**n))
    weights = np.zeros(2**n)
    inner = (sizes > 0) & (sizes < n)
    s = sizes[inner]
    weights[inner] = (n - 1) / (np.array([math.comb(n, int(x)) for x in s]) * s * (n - s))
    exact = ~inner
    return faithful_least_squares(values, order, weights, exact=exact)


def index(values: np.ndarray, name: str, order: int) -> dict[tuple[int, ...], float]:
    """Any index by name, as the dict ``Interactions.index(name, order)`` should match.

    ``shapley``/``banzhaf`` give {(): f(∅), (i,): value_i}, the additive model of the library.
    """
    values = np.asarray(values, dtype=np.float64)
    n = n_of(values)
    if name in ("shapley", "banzhaf"):
        first = shapley_values(values) if name == "shapley" else banzhaf_values(values)
        out = {(): float(values[0])}
        out.update({(i,): float(first[i]) for i in range(n)})
        return out
    oracles = {"SII": sii, "BII": bii, "STII": stii, "FBII": fbii, "FSII": fsii}
    if name not in oracles:
        raise ValueError(f"no brute-force oracle for {name!r}")
    return oracles[name](values, order)
