"""Matched-filter search: the frequency of a weak term, found by trying every candidate.

When a term is too weak for its signs to be decoded (more sign errors than the delay code
corrects, even in sums of bins of several groups; q = 2), it is still found by correlation: a
term with frequency k lands in one known bin of every group, and the weighted sum over the
groups ``W_p = sum_c B_c U_{c,p}(j_c(k))`` correlates with its signature
``s_p(k) = (-1)^<d_p, k>`` with the full signal of all its bins, whatever the signs of the
individual delays. Another term sharing some of those bins only adds its cross-correlation
(about ``sqrt(P)`` of ``P``), not sign errors.

So for one bin per group (a *tuple*), every frequency of weight at most 4 that hashes to it is
scored by ``|<W, s(k)>|``. These frequencies are enumerated meet-in-the-middle: ``k = u xor v``
with ``u, v`` of weight at most 2, the hash being linear (``j(u xor v) = j(u) xor j(v)``), so
the partners ``v`` of each ``u`` are one bucket of the ``u`` sorted by hash. The signs of ``W``
pre-filter the pairs (a popcount of the XOR of bit-packed parities), the exact correlation
scores the survivors.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from interplay.sparse_fourier.layout import BinLayout

__all__ = ["LowWeightIndex", "matched_search", "popcount"]

#: Pairs (u, v) scored per chunk (bounds the memory of one search).
_CHUNK_PAIRS = 2**21
#: Set bits of every byte (popcount for numpy < 2, which lacks ``np.bitwise_count``).
_BYTE_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).sum(axis=1)


def popcount(words: np.ndarray) -> np.ndarray:
    """(N,) set bits of (N,) uint64 words."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words).astype(np.int64)
    return _BYTE_BITS[words.view(np.uint8).reshape(-1, 8)].sum(axis=1, dtype=np.int64)


