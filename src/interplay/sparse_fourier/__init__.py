"""One sparse-Fourier engine over ``Z_q``: subsample, delay, bin, peel, refit.

SPEX (q = 2, BCH-coded delays) and q-SFT (any q, unit delays) are configurations of
:func:`sparse_fourier_transform`; each piece does one job:

- :mod:`.design` — full-rank subsampling groups over ``Z_q`` (rank mod q), their lattices;
- :mod:`.points` — the distinct query points (the library's one deduplication);
- :mod:`.bins` — the bin transform (Walsh–Hadamard for q = 2, a q-ary FFT otherwise);
- :mod:`.delays` — the :class:`DelayCode` protocol: unit (identity or random) and BCH delays;
- :mod:`.layout` — where a frequency lands in the bins, its delay signature;
- :mod:`.peeling` — the peeling decoder and its noise estimate;
- :mod:`.joint` — weak terms read from sums of bins of several groups;
- :mod:`.search` — the last weak terms found by a matched-filter search over the
  frequencies of a tuple of bins;
- :mod:`.refit` — least squares of the support and its sample R², in the bin domain;
- :mod:`.engine` — the sequence that ties them together.
"""

from interplay.sparse_fourier.bins import bin_transform
from interplay.sparse_fourier.delays import (
    BCHDelays,
    BinaryDigitBCHDelays,
    DelayCode,
    PrimeBCHDelays,
    UnitDelays,
    coded_delay_count,
    coded_delays,
)
from interplay.sparse_fourier.design import (
    is_full_rank_mod_q,
    low_order_frequencies,
    rank_mod_p,
    subsample_groups,
)
from interplay.sparse_fourier.engine import (
    LOW_SAMPLE_R2,
    SparseFourierFit,
    sparse_fourier_transform,
    warn_if_unexplained,
)
from interplay.sparse_fourier.points import DesignPoints, unique_rows

__all__ = [
    "LOW_SAMPLE_R2",
    "BCHDelays",
    "BinaryDigitBCHDelays",
    "DelayCode",
    "DesignPoints",
    "PrimeBCHDelays",
    "SparseFourierFit",
    "UnitDelays",
    "bin_transform",
    "coded_delay_count",
    "coded_delays",
    "is_full_rank_mod_q",
    "low_order_frequencies",
    "rank_mod_p",
    "sparse_fourier_transform",
    "subsample_groups",
    "unique_rows",
    "warn_if_unexplained",
]
