"""Place labels along one axis so that none overlaps, each as close as it can be to its wish."""

from __future__ import annotations

import numpy as np

__all__ = ["spread_positions"]


def spread_positions(wanted: np.ndarray, sizes: np.ndarray, gap: float = 0.0) -> np.ndarray:
    """Positions for intervals centred near ``wanted`` that do not overlap.

    Labels that would overlap are merged into blocks stacked without gaps and centred on
    the mean of their wishes; blocks that then touch are merged again (the least-squares
    placement with the order of ``wanted`` kept).

    Parameters
    ----------
    wanted : (k,) float array
        The centre each interval would like.
    sizes : (k,) float array
        Their lengths (e.g. label heights in pixels).
    gap : float
        Space kept between neighbours.

    Returns
    -------
    (k,) float array
        Centres, in the order of ``wanted``, with ``|c_i - c_j| >= (s_i + s_j) / 2 + gap``.
    """
    wanted = np.asarray(wanted, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.float64) + gap
    order = np.argsort(wanted, kind="stable")
    w, s = wanted[order], sizes[order]
    # each block: [first, last) indices into the sorted labels, and its centre
    blocks: list[list[float]] = []
    for i in range(w.size):
        blocks.append([i, i + 1, w[i]])
        while len(blocks) > 1:
            lo, hi = blocks[-2], blocks[-1]
            lo_top = lo[2] + s[int(lo[0]) : int(lo[1])].sum() / 2
            hi_bottom = hi[2] - s[int(hi[0]) : int(hi[1])].sum() / 2
            if lo_top <= hi_bottom:
                break
            first, last = int(lo[0]), int(hi[1])
            # the centre that makes the stacked block's offsets best match the wishes
            offsets = np.cumsum(s[first:last]) - s[first:last] / 2 - s[first:last].sum() / 2
            blocks[-2:] = [[first, last, float(np.mean(w[first:last] - offsets))]]
    out = np.empty(w.size)
    for first, last, centre in blocks:
        first, last = int(first), int(last)
        offsets = np.cumsum(s[first:last]) - s[first:last] / 2 - s[first:last].sum() / 2
        out[first:last] = centre + offsets
    result = np.empty_like(out)
    result[order] = out
    return result
