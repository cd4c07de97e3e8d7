"""Bounds on the length of collision-free feedback.

Setting: ``k`` of ``n`` users are active, the receiver owns ``b >= k / m`` slots and may put at
most ``m`` users in a slot (``per_slot``). It broadcasts one message; every active user reads
its slot from the message and its own id. All functions return **bits** as floats (``total``);
divide by ``k`` for bits per active user (:func:`feedback_bounds` does both).

Which bound is which
--------------------
``naive_bits``
    Listing the active ids in slot order: ``k * ceil(log2 n)`` (an upper bound, achieved).
``set_listing_bits``
    Listing the active *set* (slot = rank in it): ``ceil(log2 C(n, k))`` (achieved, ``m = 1``).
``log2_success_probability``
    ``log2 p`` where ``p = P[a uniformly random map of k users into b slots puts <= m users in
    every slot]``; for ``m = 1``, ``p = b! / ((b - k)! b^k)``.
``variable_length_lower_bound``
    The counting / random-coding lower bound on the **expected** length of a prefix-free
    (self-delimiting) variable-length feedback code for a uniformly random active set:
    ``log2(1/p) - log2(n^k (n-k)! / n!)``. Proof: message ``w`` names a map ``h_w`` that must be
    collision-free on the active set ``S``, so ``P[W = w] <= P_S[h_w ok on S] <= p_max``, hence
    ``E[len] >= H(W) >= log2(1/p_max)``. Drawing ``S`` as ``k`` i.i.d. uniform ids conditioned on
    being distinct, ``P_S[h ok] <= P_iid[h ok] / P_iid[distinct]`` and ``P_iid[h ok] <= p`` because
    uniform slot probabilities are the best case (for ``m = 1`` Maclaurin's inequality for
    elementary symmetric polynomials; for ``m > 1`` the Schur-concavity of the multinomial
    probability that every cell count is ``<= m``, Marshall, Olkin & Arnold, *Inequalities:
    Theory of Majorization*). The correction term is about ``k^2 / (2 n ln 2)`` bits and is
    negligible for ``n = 10^9``; the bound is ``k log2 e - O(log k)`` for ``b = k``, ``m = 1``,
    and independent of ``n`` otherwise (Kang & Yu, "Minimum feedback for collision-free
    scheduling in massive random access", IEEE Trans. Inf. Theory 67(12), 2021, study this
    problem).
``seed_search_lower_bound``
    What any prefix-free code pays when its message names one seed of a sequence of independent
    uniformly random maps, each collision-free on a given set with probability ``p``: the
    entropy of the geometric distribution, ``h(p) / p = log2(1/p) + (1-p)/p log2(1/(1-p))``,
    which tends to ``log2(1/p) + log2 e``. For the first successful seed this is the entropy of
    its index. It holds for any other choice of a successful seed too (large ``n``): any ``L``
    seeds are together collision-free on a fraction ``1 - (1-p)^L`` of the active sets, so the
    ``L`` likeliest messages have total probability at most that, the message distribution is
    majorised by the geometric one, and entropy is Schur-concave. So ``log2(1/p) + log2 e`` is
    the floor of every one-seed code; at ``b = k = 8`` it is 1.166 times
    ``variable_length_lower_bound``. (That bound is not tight for small ``k``: for ``k = b = 2``
    any ``L`` maps split ``[n]`` into at most ``2^L`` cells, so at least a fraction ``2^-L`` of
    the pairs collide under all of them and every prefix-free code needs 2 bits, twice the
    bound.)
``fixed_length_lower_bound``
    A fixed-length code of ``L`` bits is a family of ``2^L`` maps that is collision-free for
    *every* k-subset of ``[n]``. Counting gives ``L >= log2(1/p_max)``; for ``m = 1`` the
    Fredman–Komlós bound (SIAM J. Algebraic Discrete Methods 5(1), 1984) gives
    ``2^L >= b^(k-1) (b-k+1)! / b! * log2 n / log2(b-k+2)``, which carries the
    ``log log n`` term; for ``m > 1`` the elementary bound ``b^(2^L) m >= n`` (the combined map
    ``x -> (h_1(x), ..., h_M(x))`` may merge at most ``m`` ids) gives ``log2 log_b(n/m)``.
    Returns the largest of these.
``fixed_length_upper_bound``
    Random coding (Mehlhorn, *Data Structures and Algorithms 1*, 1984, Thm. III.2.3.6 style):
    ``M`` independent uniformly random maps fail on a fixed set with probability ``(1-p)^M``;
    a union bound over the ``C(n, k)`` sets shows that ``L = floor(log2(ln C(n,k) /
    -ln(1-p))) + 1`` bits suffice, i.e. ``log2(1/p) + log2 ln C(n, k)`` — the ``log log n``
    term of a fixed-length code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.signal import fftconvolve
from scipy.special import gammaln

__all__ = [
    "FeedbackBounds",
    "check_problem",
    "feedback_bounds",
    "fixed_length_lower_bound",
    "fixed_length_upper_bound",
    "log2_success_probability",
    "naive_bits",
    "seed_search_lower_bound",
    "set_listing_bits",
    "variable_length_lower_bound",
]

_LN2 = math.log(2.0)


def check_problem(k: int, n: int, slots: int, per_slot: int = 1) -> tuple[int, int, int, int]:
    """Validate ``(k, n, slots, per_slot)`` and return them as Python ints.

    Raises
    ------
    ValueError
        If a value is not an integer, ``n < 1``, ``slots < 1``, ``per_slot < 1``, ``k < 0``,
        ``k > n`` or ``k > slots * per_slot`` (no collision-free schedule exists).
    """
    values = []
    for name, value in (("k", k), ("n", n), ("slots", slots), ("per_slot", per_slot)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an integer, got {value!r}")  # noqa: TRY004
        values.append(int(value))
    k, n, slots, per_slot = values
    if n < 1 or slots < 1 or per_slot < 1:
        raise ValueError(f"n, slots and per_slot must be >= 1, got n={n}, slots={slots}, per_slot={per_slot}")
    if k < 0 or k > n:
        raise ValueError(f"k must be in [0, n={n}], got {k}")
    if k > slots * per_slot:
        raise ValueError(
            f"k={k} active users cannot fit in {slots} slots of at most {per_slot} users each"
        )
    return k, n, slots, per_slot


def naive_bits(k: int, n: int) -> float:
    """Bits to list the ``k`` active ids in slot order, ``k * ceil(log2 n)`` (total)."""
    return float(k * max(1, math.ceil(math.log2(n)))) if k else 0.0


def set_listing_bits(k: int, n: int) -> float:
    """Bits to name the active set, ``ceil(log2 C(n, k))``; slots are ranks in the set (total)."""
    return float(math.ceil(_log2_binom(n, k) - 1e-12)) if k else 0.0


def _log2_binom(n: int, k: int) -> float:
    k = min(k, n - k)
    if k > 10**7:
        return float((gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)) / _LN2)
    # k log n + sum log(1 - j/n) - log k!: no cancellation for huge n
    return float((k * math.log(n) + _log_falling_ratio(n, k) - gammaln(k + 1)) / _LN2)


def _log_falling_ratio(n: int, k: int) -> float:
    """``ln(n! / ((n-k)! n^k)) = sum_{j<k} ln(1 - j/n)`` (natural log)."""
    if k <= 1:
        return 0.0
    return float(np.log1p(-np.arange(1, k, dtype=np.float64) / n).sum())


def _truncated_exp_moments(r: float, m: int) -> tuple[float, float]:
    """Mean and variance of the per-slot load under weights ``r^j / j!``, ``j <= m``."""
    j = np.arange(m + 1)
    logw = j * math.log(r) - gammaln(j + 1)
    w = np.exp(logw - logw.max())
    w /= w.sum()
    mean = float((j * w).sum())
    return mean, float(((j - mean) ** 2 * w).sum())


def log2_success_probability(k: int, slots: int, per_slot: int = 1) -> float:
    """``log2 P[a uniformly random map of k users into slots has <= per_slot in every slot]``.

    ``m = 1``: exact closed form ``log2(b! / ((b-k)! b^k))``. ``m > 1``: exact up to floating
    point, ``k! [x^k] (sum_{j<=m} x^j/j!)^b / b^k``, computed by tilting the per-slot load
    distribution to mean ``k/b`` (saddle point) and convolving it ``b`` times by repeated
    squaring (FFT), so it is accurate for ``k`` up to millions.

    Returns
    -------
    float
        ``<= 0``; ``-inf`` when ``k > b * m``.
    """
    k, b, m = int(k), int(slots), int(per_slot)
    if k < 0 or b < 1 or m < 1:
        raise ValueError(f"need k >= 0, slots >= 1, per_slot >= 1; got {k}, {b}, {m}")
    if k > b * m:
        return -math.inf
    if k <= 1 or m >= k:
        return 0.0
    if m == 1:
        return float((gammaln(b + 1) - gammaln(b - k + 1) - k * math.log(b)) / _LN2)
    log_count_base = float(gammaln(k + 1))
    if k == b * m:  # every slot exactly full: k! / (m!)^b maps
        return float((log_count_base - b * gammaln(m + 1) - k * math.log(b)) / _LN2)
    target = k / b

    def excess(log_r: float) -> float:
        return _truncated_exp_moments(math.exp(log_r), m)[0] - target

    lo, hi = -50.0, 50.0
    log_r = brentq(excess, lo, hi, xtol=1e-13) if excess(lo) < 0 < excess(hi) else 0.0
    j = np.arange(m + 1)
    logw = j * log_r - gammaln(j + 1)
    log_g = float(np.logaddexp.reduce(logw))
    q = np.exp(logw - log_g)  # per-slot load distribution, mean k/b
    # P[sum of b i.i.d. loads == k] by repeated squaring, truncated at degree k
    result = np.array([1.0])
    power = q
    e = b
    while e:
        if e & 1:
            result = np.clip(fftconvolve(result, power)[: k + 1], 0.0, None)
        e >>= 1
        if e:
            power = np.clip(fftconvolve(power, power)[: k + 1], 0.0, None)
    pk = float(result[k]) if result.size > k else 0.0
    if pk <= 0.0:  # numerically impossible near the mean; fall back to the local CLT
        _, var = _truncated_exp_moments(math.exp(log_r), m)
        pk = 1.0 / math.sqrt(2 * math.pi * b * var)
    log_coef = math.log(pk) + b * log_g - k * log_r
    return float((log_count_base + log_coef - k * math.log(b)) / _LN2)


def _log2_distinct_probability(k: int, n: int) -> float:
    """``log2 P[k i.i.d. uniform ids in [n] are distinct] = log2(n! / ((n-k)! n^k))``."""
    if k > 10**7:  # lgamma differences; fine once k is large relative to the cancellation
        return float((gammaln(n + 1) - gammaln(n - k + 1) - k * math.log(n)) / _LN2)
    return _log_falling_ratio(n, k) / _LN2


def variable_length_lower_bound(k: int, n: int, slots: int, per_slot: int = 1) -> float:
    """Lower bound on the expected length (bits, total) of a prefix-free feedback code.

    ``log2(1/p) + log2 P_iid[distinct]`` with ``p`` from :func:`log2_success_probability`;
    see the module docstring for the proof. Clipped at 0.
    """
    k, n, b, m = check_problem(k, n, slots, per_slot)
    value = -log2_success_probability(k, b, m) + _log2_distinct_probability(k, n)
    return max(0.0, value)


def seed_search_lower_bound(k: int, slots: int, per_slot: int = 1) -> float:
    """Expected bits of the best prefix code for the first success among i.i.d. seed trials.

    The entropy of the geometric distribution with success probability ``p``,
    ``log2(1/p) + (1-p)/p * log2(1/(1-p))`` (-> ``log2(1/p) + log2 e`` for small ``p``).
    """
    log2p = log2_success_probability(k, slots, per_slot)
    if log2p == 0.0:
        return 0.0
    p = 2.0**log2p
    if p < 1e-9:  # (1-p)/p * -ln(1-p) = 1 - p/2 + O(p^2)
        return float(-log2p + (1.0 - 0.5 * p) / _LN2)
    return float(-log2p - (1.0 - p) / p * math.log1p(-p) / _LN2)


def fixed_length_lower_bound(k: int, n: int, slots: int, per_slot: int = 1) -> float:
    """Lower bound (bits, total, real-valued) on a fixed-length code for every k-subset.

    The largest of the counting bound ``log2(1/p_max)`` (as in
    :func:`variable_length_lower_bound`), the Fredman–Komlós bound (``m = 1``, ``2 <= k <= b
    < n``) and the elementary separation bound ``log2 log_b(n/m)`` (``k > m``).
    """
    k, n, b, m = check_problem(k, n, slots, per_slot)
    if k <= m or k <= 1:
        return 0.0
    candidates = [variable_length_lower_bound(k, n, b, m)]
    if b > 1 and n > m:
        candidates.append(math.log2(math.log(n / m) / math.log(b)))
    if m == 1 and b < n:
        log2_family = (
            (k - 1) * math.log2(b)
            - (gammaln(b + 1) - gammaln(b - k + 2)) / _LN2
            + math.log2(math.log2(n) / math.log2(b - k + 2))
        )
        candidates.append(float(log2_family))
    return max(0.0, max(candidates))


def fixed_length_upper_bound(k: int, n: int, slots: int, per_slot: int = 1) -> float:
    """Random-coding upper bound (bits, total, an integer) for a fixed-length code.

    The least ``L`` with ``C(n, k) (1-p)^(2^L) < 1``: ``2^L`` independent random maps are then
    collision-free on every k-subset with positive probability, so such a family exists.
    """
    k, n, b, m = check_problem(k, n, slots, per_slot)
    log2p = log2_success_probability(k, b, m)
    if log2p == 0.0:
        return 0.0
    ln_sets = _log2_binom(n, k) * _LN2
    if ln_sets <= 0.0:  # a single set: one map suffices
        return 0.0
    p = 2.0**log2p
    if p < 1e-9:  # -ln(1-p) = p (1 + p/2 + ...)
        log2_neg_ln_fail = log2p + math.log2(1.0 + 0.5 * p)
    else:
        log2_neg_ln_fail = math.log2(-math.log1p(-p))
    return float(math.floor(math.log2(ln_sets) - log2_neg_ln_fail) + 1)


@dataclass(frozen=True)
class FeedbackBounds:
    """All bounds for one ``(k, n, b, m)``, in total bits (``per_user`` divides by ``k``)."""

    k: int
    n: int
    slots: int
    per_slot: int
    naive: float
    set_listing: float
    variable_length_lower: float
    seed_search_lower: float
    fixed_length_lower: float
    fixed_length_upper: float

    def per_user(self) -> dict[str, float]:
        """The bounds divided by ``k`` (bits per active user); empty for ``k = 0``."""
        if self.k == 0:
            return {}
        names = ("naive", "set_listing", "variable_length_lower", "seed_search_lower",
                 "fixed_length_lower", "fixed_length_upper")
        return {name: getattr(self, name) / self.k for name in names}


def feedback_bounds(k: int, n: int, slots: int, per_slot: int = 1) -> FeedbackBounds:
    """Compute every bound of this module for one problem size."""
    k, n, b, m = check_problem(k, n, slots, per_slot)
    return FeedbackBounds(
        k=k,
        n=n,
        slots=b,
        per_slot=m,
        naive=naive_bits(k, n),
        set_listing=set_listing_bits(k, n),
        variable_length_lower=variable_length_lower_bound(k, n, b, m),
        seed_search_lower=seed_search_lower_bound(k, b, m),
        fixed_length_lower=fixed_length_lower_bound(k, n, b, m),
        fixed_length_upper=fixed_length_upper_bound(k, n, b, m),
    )
