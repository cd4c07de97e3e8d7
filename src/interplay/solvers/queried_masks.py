"""A compact record of the masks a solver sent to the value function.

Faithfulness must be measured on masks the solver never saw. Keeping every mask would cost
n/8 bytes a mask (1.25 MB for 10^4 masks at n = 1000, more for q-ary states); a 64-bit
fingerprint costs 8 bytes whatever n is. A fingerprint collision can only make a fresh mask
look queried (it is then not used as a held-out mask), never the reverse.
"""

from __future__ import annotations

import numpy as np

__all__ = ["QueriedMasks", "fingerprints"]

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def _mix(h: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, applied element-wise to a uint64 array."""
    h = (h ^ (h >> np.uint64(30))) * _MIX_1
    h = (h ^ (h >> np.uint64(27))) * _MIX_2
    return h ^ (h >> np.uint64(31))


def fingerprints(masks: np.ndarray, q: int = 2) -> np.ndarray:
    """64-bit fingerprints of mask rows.

    Parameters
    ----------
    masks : (N, n) bool array, or (N, n) int array of states in ``0..q-1`` when q > 2
    q : int
        Number of states of each feature.

    Returns
    -------
    (N,) uint64 array; equal rows have equal fingerprints.
    """
    masks = np.asarray(masks)
    rows = np.packbits(masks.astype(bool), axis=1) if q == 2 else masks.astype(np.uint8)
    width = -(-max(rows.shape[1], 1) // 8) * 8
    padded = np.zeros((rows.shape[0], width), dtype=np.uint8)
    padded[:, : rows.shape[1]] = rows
    words = padded.view(np.uint64)  # (N, width / 8)
    h = np.full(rows.shape[0], np.uint64(masks.shape[1]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in words.T:
            h = _mix((h ^ column) * _MULTIPLIER)
    return h


class QueriedMasks:
    """The distinct masks (or q-ary states) a solver queried, as 64-bit fingerprints.

    Parameters
    ----------
    n_features : int
    q : int
        Number of states of each feature (2: bool masks).

    Notes
    -----
    Memory is 8 bytes a distinct mask, whatever n is (80 kB for 10^4 masks).
    """

    def __init__(self, n_features: int, q: int = 2) -> None:
        self.n_features = int(n_features)
        self.q = int(q)
        self._chunks: list[np.ndarray] = []
        self._sorted = np.zeros(0, dtype=np.uint64)

    def add(self, masks: np.ndarray) -> None:
        """Record a batch of (N, n) masks."""
        self._chunks.append(fingerprints(masks, self.q))

    @property
    def sorted_fingerprints(self) -> np.ndarray:
        """(M,) uint64 array: the distinct fingerprints, sorted."""
        if self._chunks:
            self._sorted = np.unique(np.concatenate([self._sorted, *self._chunks]))
            self._chunks = []
        return self._sorted

    def __len__(self) -> int:
        """Number of distinct masks recorded."""
        return int(self.sorted_fingerprints.size)

    @property
    def covers_all(self) -> bool:
        """True when every one of the q^n masks was queried (no held-out mask exists)."""
        return len(self) >= self.q**self.n_features

    def contains(self, masks: np.ndarray) -> np.ndarray:
        """(N,) bool array: which rows of ``masks`` were queried."""
        return np.isin(fingerprints(masks, self.q), self.sorted_fingerprints)

    def __repr__(self) -> str:
        return f"QueriedMasks(n_features={self.n_features}, q={self.q}, distinct={len(self)})"
