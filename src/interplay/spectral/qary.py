"""The q-ary result type: a sparse Fourier expansion of a function of n features with q states.

A function ``f : Z_q^n -> R`` is written ``f(x) = sum_k F(k) * omega^<k, x>`` with
``omega = exp(2*pi*i/q)`` and frequency vectors ``k`` in ``Z_q^n``. For real ``f`` the spectrum
is conjugate-symmetric, ``F(-k) = conj(F(k))``, so every interaction on a set of positions is a
real function of the states at those positions. :class:`QaryInteractions` stores the sparse
spectrum (both members of each conjugate pair) and reads it the way users want: predictions,
the largest frequency terms, the variance each set of positions carries, and the first-order
and pairwise effect tables of each position's states.

For q = 2 this is the Walsh–Hadamard expansion of :class:`~interplay.Interactions`
(``omega = -1``, state 1 = feature kept); :meth:`QaryInteractions.to_binary` and
:meth:`QaryInteractions.from_binary` convert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from interplay.spectral import schema
from interplay.spectral.interactions import Interactions, Term, check_feature_names
from interplay.spectral.jsonio import JSONDocument
from interplay.spectral.names import check_names

__all__ = [
    "MAX_Q",
    "QaryInteractions",
    "QaryTerm",
    "canonical_spectrum",
    "frequency_groups",
    "qary_phases",
]

_FORMAT = "interplay.qary_interactions"
_VERSION = 1

#: Largest number of states: frequencies are stored as int16.
MAX_Q = 2**15


@dataclass(frozen=True)
class QaryTerm:
    """One frequency term ``F(k) * omega^<k, x>``.

    Attributes
    ----------
    features : tuple of int
        Positions where ``k`` is non-zero.
    names : tuple of str
        Their feature names.
    frequency : tuple of int
        The non-zero entries of ``k`` at ``features``.
    value : complex
        The coefficient ``F(k)``.
    paired : bool
        True when the conjugate term ``conj(F(k)) * omega^<-k, x>`` is also in the expansion
        (it is not listed separately); the pair contributes
        ``2 |F(k)| cos(2 pi <k, x> / q + arg F(k))``.
    """

    features: tuple[int, ...]
    names: tuple[str, ...]
    frequency: tuple[int, ...]
    value: complex
    paired: bool = False

    @property
    def amplitude(self) -> float:
        """Largest change the term (with its conjugate, if paired) makes: 2|F| or |F|."""
        return float((2.0 if self.paired else 1.0) * abs(self.value))

    def __str__(self) -> str:
        label = (
            " × ".join(f"{nm}^{k}" for nm, k in zip(self.names, self.frequency, strict=True))
            if self.names
            else "∅ (baseline)"
        )
        pair = " (+ conjugate)" if self.paired else ""
        return f"{self.value:.6g}  {label}{pair}"


def qary_phases(states: np.ndarray, frequencies: np.ndarray, q: int) -> np.ndarray:
    """``<x, k> mod q`` for every state vector x and frequency k.

    Parameters
    ----------
    states : (N, n) int array
        Entries in ``0..q-1``.
    frequencies : (K, n) int array
        Entries in ``0..q-1``.
    q : int

    Returns
    -------
    (N, K) int64 array with entries in ``0..q-1``.
    """
    n = states.shape[1]
    # float64 products are exact while n * (q-1)^2 < 2^53; float32 while < 2^24.
    dtype = np.float32 if n * (q - 1) ** 2 < 2**24 else np.float64
    prod = states.astype(dtype) @ frequencies.T.astype(dtype)
    return np.rint(prod).astype(np.int64) % q


def frequency_groups(freq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort frequency vectors into canonical order and mark where each distinct one begins.

    The order is: degree (number of non-zero entries), then the support positions
    (lexicographic, so a term on positions (0, 5) comes before one on (1, 2)), then the
    non-zero values in position order. It is computed on the compact form of each row (its
    degree, support positions and values), which needs one small lexsort instead of a
    comparison of whole (K, n) rows.

    Parameters
    ----------
    freq : (K, n) int array

    Returns
    -------
    order : (K,) int array
        A stable sort of the rows into canonical order.
    starts : (U,) int array
        Positions in ``order`` where a new distinct row begins (``starts[0] == 0``).
    """
    freq = np.asarray(freq)
    k_count = freq.shape[0]
    if k_count == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    nonzero = freq != 0
    degree = nonzero.sum(axis=1)
    width = int(degree.max())
    rows, cols = np.nonzero(nonzero)  # row-major: positions ascending within a row
    slot = np.arange(rows.size) - np.repeat(np.cumsum(degree) - degree, degree)
    pos = np.zeros((k_count, width), dtype=np.int64)
    val = np.zeros((k_count, width), dtype=np.int64)
    pos[rows, slot] = cols
    val[rows, slot] = freq[rows, cols]
    # Rows of equal degree have the same padding, so the padded slots never decide.
    compact = np.concatenate([degree[:, None], pos, val], axis=1)
    order = np.lexsort(compact.T[::-1])
    ordered = compact[order]
    new = np.concatenate([[True], np.any(ordered[1:] != ordered[:-1], axis=1)])
    return order, np.flatnonzero(new)


