"""The result type every solver returns: a sparse expansion of a function of n features.

Features are binary (q = 2: a mask keeps or drops each one) or take q > 2 states. For q = 2
the expansion is in the Fourier basis ``f(m) = Σ F(k)·(−1)^⟨m,k⟩``, the Möbius basis
``f(m) = Σ_{S ⊆ m} a(S)``, or an interaction index (Shapley, Banzhaf, SII, ...). For q > 2 it
is the q-ary Fourier expansion ``f(x) = Σ_k F(k)·ω^⟨k,x⟩``, ``ω = exp(2πi/q)``, with frequency
vectors k in ``Z_q^n`` and complex coefficients; a real f has ``F(−k) = conj(F(k))``, and then
predictions are real and :meth:`Interactions.top` lists each conjugate pair once. For q = 2
the q-ary expansion is the Fourier basis (``ω = −1``, state 1 = feature kept).

Terms are stored in the one subset form of :mod:`interplay.spectral.subsets`: padded feature
indices, with the exponents ``k_i`` alongside for q > 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from interplay.spectral import schema
from interplay.spectral import subsets as sub
from interplay.spectral.documents import MAX_Q, read_document, write_document
from interplay.spectral.indices import (
    BASES,
    MOBIUS_LIKE,
    check_index_name,
    mobius_weights,
)
from interplay.spectral.jsonio import JSONDocument
from interplay.spectral.names import check_names

__all__ = ["MAX_Q", "Interactions", "Term", "check_feature_names"]


def check_feature_names(feature_names: Any, n: int) -> list[str]:
    """The n feature names (``"x0", "x1", ...`` when None).

    Raises a one-line ValueError for a wrong count, a name that is not a string or is blank,
    and a repeated name (see :func:`~interplay.spectral.names.check_names`).
    """
    if feature_names is None:
        return [f"x{i}" for i in range(n)]
    return check_names(feature_names, n, argument="feature_names", of="features")


@dataclass(frozen=True)
class Term:
    """One term of an expansion.

    Attributes
    ----------
    features : tuple of int
        The features the term involves (the support of its frequency vector).
    names : tuple of str
        Their names.
    value : float or complex
        The coefficient (complex for q > 2).
    frequency : tuple of int
        The exponents ``k_i`` at ``features`` (all 1 for binary features).
    paired : bool
        True when the conjugate term ``conj(F(k)) ω^⟨−k, x⟩`` is also in the expansion and not
        listed separately (q > 2, real functions); the pair contributes
        ``2 |F(k)| cos(2π⟨k, x⟩/q + arg F(k))``.
    """

    features: tuple[int, ...]
    names: tuple[str, ...]
    value: float | complex
    frequency: tuple[int, ...] = field(default=())
    paired: bool = False

    def __post_init__(self) -> None:
        if not self.frequency:
            object.__setattr__(self, "frequency", (1,) * len(self.features))

    @property
    def amplitude(self) -> float:
        """Largest change the term (with its conjugate, if paired) makes: 2|F| or |F|."""
        return float((2.0 if self.paired else 1.0) * abs(self.value))

    @property
    def label(self) -> str:
        """The features as text: ``a × b``, with ``^k`` for exponents other than 1."""
        if not self.names:
            return "∅ (baseline)"
        text = " × ".join(
            name if k == 1 else f"{name}^{k}"
            for name, k in zip(self.names, self.frequency, strict=True)
        )
        return text + (" (+ conjugate)" if self.paired else "")

    def __str__(self) -> str:
        value = f"{self.value:+.6g}" if isinstance(self.value, float) else f"{self.value:.6g}"
        return f"{value}  {self.label}"


def _binary_only(what: str, q: int) -> ValueError:
    return ValueError(
        f"{what} are defined for binary features (q=2); this expansion has q={q} states per "
        "feature: read it with top(), main_effects(), pairwise_effects() or "
        "interaction_variance()"
    )


def _parse_terms(subsets: Any, n: int, q: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Padded index (and, for q > 2, exponent) arrays of the constructor's ``subsets``."""
    if not isinstance(subsets, np.ndarray):
        subsets = list(subsets)
        if subsets and all(isinstance(s, Mapping) for s in subsets):
            return _from_mappings(subsets, n, q)
        if q == 2 and subsets and all(
            isinstance(s, np.ndarray) and s.dtype == bool for s in subsets
        ):
            # (n,) membership vectors: stack them into a (K, n) bool matrix
            if any(s.shape != (n,) for s in subsets):
                raise ValueError(f"boolean subsets must each have shape ({n},)")
            subsets = np.stack(subsets)
    if q == 2:
        if isinstance(subsets, np.ndarray) and subsets.dtype == bool:
            if subsets.ndim != 2 or subsets.shape[1] != n:
                raise ValueError(
                    f"subsets must be a (K, {n}) bool array, got shape {subsets.shape}"
                )
            return sub.from_bool(subsets), None
        return sub.from_lists(subsets, n), None
    freq = np.asarray(subsets) if len(subsets) else np.zeros((0, n), dtype=np.int64)
    if freq.ndim != 2 or freq.shape[1] != n:
        raise ValueError(
            f"frequency vectors must be a (K, {n}) int array (or a list of {{feature: k}} "
            f"mappings), got shape {freq.shape}"
        )
    if freq.dtype == bool or not np.issubdtype(freq.dtype, np.number):
        raise ValueError("frequency vectors must hold integers")
    if freq.size and not (np.issubdtype(freq.dtype, np.integer) or np.all(np.mod(freq, 1) == 0)):
        raise ValueError("frequency vectors must hold integers")
    return sub.from_dense(freq.astype(np.int64), q)


