"""Joint reads: a frequency read from the sum of bins of different groups.

Every group reads a bin at the same delays, so a term ``F`` with frequency k adds the same
``F omega^<d_p, k>`` to its bin in every group, while the noise of the bins is independent
(variance ``sigma^2 / B_c`` in a group of ``B_c`` bins). Averaging a bin of group c with a bin
of group c' (weights ``B_c``) that hold the same lone term adds its signal coherently and
lowers the noise to ``sigma^2 / (B_c + B_c')``: a term too weak to be read from one bin is read
from two or three. Which bins hold the same term is unknown, so every combination of the
unresolved bins of two or three groups is tried; a read counts only when it hashes back to
every bin of its combination (a wrong read does so with probability ``1 / (B_c B_c')``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from interplay.sparse_fourier.delays import DelayCode
from interplay.sparse_fourier.layout import BinLayout

__all__ = ["joint_reads"]

def _combinations(candidates: Sequence[np.ndarray], limit: int) -> list[np.ndarray]:
    """(A, s) arrays of stacked rows: one bin from each of s = 2 or 3 distinct groups.

    The strongest candidates of each group come first; their number is cut (the same for
    every group) until all combinations fit in ``limit``.
    """
    n_groups = len(candidates)
    sizes = range(2, min(n_groups, 3) + 1)
    keep = max((c.size for c in candidates), default=0)
    while keep > 1:
        total = sum(
            int(np.prod([min(candidates[c].size, keep) for c in combo]))
            for size in sizes
            for combo in itertools.combinations(range(n_groups), size)
        )
        if total <= limit:
            break
        keep -= 1
    out = []
    for size in sizes:
        for combo in itertools.combinations(range(n_groups), size):
            chosen = [candidates[c][:keep] for c in combo]
            if all(rows.size for rows in chosen):
                out.append(np.stack(np.meshgrid(*chosen, indexing="ij"), axis=-1).reshape(-1, size))
    return out


def joint_reads(
    residual: np.ndarray,
    layout: BinLayout,
    code: DelayCode,
    candidates: Sequence[np.ndarray],
    *,
    max_order: int,
    max_combinations: int,
) -> np.ndarray:
    """Frequencies read from weighted sums of candidate bins of two or three groups.

    Parameters
    ----------
    residual : (sum_c B_c, P) float array
        The stacked bins (real: q = 2), what peeling left in them.
    layout : BinLayout
    code : DelayCode
        Reads signs relative to the zero delay; both polarities of each sum are read.
    candidates : sequence of C int arrays
        Stacked rows of each group worth combining, strongest first.
    max_order : int
        Largest number of non-zero entries of a frequency accepted.
    max_combinations : int
        Most combinations tried (the weakest candidates are dropped first).

    Returns
    -------
    (K, n) int64 array
        The distinct frequencies that decode, have at most ``max_order`` entries and hash
        back to every bin of the combination they were read from.
    """
    n = layout.delays_t.shape[0]
    weight = layout.sizes.astype(np.float64)
    reads = [np.zeros((0, n), dtype=np.int64)]
    for rows in _combinations(candidates, max_combinations):
        w = weight[layout.group_of[rows]]  # (A, s)
        obs = np.einsum("as,asp->ap", w, residual[rows]) / w.sum(axis=1, keepdims=True)
        flipped = obs.copy()
        flipped[:, 0] *= -1.0  # the zero delay's sign may be the noise's
        for polarity in (obs, flipped):
            freq, ok = code.decode(polarity)
            ok &= (freq != 0).sum(axis=1) <= max_order
            for i in range(rows.shape[1]):
                ok &= layout.consistent(freq, rows[:, i])
            reads.append(freq[ok])
    return np.unique(np.concatenate(reads), axis=0)