def canonical_spectrum(
    frequencies: np.ndarray, coefficients: np.ndarray, q: int, *, tol: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Merge duplicate frequency vectors (summing coefficients) and sort them.

    Parameters
    ----------
    frequencies : (K, n) int array
    coefficients : (K,) complex array
    q : int
    tol : float
        When positive, coefficients with ``|F| <= tol`` are dropped.

    Returns
    -------
    frequencies : (K', n) int16 array, sorted by degree, then support, then values
        (see :func:`frequency_groups`)
    coefficients : (K',) complex128 array
    """
    freq = np.mod(np.asarray(frequencies, dtype=np.int64), q)
    coef = np.asarray(coefficients, dtype=np.complex128).ravel()
    n = freq.shape[1]
    if freq.shape[0] == 0:
        return np.zeros((0, n), dtype=np.int16), coef[:0]
    order, starts = frequency_groups(freq)
    uniq = freq[order[starts]]
    # Duplicates are summed in their input order (the sort is stable).
    summed = np.add.reduceat(coef[order], starts)
    if tol > 0:
        keep = np.abs(summed) > tol
        uniq, summed = uniq[keep], summed[keep]
    return uniq.astype(np.int16), summed


class QaryInteractions(JSONDocument):
    """A sparse Fourier expansion of a function of n features with q states each.

    ``f(x) = sum_k F(k) * omega^<k, x>``, ``omega = exp(2 pi i / q)``, ``x, k`` in ``Z_q^n``.

    Parameters
    ----------
    frequencies : (K, n) int array, or sequence of mappings ``{position: k_i}``
        The frequency vectors with non-zero coefficient (entries taken mod q).
    coefficients : (K,) complex array
        One coefficient per frequency vector. Duplicates are summed.
    n_features : int
        Number of features n.
    q : int
        Number of states of each feature (at least 2).
    feature_names : sequence of str, optional
        Names of the n features; defaults to ``"x0", "x1", ...``.
    state_names : sequence of str, optional
        Names of the q states (e.g. ``"ACGU"``); defaults to ``"0", "1", ...``.
    n_queries : int, optional
        Number of value-function queries spent to produce this result.
    method : str, optional
        The method that produced it.
    metadata : dict, optional
        JSON-serialisable extras (solver settings, timings).

    Notes
    -----
    Real functions have ``F(-k) = conj(F(k))``. :attr:`is_real` reports whether the stored
    spectrum has this symmetry; when it has, :meth:`predict` returns real numbers and
    :meth:`top` lists each conjugate pair once.
    """

    def __init__(
        self,
        frequencies: Any,
        coefficients: Any,
        *,
        n_features: int,
        q: int,
        feature_names: Any = None,
        state_names: Any = None,
        n_queries: int | None = None,
        method: str | None = None,
        metadata: dict | None = None,
    ) -> None:
        n = int(n_features)
        q = int(q)
        if n < 1:
            raise ValueError(f"n_features must be positive, got {n_features}")
        if not 2 <= q <= MAX_Q:
            raise ValueError(f"q must be at least 2 and at most {MAX_Q}, got {q}")
        coef = np.asarray(coefficients, dtype=np.complex128).ravel()
        freq = self._frequency_matrix(frequencies, n)
        if freq.shape[0] != coef.shape[0]:
            raise ValueError(
                f"{freq.shape[0]} frequency vectors but {coef.shape[0]} coefficients were given"
            )
        if not np.all(np.isfinite(coef)):
            raise ValueError("coefficients must be finite")
        with np.errstate(over="ignore", invalid="ignore"):
            self._freq, self._coef = canonical_spectrum(freq, coef, q)
        if not np.all(np.isfinite(self._coef)):
            raise ValueError(
                "coefficients of a repeated frequency vector add up beyond the float range"
            )
        self.n_features = n
        self.q = q
        self.feature_names = check_feature_names(feature_names, n)
        if state_names is None:
            state_names = [str(a) for a in range(q)]
        self.state_names = check_names(
            state_names, q, argument="state_names", of=f"states (q={q})"
        )
        self.n_queries = None if n_queries is None else int(n_queries)
        self.method = method
        self.metadata = dict(metadata or {})

    @staticmethod
    def _frequency_matrix(frequencies: Any, n: int) -> np.ndarray:
        if isinstance(frequencies, np.ndarray) or (
            isinstance(frequencies, (list, tuple))
            and frequencies
            and not isinstance(frequencies[0], dict)
        ):
            freq = np.asarray(frequencies)
            if freq.ndim != 2 or freq.shape[1] != n:
                raise ValueError(
                    f"frequencies must be a (K, {n}) int array, got shape {freq.shape}"
                )
            integral = np.issubdtype(freq.dtype, np.integer) or np.all(np.mod(freq, 1) == 0)
            if freq.size and not integral:
                raise ValueError("frequencies must be integers")
            return freq.astype(np.int64)
        rows = list(frequencies)
        freq = np.zeros((len(rows), n), dtype=np.int64)
        for r, row in enumerate(rows):
            for pos, val in dict(row).items():
                pos = int(pos)
                if not 0 <= pos < n:
                    raise ValueError(f"frequency position {pos} outside range(0, {n})")
                freq[r, pos] = int(val)
        return freq

    # ------------------------------------------------------------------ access
    @property
    def frequencies(self) -> np.ndarray:
        """(K, n) int array of frequency vectors, aligned with :attr:`coefficients`."""
        return self._freq.astype(np.int64)

    @property
    def coefficients(self) -> np.ndarray:
        """(K,) complex array of Fourier coefficients F(k)."""
        return self._coef.copy()

    @property
    def degrees(self) -> np.ndarray:
        """(K,) int array: Hamming weight (number of non-zero entries) of each k."""
        return (self._freq != 0).sum(axis=1)

    @property
    def supports(self) -> list[tuple[int, ...]]:
        """The positions of each frequency vector's non-zero entries."""
        return [tuple(int(i) for i in np.flatnonzero(row)) for row in self._freq]

    def __len__(self) -> int:
        return int(self._coef.shape[0])

    def __getitem__(self, frequency: Any) -> complex:
        """Coefficient of one frequency vector (length-n sequence or ``{pos: k}``); 0 if absent."""
        row = self._frequency_matrix([frequency], self.n_features) % self.q
        hit = np.flatnonzero((self._freq == row).all(axis=1))
        return complex(self._coef[hit[0]]) if hit.size else 0j

    def _negated_rows(self) -> np.ndarray:
        """Row index of -k for every k (-1 when -k is absent)."""
        neg = (-self._freq.astype(np.int64)) % self.q
        both = np.concatenate([self._freq.astype(np.int64), neg])
        order, starts = frequency_groups(both)
        inverse = np.empty(both.shape[0], dtype=np.int64)
        inverse[order] = np.repeat(np.arange(starts.size), np.diff(starts, append=both.shape[0]))
        k = self._freq.shape[0]
        slot = np.full(inverse.max(initial=-1) + 1, -1)
        slot[inverse[:k]] = np.arange(k)
        return slot[inverse[k:]]

    def is_conjugate_symmetric(self, *, rtol: float = 1e-9) -> bool:
        """True when ``F(-k) = conj(F(k))`` for every stored k (the function is real)."""
        if not len(self):
            return True
        partner = self._negated_rows()
        scale = rtol * max(float(np.abs(self._coef).max()), 1e-300)
        own = np.abs(self._coef) > scale
        if np.any(partner[own] < 0):
            return False
        p = np.where(partner >= 0, partner, 0)
        return bool(np.all(np.abs(self._coef - np.conj(self._coef[p]))[partner >= 0] <= scale))

    @property
    def is_real(self) -> bool:
        """Whether the expansion describes a real function (conjugate-symmetric spectrum)."""
        return self.is_conjugate_symmetric()

    @property
    def baseline(self) -> float:
        """F(0): the mean of f over uniformly random states."""
        return float(self[np.zeros(self.n_features, dtype=int)].real)

    def variance(self) -> float:
        """Variance of f over uniformly random states (Parseval): sum of |F(k)|^2, k != 0."""
        return float(np.sum(np.abs(self._coef[self.degrees > 0]) ** 2))

    # -------------------------------------------------------------- prediction
    def predict(self, states: Any) -> np.ndarray:
        """Evaluate the expansion.

        Parameters
        ----------
        states : (N, n) int array, or (n,) for one input
            Entries in ``0..q-1`` (for q = 2 a bool mask is accepted: True = 1 = kept).

        Returns
        -------
        (N,) float array (complex when the spectrum is not conjugate-symmetric);
        a scalar for a single input.
        """
        states = np.asarray(states)
        single = states.ndim == 1
        states = np.atleast_2d(states)
        if states.ndim != 2 or states.shape[1] != self.n_features:
            raise ValueError(f"states must have {self.n_features} columns, got {states.shape}")
        if states.dtype == bool:
            states = states.astype(np.int64)
        if states.size and (states.min() < 0 or states.max() >= self.q):
            raise ValueError(f"states must be integers in 0..{self.q - 1}")
        out = np.zeros(states.shape[0], dtype=np.complex128)
        roots = np.exp(2j * np.pi * np.arange(self.q) / self.q)
        chunk = max(1, 2**22 // max(len(self), 1))
        for start in range(0, states.shape[0], chunk):
            phases = qary_phases(states[start : start + chunk], self._freq, self.q)
            out[start : start + chunk] = roots[phases] @ self._coef
        result = out.real if self.is_real else out
        return result[0] if single else result

    # ------------------------------------------------------------------ reading
    def top(self, k: int = 10, *, include_empty: bool = False) -> list[QaryTerm]:
        """The ``k`` frequency terms of largest amplitude.

        For a real function each conjugate pair ``{k, -k}`` is listed once (as the member whose
        first non-zero entry is smaller) with ``paired=True``.
        """
        rows = np.arange(len(self))
        paired = np.zeros(len(self), dtype=bool)
        if self.is_real and len(self):
            partner = self._negated_rows()
            paired = (partner >= 0) & (partner != rows)
            first = np.argmax(self._freq != 0, axis=1)
            lead = self._freq[rows, first]
            neg_lead = (-lead.astype(np.int64)) % self.q
            keep = ~paired | (lead < neg_lead) | ((lead == neg_lead) & (rows < partner))
            rows = rows[keep]
        if not include_empty:
            rows = rows[self.degrees[rows] > 0]
        amp = np.abs(self._coef[rows]) * np.where(paired[rows], 2.0, 1.0)
        rows = rows[np.argsort(-amp, kind="stable")][:k]
        terms = []
        for r in rows:
            feats = tuple(int(i) for i in np.flatnonzero(self._freq[r]))
            terms.append(
                QaryTerm(
                    feats,
                    tuple(self.feature_names[i] for i in feats),
                    tuple(int(self._freq[r, i]) for i in feats),
                    complex(self._coef[r]),
                    bool(paired[r]),
                )
            )
        return terms

    def interaction_variance(self, *, max_order: int | None = None) -> list[Term]:
        """Variance carried by each set of positions, largest first.

        The interaction on a set S of positions is ``g_S(x_S) = sum_{k : supp(k) = S} F(k)
        omega^<k, x>``; its variance over uniform states is ``sum |F(k)|^2`` over those k
        (the functional-ANOVA decomposition of f). The values sum to :meth:`variance`.

        Returns
        -------
        list of :class:`~interplay.Term`
            ``value`` is the variance of ``g_S``.
        """
        degrees = self.degrees
        keep = degrees > 0
        if max_order is not None:
            keep &= degrees <= max_order
        if not keep.any():
            return []
        support = self._freq[keep] != 0
        energy = np.abs(self._coef[keep]) ** 2
        uniq, inverse = np.unique(support, axis=0, return_inverse=True)
        total = np.zeros(uniq.shape[0])
        np.add.at(total, inverse.ravel(), energy)
        order = np.argsort(-total, kind="stable")
        out = []
        for r in order:
            feats = tuple(int(i) for i in np.flatnonzero(uniq[r]))
            out.append(Term(feats, tuple(self.feature_names[i] for i in feats), float(total[r])))
        return out

    def main_effects(self) -> np.ndarray:
        """First-order effect of each position's states.

        Returns
        -------
        (n, q) float array
            ``E[i, a] = g_{i}(a) = sum_{k : supp(k) = {i}} F(k) omega^(k_i a)``: how much
            setting position i to state a moves f above its mean, averaging over all other
            positions. Each row sums to zero.
        """
        out = np.zeros((self.n_features, self.q), dtype=np.complex128)
        rows = np.flatnonzero(self.degrees == 1)
        if rows.size:
            pos = np.argmax(self._freq[rows] != 0, axis=1)
            kval = self._freq[rows, pos].astype(np.int64)
            roots = np.exp(2j * np.pi * np.outer(kval, np.arange(self.q)) / self.q)  # (R, q)
            np.add.at(out, pos, self._coef[rows, None] * roots)
        return out.real if self.is_real else out

    def pairwise_effects(self) -> dict[tuple[int, int], np.ndarray]:
        """Pure pairwise effect tables of every pair of positions that interacts.

        Returns
        -------
        dict mapping ``(i, j)`` (i < j) to a (q, q) float array
            ``P[a, b] = g_{ij}(a, b) = sum_{k : supp(k) = {i, j}} F(k) omega^(k_i a + k_j b)``:
            the joint effect of states (a, b) beyond the two main effects. Rows and columns
            sum to zero.
        """
        rows = np.flatnonzero(self.degrees == 2)
        if not rows.size:
            return {}
        nz = np.sort(np.argsort(self._freq[rows] == 0, axis=1, kind="stable")[:, :2], axis=1)
        ki = self._freq[rows, nz[:, 0]].astype(np.int64)
        kj = self._freq[rows, nz[:, 1]].astype(np.int64)
        a = np.arange(self.q)
        phase = ki[:, None, None] * a[None, :, None] + kj[:, None, None] * a[None, None, :]
        tables = self._coef[rows, None, None] * np.exp(2j * np.pi * (phase % self.q) / self.q)
        pairs, inverse = np.unique(nz, axis=0, return_inverse=True)
        summed = np.zeros((pairs.shape[0], self.q, self.q), dtype=np.complex128)
        np.add.at(summed, inverse.ravel(), tables)
        real = self.is_real
        return {
            (int(i), int(j)): (t.real if real else t)
            for (i, j), t in zip(pairs, summed, strict=True)
        }

    def pairwise_effect(self, i: int, j: int) -> np.ndarray:
        """(q, q) pure pairwise effect table of positions ``i`` and ``j`` (zeros if none)."""
        i, j = int(i), int(j)
        if i == j or not (0 <= i < self.n_features and 0 <= j < self.n_features):
            raise ValueError(f"need two different positions in range(0, {self.n_features})")
        table = self.pairwise_effects().get((min(i, j), max(i, j)))
        if table is None:
            return np.zeros((self.q, self.q))
        return table if i < j else table.T

    # -------------------------------------------------------------- conversion
    def to_binary(self) -> Interactions:
        """For q = 2: the same expansion as a binary :class:`~interplay.Interactions`."""
        if self.q != 2:
            raise ValueError(f"only a q=2 expansion converts to binary Interactions (q={self.q})")
        if np.any(np.abs(self._coef.imag) > 1e-9 * max(np.abs(self._coef).max(initial=0), 1)):
            raise ValueError("a q=2 expansion of a real function has real coefficients")
        return Interactions(
            self._freq.astype(bool),
            self._coef.real,
            n_features=self.n_features,
            basis="fourier",
            feature_names=self.feature_names,
            n_queries=self.n_queries,
            method=self.method,
            metadata=self.metadata,
        )

    @classmethod
    def from_binary(cls, interactions: Interactions) -> QaryInteractions:
        """A binary :class:`~interplay.Interactions` as a q = 2 expansion."""
        fourier = interactions.to_fourier()
        return cls(
            fourier.support_matrix().astype(np.int64),
            fourier.coefficients,
            n_features=fourier.n_features,
            q=2,
            feature_names=fourier.feature_names,
            n_queries=fourier.n_queries,
            method=fourier.method,
            metadata=fourier.metadata,
        )

    def allclose(self, other: QaryInteractions, *, atol: float = 1e-9) -> bool:
        """True when both have the same q, n and coefficients (within ``atol``)."""
        if self.q != other.q or self.n_features != other.n_features:
            return False
        _, diff = canonical_spectrum(
            np.concatenate([self._freq, other._freq]).astype(np.int64),
            np.concatenate([self._coef, -other._coef]),
            self.q,
        )
        return bool(np.all(np.abs(diff) <= atol))

    def __repr__(self) -> str:
        return (
            f"QaryInteractions(q={self.q}, n_features={self.n_features}, terms={len(self)}, "
            f"max_degree={int(self.degrees.max(initial=0))}, method={self.method!r}, "
            f"n_queries={self.n_queries})"
        )

    def __str__(self) -> str:
        lines = [repr(self), f"  baseline (mean) {self.baseline:+.6g}"]
        for term in self.interaction_variance()[:10]:
            lines.append(f"  variance {term.value:>10.4g}  {' × '.join(term.names)}")
        return "\n".join(lines)

    # ------------------------------------------- display (see interplay.display)
    def to_pandas(self) -> Any:
        """One row per frequency term (features, names, order, frequency, value, amplitude)."""
        from interplay.display.frames import qary_frame

        return qary_frame(self)

    def _repr_html_(self) -> str:
        from interplay.display.html import qary_html

        return qary_html(self)

    # --------------------------------------------------------------- JSON I/O
    def to_dict(self) -> dict:
        """A JSON-serialisable dict (see :meth:`from_dict`)."""
        terms = []
        for row, c in zip(self._freq, self._coef, strict=True):
            nz = np.flatnonzero(row)
            terms.append([[[int(i), int(row[i])] for i in nz], float(c.real), float(c.imag)])
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "q": self.q,
            "n_features": self.n_features,
            "feature_names": list(self.feature_names),
            "state_names": list(self.state_names),
            "method": self.method,
            "n_queries": self.n_queries,
            "metadata": self.metadata,
            "terms": terms,
        }

    @classmethod
    def from_dict(cls, data: dict, *, max_table: int = schema.TABLE_CELLS) -> QaryInteractions:
        """Rebuild from :meth:`to_dict` output, checking every field first.

        Parameters
        ----------
        data : dict
            A parsed document (untrusted: types, ranges and sizes are checked).
        max_table : int
            Largest dense frequency table (terms × n_features) the document may ask for;
            :meth:`load` allows more for longer files.

        Raises
        ------
        ValueError
            One line naming the first field that is missing, of the wrong type or out of
            range (``terms[2][0][1][1]: frequency must be in 0..3, got 4``).
        """
        data = schema.check_header(data, _FORMAT, _VERSION, "q-ary interactions")
        n = schema.read_int(schema.field(data, "n_features"), "n_features", low=1)
        q = schema.read_int(schema.field(data, "q"), "q", low=2, high=MAX_Q)
        # both name lists are in the file: checking their counts bounds n and q by its length
        names = schema.read_list(schema.field(data, "feature_names"), "feature_names")
        names = check_feature_names(names, n)
        states = schema.read_list(schema.field(data, "state_names"), "state_names")
        states = check_names(states, q, argument="state_names", of=f"states (q={q})")
        terms = schema.read_list(schema.field(data, "terms"), "terms")
        schema.check_table_size(len(terms), n, limit=max_table, name="terms")
        schema.read_tuples(terms, "terms[{}]", size=3, form="[[[position, k], ...], re, im]")
        rows = [t[0] for t in terms]
        for r, row in enumerate(rows):
            schema.read_list(row, f"terms[{r}][0]")
            schema.read_tuples(row, f"terms[{r}][0][{{}}]", size=2, form="a [position, k] pair")
        positions = [[entry[0] for entry in row] for row in rows]
        schema.read_index_rows(positions, "terms[{}][0]", high=n, what="position")
        values = [[entry[1] for entry in row] for row in rows]
        schema.read_index_rows(values, "terms[{}][0]", high=q, what="frequency", distinct=False)
        real = schema.read_numbers([t[1] for t in terms], "terms[{}][1]")
        imag = schema.read_numbers([t[2] for t in terms], "terms[{}][2]")
        result = cls(
            [dict(row) for row in rows],
            real + 1j * imag,
            n_features=n,
            q=q,
            feature_names=names,
            state_names=states,
            n_queries=schema.read_optional_int(data, "n_queries", low=0),
            method=schema.read_optional_str(data, "method"),
            metadata=schema.read_dict(data, "metadata"),
        )
        if len(result) != len(terms):
            keys = [frozenset((p, v) for p, v in row if v) for row in rows]
            raise schema.repeated_key(keys, "terms[{}]", "frequency vector")
        return result