class LowWeightIndex:
    """Every frequency of weight 0, 1 or 2 over ``Z_2^n`` with its packed bins and delay bits.

    Parameters
    ----------
    layout : BinLayout
        A real layout (q = 2) with at most 64 delays and at most 62 hash bits in all.

    Attributes
    ----------
    features : (N, 2) int64 array
        The features of each frequency, padded with -1 (N = 1 + n + n (n - 1) / 2).
    hash : (N,) int64 array, sorted
        The bins of all groups packed into one integer (group 0 most significant).
    bits : (N,) uint64 array
        Bit p set when ``<d_p, k>`` is odd.
    """

    def __init__(self, layout: BinLayout) -> None:
        n = layout.delays_t.shape[0]
        widths = [g.shape[1] for g in layout.groups]
        if layout.q != 2 or layout.n_delays > 64 or sum(widths) > 62:
            raise ValueError("LowWeightIndex needs q = 2, at most 64 delays and 62 hash bits")
        self.layout = layout
        unit_hash = np.zeros(n, dtype=np.int64)
        for g, width in zip(layout.groups, widths, strict=True):
            unit_hash = (unit_hash << width) | (g % 2) @ (1 << np.arange(width - 1, -1, -1))
        parity = np.rint(layout.delays_t).astype(np.int64) % 2  # (n, P)
        unit_bits = (parity.astype(np.uint64) << np.arange(layout.n_delays, dtype=np.uint64)).sum(
            axis=1, dtype=np.uint64
        )
        i, j = np.triu_indices(n, k=1)
        features = np.concatenate([
            np.full((1, 2), -1), np.stack([np.arange(n), np.full(n, -1)], axis=1),
            np.stack([i, j], axis=1),
        ])
        hashes = np.concatenate([[0], unit_hash, unit_hash[i] ^ unit_hash[j]])
        bits = np.concatenate([np.zeros(1, dtype=np.uint64), unit_bits, unit_bits[i] ^ unit_bits[j]])
        order = np.argsort(hashes, kind="stable")
        self.features = features[order]
        self.hash = hashes[order]
        self.bits = bits[order]
        self.widths = widths

    @staticmethod
    def cost(layout: BinLayout) -> tuple[int, float]:
        """Entries N of the index for ``layout`` and the pairs (u, v) :meth:`best` enumerates
        for one tuple on average, ``N^2 / 2^(bits + 1)``, without building it."""
        n = layout.delays_t.shape[0]
        size = 1 + n + n * (n - 1) // 2
        return size, size**2 / 2.0 ** (sum(g.shape[1] for g in layout.groups) + 1)

    def tuple_hash(self, rows: np.ndarray) -> int:
        """The packed hash of one bin per group (stacked rows, group order)."""
        value = 0
        for row, width in zip(rows, self.widths, strict=True):
            value = (value << width) | int(self.layout.bin_index[row])
        return value

    def frequencies(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """(K, n) 0/1 frequencies ``u xor v`` of index pairs."""
        n = self.layout.delays_t.shape[0]
        freq = np.zeros((u.size, n), dtype=np.int64)
        for side in (u, v):
            for column in range(2):
                feature = self.features[side, column]
                has = np.flatnonzero(feature >= 0)
                freq[has, feature[has]] ^= 1
        return freq

    def best(
        self, observation: np.ndarray, target: int, min_correlation: float
    ) -> tuple[np.ndarray, float]:
        """The frequency of weight <= 4 hashing to ``target`` that best correlates.

        Parameters
        ----------
        observation : (P,) float array
            The weighted bin sum ``W``.
        target : int
            :meth:`tuple_hash` of the bins.
        min_correlation : float
            Only frequencies with ``|<W, s(k)>|`` at least this are wanted. A signature that
            disagrees with the signs of ``W`` in a set D of delays correlates
            ``sum |W| - 2 sum_D |W_p|``: pairs with more disagreements than the weakest
            delays allow, or than a third of the delays, are dropped unscored (a popcount),
            and a tuple whose ``sum |W|`` is too small is not searched at all.

        Returns
        -------
        freq : (n,) int64 array (zero when none reaches ``min_correlation``)
        correlation : float
            ``|<W, s(k)>|`` of the best frequency (0.0 when none).
        """
        n_delays = observation.size
        n = self.layout.delays_t.shape[0]
        slack = (np.abs(observation).sum() - min_correlation) / 2.0
        max_distance = min(
            int(np.searchsorted(np.cumsum(np.sort(np.abs(observation))), slack, side="right")),
            n_delays // 3,
        )
        if slack < 0:
            return np.zeros(n, dtype=np.int64), 0.0
        signs = (observation < 0).astype(np.uint64)
        hard = np.uint64((signs << np.arange(n_delays, dtype=np.uint64)).sum(dtype=np.uint64))
        partner = self.hash ^ target
        lo = np.searchsorted(self.hash, partner, side="left")
        hi = np.searchsorted(self.hash, partner, side="right")
        # each unordered pair once: u from the bucket of the smaller hash
        counts = np.where(self.hash <= partner, hi - lo, 0)
        ends = np.cumsum(counts)
        best_u, best_v, best_corr = -1, -1, 0.0
        weights = 1 << np.arange(n_delays, dtype=np.uint64)
        start_u = 0
        while start_u < counts.size:
            # the u's whose pairs fit in one chunk
            base = ends[start_u - 1] if start_u else 0
            stop_u = int(np.searchsorted(ends, base + _CHUNK_PAIRS, side="right"))
            stop_u = max(stop_u, start_u + 1)
            c = counts[start_u:stop_u]
            total = int(c.sum())
            if total:
                u = np.repeat(np.arange(start_u, stop_u), c)
                offset = np.arange(total) - np.repeat(np.cumsum(c) - c, c)
                v = lo[u] + offset
                word = self.bits[u] ^ self.bits[v] ^ hard
                distance = popcount(word)
                keep = np.flatnonzero(
                    (distance <= max_distance) | (distance >= n_delays - max_distance)
                )
                if keep.size:
                    pair_bits = self.bits[u[keep]] ^ self.bits[v[keep]]
                    odd = (pair_bits[:, None] & weights[None, :]) != 0  # (S, P)
                    corr = np.abs(np.where(odd, -observation, observation).sum(axis=1))
                    top = int(np.argmax(corr))
                    if corr[top] > best_corr:
                        best_u, best_v = int(u[keep][top]), int(v[keep][top])
                        best_corr = float(corr[top])
            start_u = stop_u
        if best_u < 0 or best_corr < min_correlation:
            return np.zeros(n, dtype=np.int64), 0.0
        return self.frequencies(np.array([best_u]), np.array([best_v]))[0], best_corr


def matched_search(
    residual: np.ndarray,
    index: LowWeightIndex,
    candidates: Sequence[np.ndarray],
    *,
    max_tuples: int,
    noise_var: float,
    min_z: float,
) -> tuple[np.ndarray, np.ndarray]:
    """A frequency of weight <= 4 that correlates with a tuple of candidate bins.

    Parameters
    ----------
    residual : (sum_c B_c, P) float array
        The stacked real bins, what peeling left in them.
    index : LowWeightIndex
    candidates : sequence of C int arrays
        Stacked rows of each group worth trying, strongest first.
    max_tuples : int
        Most tuples (one bin of every group) tried; the weakest candidates are dropped first.
    noise_var : float
        Noise variance of one query.
    min_z : float
        Standard errors the pooled coefficient ``<W, s(k)> / (P sum_c B_c)`` must reach
        (noise alone: standard error ``sqrt(noise_var / (P sum_c B_c))``).

    Returns
    -------
    freq : (K, n) int64 array, K <= 1
        The frequency of the first tuple (largest ``sum_p |W_p|`` first) whose best
        candidate reaches ``min_z``; the search stops there.
    rows : (K, C) int64 array
        The tuple it was found in.
    """
    layout = index.layout
    n = layout.delays_t.shape[0]
    keep = max((c.size for c in candidates), default=0)
    while keep > 1 and int(np.prod([min(c.size, keep) for c in candidates])) > max_tuples:
        keep -= 1
    chosen = [c[:keep] for c in candidates]
    weight = layout.sizes.astype(np.float64)
    min_correlation = min_z * np.sqrt(noise_var * layout.n_delays * weight.sum())
    if not all(c.size for c in chosen):
        return np.zeros((0, n), dtype=np.int64), np.zeros((0, len(chosen)), dtype=np.int64)
    tuples = np.array(list(itertools.product(*chosen)), dtype=np.int64)  # (A, C)
    observations = np.einsum("c,acp->ap", weight, residual[tuples])
    # most promising first: the first tuple that yields a frequency ends the search
    for a in np.argsort(-np.abs(observations).sum(axis=1), kind="stable"):
        freq, corr = index.best(observations[a], index.tuple_hash(tuples[a]), min_correlation)
        if corr > 0 and freq.any():
            return freq[None], tuples[a][None]
    return np.zeros((0, n), dtype=np.int64), np.zeros((0, len(chosen)), dtype=np.int64)
