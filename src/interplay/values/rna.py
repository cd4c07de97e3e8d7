"""RNA folding energy as a q-ary value function (q = 4: A, C, G, U).

A base sequence is fixed; n of its positions are varied over the four nucleotides and the value
is the change of minimum free energy, ``f(x) = MFE(sequence(x)) - MFE(base)`` in kcal/mol,
computed by ViennaRNA (``pip install viennarna``; ``import RNA``). Explaining f with q-SFT says
which positions, and which pairs of positions, drive the folding energy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from interplay.random_state import check_random_state

__all__ = ["NUCLEOTIDES", "RNAFoldEnergy", "random_rna"]

#: State a of a position is the nucleotide ``NUCLEOTIDES[a]``.
NUCLEOTIDES = "ACGU"


def random_rna(length: int, *, random_state: Any = None) -> str:
    """A uniformly random RNA sequence of ``length`` nucleotides."""
    if int(length) < 1:
        raise ValueError(f"length must be positive, got {length}")
    rng = check_random_state(random_state)
    return "".join(np.array(list(NUCLEOTIDES))[rng.integers(0, 4, size=int(length))])


def _import_rna() -> Any:
    try:
        import RNA
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the RNA value function needs ViennaRNA: pip install viennarna (extra 'rna')"
        ) from exc
    return RNA


class RNAFoldEnergy:
    """Change of RNA minimum free energy when positions of a base sequence are mutated.

    Parameters
    ----------
    base_sequence : str
        The reference RNA (letters A, C, G, U; T is read as U).
    positions : sequence of int, optional
        The n positions that vary (0-based, distinct). Default: every position.
    temperature : float, optional
        Folding temperature in °C (ViennaRNA's default 37 °C when None).
    cache : bool
        Remember the energy of every sequence folded (repeated queries are free).

    Notes
    -----
    The value function takes (N, n) int arrays of states in ``0..3`` (``"ACGU"``) and returns
    ``MFE(sequence) - MFE(base)``: 0 at the base sequence, negative when a mutation stabilises
    the fold. ViennaRNA folds one sequence per call, so this loops over the N sequences.

    Attributes
    ----------
    n_folds : int
        Sequences actually folded (cache misses).
    """

    q = 4

    def __init__(
        self,
        base_sequence: str,
        positions: Sequence[int] | None = None,
        *,
        temperature: float | None = None,
        cache: bool = True,
    ) -> None:
        base = str(base_sequence).upper().replace("T", "U")
        if not base or set(base) - set(NUCLEOTIDES):
            raise ValueError("base_sequence must be a non-empty string of A, C, G, U")
        if positions is None:
            positions = range(len(base))
        pos = np.asarray(list(positions), dtype=np.int64)
        if pos.ndim != 1 or pos.size == 0:
            raise ValueError("positions must be a non-empty sequence of indices")
        if pos.min() < 0 or pos.max() >= len(base) or np.unique(pos).size != pos.size:
            raise ValueError(f"positions must be distinct indices in range(0, {len(base)})")
        self.base_sequence = base
        self.positions = pos
        self.temperature = temperature
        self.cache = bool(cache)
        self._rna = _import_rna()
        self._memo: dict[str, float] = {}
        self._letters = np.frombuffer(NUCLEOTIDES.encode(), dtype=np.uint8)
        self._base_bytes = np.frombuffer(base.encode(), dtype=np.uint8)
        self.n_folds = 0
        self.base_energy = self.mfe(base)

    @property
    def n_features(self) -> int:
        return int(self.positions.size)

    @property
    def feature_names(self) -> list[str]:
        """``"<base letter><position>"``, e.g. ``"G12"``."""
        return [f"{self.base_sequence[p]}{p}" for p in self.positions]

    def base_states(self) -> np.ndarray:
        """(n,) int array: the states that give back the base sequence."""
        return np.array([NUCLEOTIDES.index(self.base_sequence[p]) for p in self.positions])

    def sequences(self, states: Any) -> list[str]:
        """The N sequences for (N, n) states in ``0..3``."""
        states = np.asarray(states)
        if states.ndim != 2 or states.shape[1] != self.n_features:
            raise ValueError(f"states must have shape (N, {self.n_features}), got {states.shape}")
        if states.size and (states.min() < 0 or states.max() > 3):
            raise ValueError("states must be integers in 0..3 (A, C, G, U)")
        rows = np.tile(self._base_bytes, (states.shape[0], 1))
        rows[:, self.positions] = self._letters[states.astype(np.int64)]
        width = rows.shape[1]
        return [bytes(r).decode() for r in rows.reshape(-1, width)]

    def mfe(self, sequence: str) -> float:
        """Minimum free energy of one sequence (kcal/mol)."""
        if self.cache and sequence in self._memo:
            return self._memo[sequence]
        if self.temperature is None:
            energy = float(self._rna.fold(sequence)[1])
        else:
            md = self._rna.md()
            md.temperature = float(self.temperature)
            energy = float(self._rna.fold_compound(sequence, md).mfe()[1])
        self.n_folds += 1
        if self.cache:
            self._memo[sequence] = energy
        return energy

    def __call__(self, states: Any) -> np.ndarray:
        seqs = self.sequences(states)
        return np.array([self.mfe(s) for s in seqs], dtype=np.float64) - self.base_energy