def _from_mappings(rows: list, n: int, q: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Terms given as ``{feature: k}`` mappings (zeros dropped, k taken mod q)."""
    features, exponents, lengths = [], [], []
    for row in rows:
        kept = 0
        for i, k in row.items():
            i, k = sub.as_index(i), int(k) % q
            if not 0 <= i < n:
                raise ValueError(f"feature {i} of a frequency vector is outside range(0, {n})")
            if k:
                features.append(i)
                exponents.append(k)
                kept += 1
        lengths.append(kept)
    idx, exps = sub.from_flat(np.array(features, dtype=np.int64), np.array(lengths), n,
                              np.array(exponents, dtype=np.int64))
    return idx, None if q == 2 else exps


class Interactions(JSONDocument):
    """A sparse expansion of a function of n features with q states each.

    Parameters
    ----------
    subsets : see below
        The terms with a non-zero coefficient. For q = 2: a (K, n) bool array, or a
        sequence of index collections (the feature subsets). For q > 2: a (K, n) int array
        of frequency vectors (entries taken mod q). For any q: a sequence of mappings
        ``{feature: k}``.
    coefficients : (K,) float array (complex for q > 2)
        One coefficient per term. Repeated terms are summed.
    n_features : int
        Number of features n.
    q : int, default 2
        States of each feature (2: binary features, masks).
    basis : str
        ``"fourier"`` (f(m) = Σ F(k)·(−1)^⟨m,k⟩; for q > 2 the only basis), ``"mobius"``
        (f(m) = Σ_{S ⊆ m} a(S)), or the name of an index (``"shapley"``, ``"banzhaf"``,
        ``"SII"``, ``"BII"``, ``"STII"``, ``"FSII"``, ``"FBII"``).
    feature_names : sequence of str, optional
        Names used in printing and ``top``; defaults to ``"x0", "x1", ...``.
    state_names : sequence of str, optional
        Names of the q states (e.g. ``"ACGU"``); defaults to ``"0", "1", ...``.
    n_queries : int, optional
        Number of value-function queries spent to produce this result.
    method : str, optional
        The method that produced it.
    order : int, optional
        For index bases, the order the index was computed at.
    metadata : dict, optional
        JSON-serialisable extras (solver settings, timings).

    Notes
    -----
    A mask ``m`` (bool, shape (n,)) keeps feature i when ``m[i]`` is True. Möbius
    coefficients and interaction indices are defined for q = 2 only: for q > 2 they raise a
    ValueError.
    """

    def __init__(
        self,
        subsets: Any,
        coefficients: Any,
        *,
        n_features: int,
        q: int = 2,
        basis: str = "fourier",
        feature_names: Any = None,
        state_names: Any = None,
        n_queries: int | None = None,
        method: str | None = None,
        order: int | None = None,
        metadata: dict | None = None,
    ) -> None:
        self._set_attributes(n_features, q, basis, feature_names, state_names, n_queries,
                             method, order, metadata)
        coef = self._checked_coefficients(coefficients)
        idx, exps = _parse_terms(subsets, self.n_features, self.q)
        if idx.shape[0] != coef.shape[0]:
            what = "subsets" if self.q == 2 else "frequency vectors"
            raise ValueError(f"{idx.shape[0]} {what} but {coef.shape[0]} coefficients were given")
        self._store(idx, exps, coef)

    def _set_attributes(
        self, n_features: Any, q: Any, basis: Any, feature_names: Any, state_names: Any,
        n_queries: Any, method: Any, order: Any, metadata: Any,
    ) -> None:
        n, q = int(n_features), int(q)
        if n < 1:
            raise ValueError(f"n_features must be positive, got {n_features}")
        if not 2 <= q <= MAX_Q:
            raise ValueError(f"q must be at least 2 and at most {MAX_Q}, got {q}")
        if basis not in BASES:
            raise ValueError(f"unknown basis {basis!r}; valid: {', '.join(BASES)}")
        if q > 2 and basis != "fourier":
            raise _binary_only(f"the {basis!r} basis and interaction indices", q)
        self.n_features = n
        self.q = q
        self.basis = basis
        self.feature_names = check_feature_names(feature_names, n)
        if state_names is None:
            state_names = [str(a) for a in range(q)]
        self.state_names = check_names(
            state_names, q, argument="state_names", of=f"states (q={q})"
        )
        self.n_queries = None if n_queries is None else int(n_queries)
        self.method = method
        self.order = None if order is None else int(order)
        self.metadata = dict(metadata or {})

    def _checked_coefficients(self, coefficients: Any) -> np.ndarray:
        coef = np.asarray(coefficients).ravel()
        if not np.issubdtype(coef.dtype, np.number) and coef.size:
            raise ValueError("coefficients must be numbers")
        if self.q == 2:
            if np.iscomplexobj(coef):
                if np.any(coef.imag != 0):
                    raise ValueError(
                        "a binary (q=2) expansion has real coefficients; complex-valued "
                        "functions are expanded on Z_q with q > 2"
                    )
                coef = coef.real
            coef = coef.astype(np.float64)
        else:
            coef = coef.astype(np.complex128)
        if not np.all(np.isfinite(coef)):
            raise ValueError("coefficients must be finite")
        return coef

    def _store(
        self, idx: np.ndarray, exps: np.ndarray | None, coef: np.ndarray, *, tol: float | None = None
    ) -> None:
        """Keep the terms in canonical order (repeats summed; ``tol``: drop |c| <= tol)."""
        with np.errstate(over="ignore", invalid="ignore"):
            self._idx, exps, self._coef = sub.canonical_terms(
                idx, None if self.q == 2 else exps, coef, self.n_features,
                drop_zeros=tol is not None, tol=tol or 0.0,
            )
        if not np.all(np.isfinite(self._coef)):
            raise ValueError("coefficients of a repeated term add up beyond the float range")
        self._exp = (self._idx < self.n_features).astype(np.int64) if exps is None else exps

    @classmethod
    def from_arrays(
        cls,
        index: Any,
        coefficients: Any,
        *,
        n_features: int,
        exponents: Any = None,
        **attributes: Any,
    ) -> Interactions:
        """Build an expansion from padded index arrays, without a dense (K, n) matrix.

        Parameters
        ----------
        index : (K, d) int array
            Row k lists the features of term k, padded on the right with ``n_features``
            (any order within a row; repeated terms are summed).
        coefficients : (K,) float array (complex for q > 2)
            The coefficient of each row.
        n_features : int
            Number of features n.
        exponents : (K, d) int array, optional
            For q > 2, ``k_i`` of each listed feature (taken mod q; the padding is ignored);
            1 everywhere when None.
        **attributes
            ``q``, ``basis``, ``feature_names``, ``state_names``, ``n_queries``, ``method``,
            ``order``, ``metadata``: as for the constructor (checked by it).

        Notes
        -----
        Coefficients that cancel to rounding dust (relative to the largest) are dropped.
        """
        out = cls([], [], n_features=n_features, **attributes)
        n = out.n_features
        index = np.asarray(index)
        coef = out._checked_coefficients(coefficients)
        if index.ndim != 2 or not np.issubdtype(index.dtype, np.integer):
            raise ValueError(f"index must be a (K, d) int array, got shape {index.shape}")
        if index.shape[0] != coef.shape[0]:
            raise ValueError(f"index has {index.shape[0]} rows but {coef.shape[0]} coefficients")
        if index.size and (index.min() < 0 or index.max() > n):
            raise ValueError(f"index entries must lie in range(0, {n + 1}) ({n} pads a row)")
        index = index.astype(np.int64)
        if exponents is None:
            exps = (index < n).astype(np.int64)
        else:
            exps = np.asarray(exponents)
            if exps.shape != index.shape or not np.issubdtype(exps.dtype, np.integer):
                raise ValueError(f"exponents must be a {index.shape} int array like index")
            exps = np.where(index < n, exps.astype(np.int64) % out.q, 0)
        # a zero exponent leaves the feature out; then sort each row by feature
        index = np.where(exps != 0, index, n)
        order = np.argsort(index, axis=1, kind="stable")
        index = np.take_along_axis(index, order, axis=1)
        exps = np.take_along_axis(exps, order, axis=1)
        if index.shape[1] == 0:
            index = np.full((index.shape[0], 1), n, dtype=np.int64)
            exps = np.zeros_like(index)
        out._store(index, exps, coef, tol=1e-12 * float(np.abs(coef).max(initial=0.0)))
        return out

    def index_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The terms as padded arrays (copies), the form :meth:`from_arrays` takes.

        Returns
        -------
        index : (K, d) int64 array
            Features of each term, ascending, padded with ``n_features``.
        exponents : (K, d) int64 array
            ``k_i`` of each listed feature (1 for q = 2), 0 in the padding.
        """
        return self._idx.copy(), self._exp.copy()

    def _like(
        self, idx: np.ndarray, coef: np.ndarray, basis: str, order: int | None = None,
        exps: np.ndarray | None = None,
    ) -> Interactions:
        out = Interactions.__new__(Interactions)
        out._set_attributes(self.n_features, self.q, basis, self.feature_names,
                            self.state_names, self.n_queries, self.method, order, self.metadata)
        # Conversions cancel terms exactly in exact arithmetic; drop the rounding dust
        # (relative to the terms that were combined) so cancelled terms do not reappear.
        out._store(idx, exps, coef, tol=1e-12 * float(np.abs(coef).max(initial=0.0)))
        return out

    def scaled(self, factor: float) -> Interactions:
        """The expansion of ``factor · f``: the same terms (zeros included), names, counts and
        metadata."""
        out = Interactions.__new__(Interactions)
        out._set_attributes(self.n_features, self.q, self.basis, self.feature_names,
                            self.state_names, self.n_queries, self.method, self.order,
                            self.metadata)
        with np.errstate(over="ignore"):
            coef = self._coef * factor
        if not np.all(np.isfinite(coef)):
            raise ValueError(f"scaling by {factor} takes a coefficient beyond the float range")
        out._idx, out._exp, out._coef = self._idx.copy(), self._exp.copy(), coef
        return out

    # ------------------------------------------------------------------ access
    @property
    def coefficients(self) -> np.ndarray:
        """(K,) array of coefficients (float; complex for q > 2), aligned with the terms."""
        return self._coef.copy()

    @property
    def subsets(self) -> list[tuple[int, ...]]:
        """The K feature subsets (supports of the terms) as sorted tuples of indices."""
        return sub.to_lists(self._idx, self.n_features)

    @property
    def frequencies(self) -> np.ndarray:
        """(K, n) int array of frequency vectors (0/1 memberships for q = 2)."""
        return sub.to_dense(self._idx, self._exp, self.n_features)

    @property
    def degrees(self) -> np.ndarray:
        """(K,) int array: size of each subset (Hamming weight of each frequency)."""
        return sub.sizes(self._idx, self.n_features)

    def support_matrix(self) -> np.ndarray:
        """(K, n) bool membership matrix of the subsets."""
        return sub.to_bool(self._idx, self.n_features)

    def __len__(self) -> int:
        return int(self._coef.shape[0])

    def __getitem__(self, key: Any) -> float | complex:
        """Coefficient of one term; 0 if absent.

        ``key`` is a subset (a tuple, list or set of feature indices or names: every exponent
        1), a mapping ``{feature: k}`` (a frequency vector by its entries), or an (n,) numpy
        array: a frequency vector (bool: the membership vector of a subset).
        """
        if isinstance(key, np.ndarray):
            if key.shape != (self.n_features,) or key.dtype.kind not in "biu":
                raise KeyError(
                    f"an array key is a frequency vector of shape ({self.n_features},); give "
                    "feature indices as a tuple"
                )
            key = {int(i): int(key[i]) for i in np.flatnonzero(key)}
        if isinstance(key, Mapping):
            pairs = {self._feature_index(x): int(k) % self.q for x, k in key.items()}
        else:
            if isinstance(key, (int, np.integer, str)):
                key = (key,)
            pairs = {self._feature_index(x): 1 for x in key}
        wanted = sorted((i, k) for i, k in pairs.items() if k)
        width = self._idx.shape[1]
        zero = 0.0 if self.q == 2 else 0j
        if len(wanted) > width:
            return zero
        row = np.full(width, self.n_features)
        ks = np.zeros(width, dtype=np.int64)
        row[: len(wanted)] = [i for i, _ in wanted]
        ks[: len(wanted)] = [k for _, k in wanted]
        hit = np.flatnonzero((self._idx == row).all(axis=1) & (self._exp == ks).all(axis=1))
        if not hit.size:
            return zero
        value = self._coef[hit[0]]
        return float(value) if self.q == 2 else complex(value)

    def _feature_index(self, x: Any) -> int:
        if isinstance(x, (bool, np.bool_)):
            raise KeyError("features are given by index or name, not by a bool")
        if isinstance(x, str):
            try:
                return self.feature_names.index(x)
            except ValueError:
                raise KeyError(f"no feature named {x!r}") from None
        i = int(x)
        if not 0 <= i < self.n_features:
            raise KeyError(f"feature index {i} outside range(0, {self.n_features})")
        return i

    def _keys(self) -> np.ndarray:
        """(K, 2d) rows identifying each term: features, then exponents."""
        return np.concatenate([self._idx, self._exp], axis=1)

    def _negated_rows(self) -> np.ndarray:
        """Row index of −k for every term k (−1 when −k is absent)."""
        own = self._keys()
        d = self._idx.shape[1]
        neg = own.copy()
        neg[:, d:] = (-neg[:, d:]) % self.q
        _, inverse = np.unique(np.concatenate([own, neg]), axis=0, return_inverse=True)
        inverse = inverse.ravel()
        k = own.shape[0]
        slot = np.full(inverse.max(initial=-1) + 1, -1)
        slot[inverse[:k]] = np.arange(k)
        return slot[inverse[k:]]

    def is_conjugate_symmetric(self, *, rtol: float = 1e-9) -> bool:
        """True when ``F(−k) = conj(F(k))`` for every term k: the function is real.

        Always True for q = 2 (real coefficients, ``−k = k``).
        """
        if self.q == 2 or not len(self):
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
    def baseline(self) -> float | complex:
        """Coefficient of the empty set: f(∅) in the Möbius basis, the mean of f in the
        Fourier basis (complex for a complex-valued q-ary function)."""
        value = self[()]
        return float(np.real(value)) if self.is_real else value

    def variance(self) -> float:
        """Variance of f over uniformly random states (Parseval): Σ |F(k)|², k ≠ 0."""
        fourier = self.to_fourier()
        return float(np.sum(np.abs(fourier._coef[fourier.degrees > 0]) ** 2))

    # -------------------------------------------------------------- prediction
    def predict(self, masks: Any) -> np.ndarray:
        """Evaluate the expansion.

        Parameters
        ----------
        masks : (N, n) array, or (n,) for a single input
            For q = 2 bool masks (or 0/1): True keeps a feature. For q > 2 int states in
            ``0..q-1``.

        Returns
        -------
        (N,) float array (complex for a q-ary spectrum that is not conjugate-symmetric);
        a scalar for a single input.
        """
        if self.basis != "fourier" and self.basis not in MOBIUS_LIKE:
            raise ValueError(
                f"a {self.basis} index is not an additive model and cannot predict; "
                "convert the fourier or mobius expansion instead"
            )
        masks = np.asarray(masks)
        shape = masks.shape
        single = masks.ndim == 1
        masks = np.atleast_2d(masks)
        if masks.ndim != 2 or masks.shape[1] != self.n_features:
            raise ValueError(
                f"masks must have shape (N, {self.n_features}) or ({self.n_features},), got {shape}"
            )
        q = self.q
        if masks.dtype == bool:
            masks = masks.astype(np.int64) if q > 2 else masks
        elif not np.issubdtype(masks.dtype, np.number) or (
            masks.size and not np.isin(masks, np.arange(q)).all()
        ):
            what = "boolean (or 0/1) arrays" if q == 2 else f"integers in 0..{q - 1}"
            raise ValueError(f"masks must be {what}")
        masks = masks.astype(bool) if q == 2 else masks.astype(np.int64)
        real = self.is_real
        out = np.empty(masks.shape[0], dtype=np.float64 if real else np.complex128)
        n, idx = self.n_features, self._idx  # (K, d), padded with the sentinel n
        coef = self._coef.real if real and q > 2 else self._coef
        roots = np.exp(2j * np.pi * np.arange(q) / q)
        # Gather the d member states of every term (O(N·K·d), far cheaper than an (N, n) @
        # (n, K) product for sparse low-degree expansions); rows in chunks of ~16 MiB.
        step = max(1, (2**24 if q == 2 else 2**21) // max(idx.size, 1))
        for start in range(0, masks.shape[0], step):
            chunk = masks[start : start + step]
            padded = np.zeros((chunk.shape[0], n + 1), dtype=chunk.dtype)
            padded[:, :n] = chunk
            if q == 2:
                padded[:, n] = self.basis != "fourier"  # the sentinel: no flip / always kept
            bits = padded[:, idx]  # (rows, K, d)
            if q > 2:
                phase = np.einsum("rkd,kd->rk", bits, self._exp) % q
                values = roots[phase] @ self._coef
                out[start : start + step] = values.real if real else values
            elif self.basis == "fourier":
                parity = np.bitwise_xor.reduce(bits, axis=2)
                out[start : start + step] = (1.0 - 2.0 * parity) @ coef
            else:
                out[start : start + step] = bits.all(axis=2) @ coef
        return out[0].item() if single else out

    # -------------------------------------------------------------- conversions
    def to_mobius(self) -> Interactions:
        """The same function in the Möbius basis: f(m) = Σ_{S ⊆ m} a(S) (q = 2 only)."""
        if self.q > 2:
            raise _binary_only("Möbius coefficients", self.q)
        if self.basis == "mobius":
            return self
        if self.basis != "fourier":
            raise ValueError(f"cannot convert a {self.basis} index back to the Möbius basis")
        n = self.n_features
        t_idx, parent, _, t_size = sub.expand_subsets(self._idx, n)
        values = self._coef[parent] * (-2.0) ** t_size
        return self._like(t_idx, values, "mobius")

    def to_fourier(self) -> Interactions:
        """The same function in the Fourier basis: f(m) = Σ F(k)·(−1)^⟨m,k⟩."""
        if self.basis == "fourier":
            return self
        if self.basis != "mobius":
            raise ValueError(f"cannot convert a {self.basis} index to the Fourier basis")
        n = self.n_features
        k_idx, parent, s_size, k_size = sub.expand_subsets(self._idx, n)
        values = self._coef[parent] * 0.5**s_size * (-1.0) ** k_size
        return self._like(k_idx, values, "fourier")

    def truncate(self, max_order: int) -> Interactions:
        """Drop every term of degree above ``max_order`` (in the current basis)."""
        keep = self.degrees <= max_order
        return self._like(self._idx[keep], self._coef[keep], self.basis, self.order,
                          self._exp[keep])

    def index(self, name: str, order: int = 2) -> Interactions:
        """An interaction index of order ``order`` (``shapley``/``banzhaf`` are order 1).

        Parameters
        ----------
        name : {"shapley", "banzhaf", "SII", "BII", "STII", "FSII", "FBII"}
        order : int
            Largest interaction size reported.

        Returns
        -------
        Interactions
            In the basis named ``name``. Subsets of size ≤ ``order`` that are contained in
            some support of the function are reported.

        Raises
        ------
        ValueError
            For q > 2: the indices are defined for binary features.
        """
        if self.q > 2:
            raise _binary_only("interaction indices", self.q)
        name = check_index_name(name)
        if name in ("shapley", "banzhaf"):
            order = 1
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        if name == "FBII":
            faithful = self.to_fourier().truncate(order).to_mobius()
            return self._like(faithful._idx, faithful._coef, "FBII", order)
        mobius = self.to_mobius()
        t_idx, parent, s_size, t_size = sub.expand_subsets(
            mobius._idx, self.n_features, max_size=order
        )
        values = mobius._coef[parent] * mobius_weights(name, s_size, t_size, order)
        return self._like(t_idx, values, name, order)

    def shapley_values(self) -> np.ndarray:
        """(n,) array of Shapley values (q = 2)."""
        return self._first_order("shapley")

    def banzhaf_values(self) -> np.ndarray:
        """(n,) array of Banzhaf values (q = 2)."""
        return self._first_order("banzhaf")

    def _first_order(self, name: str) -> np.ndarray:
        values = self.index(name)
        out = np.zeros(self.n_features)
        single = values.degrees == 1
        out[values._idx[single, 0]] = values._coef[single]
        return out

    # ----------------------------------------------- effects (Fourier, any q)
    def interaction_variance(self, *, max_order: int | None = None) -> list[Term]:
        """Variance carried by each set of features, largest first.

        The interaction on a set S is ``g_S(x_S) = Σ_{k : supp(k) = S} F(k) ω^⟨k, x⟩``; its
        variance over uniform states is ``Σ |F(k)|²`` over those k (the functional-ANOVA
        decomposition of f). The values sum to :meth:`variance`.

        Returns
        -------
        list of Term
            ``value`` is the variance of ``g_S``.
        """
        fourier = self.to_fourier()
        degrees = fourier.degrees
        keep = degrees > 0
        if max_order is not None:
            keep &= degrees <= max_order
        if not keep.any():
            return []
        energy = np.abs(fourier._coef[keep]) ** 2
        uniq, inverse = np.unique(fourier._idx[keep], axis=0, return_inverse=True)
        total = np.zeros(uniq.shape[0])
        np.add.at(total, inverse.ravel(), energy)
        out = []
        for r in np.argsort(-total, kind="stable"):
            feats = tuple(int(i) for i in uniq[r] if i < self.n_features)
            out.append(Term(feats, tuple(self.feature_names[i] for i in feats), float(total[r])))
        return out

    def main_effects(self) -> np.ndarray:
        """First-order effect of each feature's states.

        Returns
        -------
        (n, q) float array (complex for a complex-valued function)
            ``E[i, a] = g_{i}(a) = Σ_{k : supp(k) = {i}} F(k) ω^(k_i a)``: how much setting
            feature i to state a moves f above its mean, averaging over all other features.
            Each row sums to zero.
        """
        fourier = self.to_fourier()
        q = self.q
        out = np.zeros((self.n_features, q), dtype=np.complex128)
        rows = np.flatnonzero(fourier.degrees == 1)
        pos, kval = fourier._idx[rows, 0], fourier._exp[rows, 0]
        roots = np.exp(2j * np.pi * np.outer(kval, np.arange(q)) / q)  # (R, q)
        np.add.at(out, pos, fourier._coef[rows, None] * roots)
        return out.real if self.is_real else out

    def pairwise_effects(self) -> dict[tuple[int, int], np.ndarray]:
        """Pure pairwise effect tables of every pair of features that interacts.

        Returns
        -------
        dict mapping ``(i, j)`` (i < j) to a (q, q) float array
            ``P[a, b] = g_{ij}(a, b) = Σ_{k : supp(k) = {i, j}} F(k) ω^(k_i a + k_j b)``:
            the joint effect of states (a, b) beyond the two main effects. Rows and columns
            sum to zero.
        """
        fourier = self.to_fourier()
        q = self.q
        rows = np.flatnonzero(fourier.degrees == 2)
        if not rows.size:
            return {}
        pair = fourier._idx[rows, :2]
        ki, kj = fourier._exp[rows, 0], fourier._exp[rows, 1]
        a = np.arange(q)
        phase = ki[:, None, None] * a[None, :, None] + kj[:, None, None] * a[None, None, :]
        tables = fourier._coef[rows, None, None] * np.exp(2j * np.pi * (phase % q) / q)
        pairs, inverse = np.unique(pair, axis=0, return_inverse=True)
        summed = np.zeros((pairs.shape[0], q, q), dtype=np.complex128)
        np.add.at(summed, inverse.ravel(), tables)
        real = self.is_real
        return {
            (int(i), int(j)): (t.real if real else t)
            for (i, j), t in zip(pairs, summed, strict=True)
        }

    def pairwise_effect(self, i: int, j: int) -> np.ndarray:
        """(q, q) pure pairwise effect table of features ``i`` and ``j`` (zeros if none)."""
        i, j = int(i), int(j)
        if i == j or not (0 <= i < self.n_features and 0 <= j < self.n_features):
            raise ValueError(f"need two different features in range(0, {self.n_features})")
        table = self.pairwise_effects().get((min(i, j), max(i, j)))
        if table is None:
            return np.zeros((self.q, self.q))
        return table if i < j else table.T

    # ------------------------------------------------------------------ reading
    def top(self, k: int = 10, *, include_empty: bool = False, min_order: int = 0) -> list[Term]:
        """The ``k`` terms of largest amplitude, with feature names.

        Parameters
        ----------
        k : int
            Number of terms (fewer when there are fewer).
        include_empty : bool
            Whether the empty set (the baseline) may be listed.
        min_order : int
            Smallest interaction size listed.

        Returns
        -------
        list of Term
            By decreasing :attr:`Term.amplitude` (``|value|``; ``2|value|`` for a conjugate
            pair of a real q-ary function, listed once as the member whose first exponent is
            smaller); ties keep the canonical order (size, then features, then exponents).
        """
        if int(k) < 0:
            raise ValueError(f"k must be non-negative, got {k}")
        rows = np.arange(len(self))
        paired = np.zeros(len(self), dtype=bool)
        if self.q > 2 and len(self) and self.is_real:
            partner = self._negated_rows()
            paired = (partner >= 0) & (partner != rows)
            lead = self._exp[:, 0]
            neg_lead = (-lead) % self.q
            keep = ~paired | (lead < neg_lead) | ((lead == neg_lead) & (rows < partner))
            rows = rows[keep]
        rows = rows[self.degrees[rows] >= max(min_order, 0 if include_empty else 1)]
        amplitude = np.abs(self._coef[rows]) * np.where(paired[rows], 2.0, 1.0)
        rows = rows[np.argsort(-amplitude, kind="stable")][: int(k)]
        terms = []
        for r in rows:
            size = int(self.degrees[r])
            feats = tuple(int(i) for i in self._idx[r, :size])
            value = float(self._coef[r]) if self.q == 2 else complex(self._coef[r])
            terms.append(Term(
                feats, tuple(self.feature_names[i] for i in feats), value,
                tuple(int(x) for x in self._exp[r, :size]), bool(paired[r]),
            ))
        return terms

    def __repr__(self) -> str:
        max_deg = int(self.degrees.max(initial=0))
        output = self.metadata.get("output")  # what was explained, when explain_text knows
        states = f"q={self.q}, " if self.q > 2 else ""
        return (
            f"Interactions({states}basis={self.basis!r}, n_features={self.n_features}, "
            f"terms={len(self)}, max_degree={max_deg}, method={self.method!r}, "
            f"n_queries={self.n_queries}"
            + (f", output={output!r})" if isinstance(output, str) else ")")
        )

    def __str__(self) -> str:
        lines = [repr(self)]
        if not len(self):
            return lines[0]
        if self.q > 2:  # q-ary terms read best as the variance of each set of features
            lines.append(f"  baseline (mean) {self.baseline:+.6g}")
            for term in self.interaction_variance()[:10]:
                lines.append(f"  variance {term.value:>10.4g}  {term.label}")
            return "\n".join(lines)
        lines.append(f"  {'coefficient':>12}  interaction")
        lines.append(f"  {self.baseline:>+12.6g}  ∅ (baseline)")
        for term in self.top(10):
            lines.append(f"  {term.value:>+12.6g}  {term.label}")
        if len(self) > 11:
            lines.append(f"  … {len(self) - 11} more terms")
        return "\n".join(lines)

    # ------------------------------------------- display (see interplay.display)
    def to_pandas(self, index: str | None = None, order: int | None = None) -> Any:
        """One row per term (features, names, order, value, index); default Möbius basis
        (q > 2: the Fourier terms, with frequency, amplitude and paired columns)."""
        from interplay.display.frames import interactions_frame

        return interactions_frame(self, index, order)

    def _repr_html_(self) -> str:
        from interplay.display.html import interactions_html

        return interactions_html(self)

    def plot_network(self, **kwargs: Any) -> Any:
        """The strongest interactions as a network (see :func:`interplay.display.plot_network`)."""
        from interplay.display.plots import plot_network

        return plot_network(self, **kwargs)

    def plot_waterfall(self, **kwargs: Any) -> Any:
        """The top terms added up (see :func:`interplay.display.plot_waterfall`)."""
        from interplay.display.plots import plot_waterfall

        return plot_waterfall(self, **kwargs)

    def plot_text(self, **kwargs: Any) -> Any:
        """The input text coloured by feature (see :func:`interplay.display.plot_text`)."""
        from interplay.display.plots import plot_text

        return plot_text(self, **kwargs)

    def plot_image(self, features: Any, **kwargs: Any) -> Any:
        """Effects over an image's regions (see :func:`interplay.report.image_plot.plot_image`)."""
        from interplay.report.image_plot import plot_image

        return plot_image(self, features, **kwargs)

    def to_shapiq(self, index: str | None = None, order: int | None = None) -> Any:
        """A ``shapiq.InteractionValues`` (see :func:`interplay.display.to_shapiq`)."""
        from interplay.display.shapiq_io import to_shapiq

        return to_shapiq(self, index, order)

    @classmethod
    def from_shapiq(cls, values: Any, **kwargs: Any) -> Interactions:
        """From a ``shapiq.InteractionValues`` (see :func:`interplay.display.from_shapiq`)."""
        from interplay.display.shapiq_io import from_shapiq

        return from_shapiq(values, **kwargs)

    # --------------------------------------------------------------- JSON I/O
    def to_dict(self) -> dict:
        """A JSON-serialisable dict (see :mod:`interplay.spectral.documents`)."""
        return write_document(self)

    @classmethod
    def from_dict(cls, data: dict, *, max_table: int = schema.TABLE_CELLS) -> Interactions:
        """Rebuild from :meth:`to_dict` output (or a q-ary file of an earlier release),
        checking every field first.

        Parameters
        ----------
        data : dict
            A parsed document (untrusted: types, ranges and sizes are checked).
        max_table : int
            Largest padded table (terms × largest subset) the document may ask for;
            :meth:`load` allows more for longer files.

        Raises
        ------
        ValueError
            One line naming the first field that is missing, of the wrong type or out of
            range (``terms[3][0]: feature must be in 0..4, got 7``).
        """
        document = read_document(data, max_table=max_table)
        out = cls.__new__(cls)
        out._set_attributes(**document.attributes)
        out._store(document.idx, document.exps, out._checked_coefficients(document.coefficients))
        if len(out) != document.idx.shape[0]:
            what = "subset" if document.exps is None else "frequency vector"
            raise schema.repeated_key(document.term_keys(), "terms[{}]", what)
        return out

    # ------------------------------------------------------------- arithmetic
    def allclose(self, other: Interactions, *, atol: float = 1e-9) -> bool:
        """True when both describe the same coefficients in the same basis and alphabet."""
        if (self.basis, self.n_features, self.q) != (other.basis, other.n_features, other.q):
            return False
        mine, theirs = self.align(other)
        return bool(np.all(np.abs(mine - theirs) <= atol))

    def align(
        self, other: Interactions, *, include_empty: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients of both expansions on the union of their terms.

        Parameters
        ----------
        other : Interactions
            An expansion over the same features, states and basis.
        include_empty : bool, default True
            Keep the empty subset (the constant term) in the union.

        Returns
        -------
        mine, theirs : (U,) float arrays (complex for q > 2)
            ``mine[u]`` and ``theirs[u]`` are the two coefficients of the u-th term of the
            union (0 where an expansion lacks it), in one fixed order.
        """
        if self.n_features != other.n_features:
            raise ValueError(
                f"cannot align expansions over {self.n_features} and {other.n_features} features"
            )
        if self.q != other.q:
            raise ValueError(f"cannot align expansions over q={self.q} and q={other.q} states")
        if self.basis != other.basis:
            raise ValueError(
                f"cannot align a {self.basis!r} expansion with a {other.basis!r} one; "
                "convert one first (to_fourier() or to_mobius())"
            )
        n = self.n_features
        width = max(self._idx.shape[1], other._idx.shape[1])
        idx = np.concatenate(
            [sub.pad_to_width(self._idx, n, width), sub.pad_to_width(other._idx, n, width)]
        )
        exps = np.concatenate(  # exponents are padded with 0
            [sub.pad_to_width(self._exp, 0, width), sub.pad_to_width(other._exp, 0, width)]
        )
        which = np.repeat([0, 1], [len(self), len(other)])
        keys = np.concatenate([idx, exps], axis=1)
        union, inverse = np.unique(keys, axis=0, return_inverse=True)
        both = np.zeros((2, union.shape[0]), dtype=self._coef.dtype)
        np.add.at(both, (which, inverse.ravel()), np.concatenate([self._coef, other._coef]))
        if not include_empty:
            both = both[:, (union[:, :width] < n).any(axis=1)]
        return both[0], both[1]
