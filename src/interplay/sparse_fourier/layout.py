"""Where a frequency lands in the bins of a design, and the phases the delays put on it.

The bins of all groups are stored in one (sum_c B_c, P) array, group after group
(``B_c = q**b_c`` bins of group c, P delays); :class:`BinLayout` maps frequencies to rows of
it and to their delay signatures ``omega^<d_p, k>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from interplay.sparse_fourier.design import bin_of

__all__ = ["BinLayout"]


class BinLayout:
    """The bins of C groups and P delays, stacked in one array.

    Parameters
    ----------
    groups : sequence of (n, b_c) int arrays
        Subsampling matrices.
    delays : (P, n) int array
    q : int
    real : bool
        Whether signatures are real (q = 2, real values): ±1 instead of complex roots.

    Attributes
    ----------
    sizes : (C,) int64 array
        ``B_c``, bins per group.
    start : (C + 1,) int64 array
        First row of each group (and the total number of rows last).
    group_of : (sum B_c,) int64 array
        The group of each row.
    """

    def __init__(
        self, groups: Sequence[np.ndarray], delays: np.ndarray, q: int, *, real: bool
    ) -> None:
        self.groups = [np.asarray(g, dtype=np.int64) for g in groups]
        self.q = int(q)
        self.real = real
        self.delays_t = np.asarray(delays, dtype=np.float64).T  # (n, P)
        self.n_delays = self.delays_t.shape[1]
        self.sizes = np.array([self.q ** g.shape[1] for g in self.groups], dtype=np.int64)
        self.start = np.concatenate([[0], np.cumsum(self.sizes)])
        self.group_of = np.repeat(np.arange(self.sizes.size), self.sizes)
        self.bin_index = np.arange(self.start[-1]) - self.start[self.group_of]
        roots = np.exp(2j * np.pi * np.arange(self.q) / self.q)
        self.roots = roots.real.copy() if real else roots
        if real:
            self.roots = np.rint(self.roots)  # q = 2: exactly +1, -1

    @property
    def n_rows(self) -> int:
        return int(self.start[-1])

    def rows(self, freq: np.ndarray) -> np.ndarray:
        """(C, K) rows of the stacked bins that each frequency lands in, one per group."""
        return np.stack(
            [self.start[c] + bin_of(freq, g, self.q) for c, g in enumerate(self.groups)]
        ) if freq.shape[0] else np.zeros((len(self.groups), 0), dtype=np.int64)

    def consistent(self, freq: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """(K,) bool: frequency i hashes to stacked row ``rows[i]`` in that row's group."""
        ok = np.zeros(rows.shape[0], dtype=bool)
        group = self.group_of[rows]
        for c, g in enumerate(self.groups):
            mine = np.flatnonzero(group == c)
            if mine.size:
                ok[mine] = bin_of(freq[mine], g, self.q) == self.bin_index[rows[mine]]
        return ok

    def signature(self, freq: np.ndarray) -> np.ndarray:
        """(K, P) ``omega^<d_p, k>`` (float ±1 when real, complex otherwise)."""
        phase = np.rint(np.asarray(freq, dtype=np.float64) @ self.delays_t).astype(np.int64)
        return self.roots[phase % self.q]

    def bin_sums(self, freq: np.ndarray, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every term's contribution to the bins: rows (C K,) and values (C K, P)."""
        contrib = self.signature(freq) * coef[:, None]
        rows = self.rows(freq)
        return rows.ravel(), np.tile(contrib, (len(self.groups), 1))
