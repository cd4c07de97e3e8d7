"""The q-SFT sampling design: its sizes and the number of queries it costs.

The pieces of the design (subsampling groups, delays, lattices, low-order frequencies) live in
:mod:`interplay.sparse_fourier`; ``low_order_frequencies`` is re-exported here for callers of
the earlier layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from interplay.sparse_fourier.design import low_order_frequencies

__all__ = ["DelayDesign", "QsftDesign", "low_order_frequencies"]

DelayDesign = Literal["identity", "robust"]


@dataclass(frozen=True)
class QsftDesign:
    """The sampling design of one q-SFT run.

    Attributes
    ----------
    q, n : int
        Alphabet size and number of features.
    b : int
        Each group hashes into ``q**b`` bins.
    n_groups : int
        Number of subsampling groups C.
    delays : {"identity", "robust"}
    n_repeats : int
        Delay blocks R (1 for identity delays).
    max_queries : int
        Upper bound on the distinct queries: ``C * P * (q**b - 1) + P`` (the sample at
        ``l = 0`` is shared by all groups).
    n_delays : int
        P: ``R * (n + 1)`` for unit delays, ``R * (1 + r)`` for BCH-coded ones.
    delay_code : {"unit", "bch"}
    """

    q: int
    n: int
    b: int
    n_groups: int
    delays: str
    n_repeats: int
    max_queries: int
    n_delays: int
    delay_code: str = "unit"

    @property
    def n_bins(self) -> int:
        return self.q**self.b
