"""The result type every solver returns: a sparse set of (feature subset, coefficient) pairs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from interplay.spectral import schema
from interplay.spectral import subsets as sub
from interplay.spectral.indices import (
    BASES,
    MOBIUS_LIKE,
    check_index_name,
    mobius_weights,
)
from interplay.spectral.jsonio import JSONDocument
from interplay.spectral.names import check_names

__all__ = ["Interactions", "Term", "check_feature_names"]

_FORMAT = "interplay.interactions"
_VERSION = 1


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
    """One interaction: feature indices, their names and the coefficient."""

    features: tuple[int, ...]
    names: tuple[str, ...]
    value: float

    def __str__(self) -> str:
        label = " × ".join(self.names) if self.names else "∅ (baseline)"
        return f"{self.value:+.6g}  {label}"


class Interactions(JSONDocument):
    """A sparse expansion of a function of n binary features.

    Parameters
    ----------
    subsets : (K, n) bool array, or sequence of index collections
        The feature subsets (interactions) with non-zero coefficient.
    coefficients : (K,) float array
        One coefficient per subset. Duplicated subsets are summed.
    n_features : int
        Number of features n.
    basis : str
        ``"fourier"`` (f(m) = Σ F(k)·(−1)^⟨m,k⟩), ``"mobius"`` (f(m) = Σ_{S ⊆ m} a(S)),
        or the name of an index (``"shapley"``, ``"banzhaf"``, ``"SII"``, ``"BII"``,
        ``"STII"``, ``"FSII"``, ``"FBII"``).
    feature_names : sequence of str, optional
        Names used in printing and ``top``; defaults to ``"x0", "x1", ...``.
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
    A mask ``m`` (bool, shape (n,)) keeps feature i when ``m[i]`` is True.
    """

    def __init__(
        self,
        subsets: Any,
        coefficients: Any,
        *,
        n_features: int,
        basis: str = "fourier",
        feature_names: Any = None,
        n_queries: int | None = None,
        method: str | None = None,
        order: int | None = None,
        metadata: dict | None = None,
    ) -> None:
        if basis not in BASES:
            raise ValueError(f"unknown basis {basis!r}; valid: {', '.join(BASES)}")
        n = int(n_features)
        if n < 1:
            raise ValueError(f"n_features must be positive, got {n_features}")
        coefficients = np.asarray(coefficients, dtype=np.float64).ravel()
        if not isinstance(subsets, np.ndarray):
            subsets = list(subsets)
            if subsets and all(isinstance(s, np.ndarray) and s.dtype == bool for s in subsets):
                # (n,) membership vectors: stack them into a (K, n) bool matrix
                if any(s.shape != (n,) for s in subsets):
                    raise ValueError(f"boolean subsets must each have shape ({n},)")
                subsets = np.stack(subsets)
        if isinstance(subsets, np.ndarray) and subsets.dtype == bool:
            if subsets.ndim != 2 or subsets.shape[1] != n:
                raise ValueError(
                    f"subsets must be a (K, {n}) bool array, got shape {subsets.shape}"
                )
            idx = sub.from_bool(subsets)
        else:
            idx = sub.from_lists(subsets, n)
        if idx.shape[0] != coefficients.shape[0]:
            raise ValueError(
                f"{idx.shape[0]} subsets but {coefficients.shape[0]} coefficients were given"
            )
        if not np.all(np.isfinite(coefficients)):
            raise ValueError("coefficients must be finite")
        with np.errstate(over="ignore"):
            self._idx, self._coef = sub.canonical_sum(idx, coefficients, n)
        if not np.all(np.isfinite(self._coef)):
            raise ValueError("coefficients of a repeated subset add up beyond the float range")
        self.n_features = n
        self.basis = basis
        self.feature_names = check_feature_names(feature_names, n)
        self.n_queries = None if n_queries is None else int(n_queries)
        self.method = method
        self.order = None if order is None else int(order)
        self.metadata = dict(metadata or {})

    @classmethod
    def from_arrays(
        cls,
        index: Any,
        coefficients: Any,
        *,
        n_features: int,
        basis: str = "fourier",
        **kwargs: Any,
    ) -> Interactions:
        """Build an expansion from a padded index array, without a dense (K, n) matrix.

        Parameters
        ----------
        index : (K, d) int array
            Row k lists the features of subset k, padded on the right with ``n_features``
            (any order within a row; repeated subsets are summed).
        coefficients : (K,) float array
            The coefficient of each row.
        n_features : int
            Number of features n.
        basis : str, default "fourier"
            As for the constructor.
        **kwargs
            ``feature_names``, ``n_queries``, ``method``, ``order``, ``metadata``, as for the
            constructor.

        Notes
        -----
        Coefficients that cancel to rounding dust (relative to the largest) are dropped.
        """
        template = cls([()], [0.0], n_features=n_features, basis=basis, **kwargs)
        index = np.asarray(index)
        coefficients = np.asarray(coefficients, dtype=np.float64).ravel()
        n = template.n_features
        if index.ndim != 2 or not np.issubdtype(index.dtype, np.integer):
            raise ValueError(f"index must be a (K, d) int array, got shape {index.shape}")
        if index.shape[0] != coefficients.shape[0]:
            raise ValueError(
                f"index has {index.shape[0]} rows but {coefficients.shape[0]} coefficients"
            )
        if index.size and (index.min() < 0 or index.max() > n):
            raise ValueError(f"index entries must lie in range(0, {n + 1}) ({n} pads a row)")
        if not np.all(np.isfinite(coefficients)):
            raise ValueError("coefficients must be finite")
        index = np.sort(index.astype(np.int64), axis=1)
        if index.shape[1] == 0:
            index = np.full((index.shape[0], 1), n, dtype=np.int64)
        return template._like(index, coefficients, basis, template.order)

    # ------------------------------------------------------------------ access
    @property
    def coefficients(self) -> np.ndarray:
        """(K,) float array of coefficients, aligned with :attr:`subsets`."""
        return self._coef.copy()

    @property
    def subsets(self) -> list[tuple[int, ...]]:
        """The K feature subsets as sorted tuples of indices."""
        return sub.to_lists(self._idx, self.n_features)

    @property
    def degrees(self) -> np.ndarray:
        """(K,) int array: size of each subset."""
        return sub.sizes(self._idx, self.n_features)

    def support_matrix(self) -> np.ndarray:
        """(K, n) bool membership matrix of the subsets."""
        return sub.to_bool(self._idx, self.n_features)

    def __len__(self) -> int:
        return int(self._coef.shape[0])

    def __getitem__(self, subset: Any) -> float:
        """Coefficient of one subset (given as indices or feature names); 0 if absent."""
        if isinstance(subset, (int, np.integer, str)):
            subset = (subset,)
        elif isinstance(subset, np.ndarray) and subset.dtype == bool:
            if subset.shape != (self.n_features,):
                raise KeyError(f"a boolean subset must have shape ({self.n_features},)")
            subset = np.flatnonzero(subset)
        wanted = sorted({self._feature_index(x) for x in subset})
        row = np.full(self._idx.shape[1], self.n_features)
        if len(wanted) > row.size:
            return 0.0
        row[: len(wanted)] = wanted
        hit = np.flatnonzero((self._idx == row).all(axis=1))
        return float(self._coef[hit[0]]) if hit.size else 0.0

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

    def _like(self, idx: np.ndarray, coef: np.ndarray, basis: str, order: int | None = None):
        out = Interactions.__new__(Interactions)
        # Conversions cancel terms exactly in exact arithmetic; drop the rounding dust
        # (relative to the terms that were combined) so cancelled terms do not reappear.
        tol = 1e-12 * float(np.abs(coef).max(initial=0.0))
        out._idx, out._coef = sub.canonical_sum(
            idx, coef, self.n_features, drop_zeros=True, tol=tol
        )
        out.n_features = self.n_features
        out.basis = basis
        out.feature_names = list(self.feature_names)
        out.n_queries = self.n_queries
        out.method = self.method
        out.order = order
        out.metadata = dict(self.metadata)
        return out

    # -------------------------------------------------------------- prediction
    def predict(self, masks: Any) -> np.ndarray:
        """Evaluate the expansion on masks.

        Parameters
        ----------
        masks : (N, n) bool array, or (n,) for a single mask
            True keeps a feature.

        Returns
        -------
        (N,) float array (a float for a single mask).
        """
        if self.basis not in ("fourier",) and self.basis not in MOBIUS_LIKE:
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
        if masks.dtype != bool:
            if not np.issubdtype(masks.dtype, np.number) or not np.isin(masks, (0, 1)).all():
                raise ValueError("masks must be boolean (or 0/1) arrays")
            masks = masks.astype(bool)
        n = self.n_features
        idx = self._idx  # (K, d), padded with the sentinel n
        fourier = self.basis == "fourier"
        out = np.empty(masks.shape[0])
        # Gather the d member bits of every term (O(N·K·d), far cheaper than an (N, n) @ (n, K)
        # product for sparse low-degree expansions); rows in chunks of ~2**24 gathered bits.
        step = max(1, 2**24 // max(idx.size, 1))
        for start in range(0, masks.shape[0], step):
            chunk = masks[start : start + step]
            padded = np.empty((chunk.shape[0], n + 1), dtype=bool)
            padded[:, :n] = chunk
            padded[:, n] = not fourier  # the sentinel: no sign flip / always "kept"
            bits = padded[:, idx]  # (rows, K, d)
            if fourier:
                parity = np.bitwise_xor.reduce(bits, axis=2)
                out[start : start + step] = (1.0 - 2.0 * parity) @ self._coef
            else:
                out[start : start + step] = bits.all(axis=2) @ self._coef
        return float(out[0]) if single else out

    # -------------------------------------------------------------- conversions
    def to_mobius(self) -> Interactions:
        """The same function in the Möbius basis: f(m) = Σ_{S ⊆ m} a(S)."""
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
        return self._like(self._idx[keep], self._coef[keep], self.basis, self.order)

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
        """
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
        """(n,) array of Shapley values."""
        return self._first_order("shapley")

    def banzhaf_values(self) -> np.ndarray:
        """(n,) array of Banzhaf values."""
        return self._first_order("banzhaf")

    def _first_order(self, name: str) -> np.ndarray:
        values = self.index(name)
        out = np.zeros(self.n_features)
        single = values.degrees == 1
        out[values._idx[single, 0]] = values._coef[single]
        return out

    # ------------------------------------------------------------------ reading
    def top(self, k: int = 10, *, include_empty: bool = False, min_order: int = 0) -> list[Term]:
        """The ``k`` terms of largest magnitude, with feature names.

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
            By decreasing ``|value|``; ties keep the canonical order (size, then indices).
        """
        if int(k) < 0:
            raise ValueError(f"k must be non-negative, got {k}")
        degrees = self.degrees
        keep = degrees >= max(min_order, 0 if include_empty else 1)
        rows = np.flatnonzero(keep)
        rows = rows[np.argsort(-np.abs(self._coef[rows]), kind="stable")][:k]
        terms = []
        for r in rows:
            feats = tuple(int(i) for i in self._idx[r] if i < self.n_features)
            terms.append(
                Term(feats, tuple(self.feature_names[i] for i in feats), float(self._coef[r]))
            )
        return terms

    @property
    def baseline(self) -> float:
        """Coefficient of the empty set."""
        return self[()]

    def __repr__(self) -> str:
        max_deg = int(self.degrees.max(initial=0))
        output = self.metadata.get("output")  # what was explained, when explain_text knows
        return (
            f"Interactions(basis={self.basis!r}, n_features={self.n_features}, terms={len(self)}, "
            f"max_degree={max_deg}, method={self.method!r}, n_queries={self.n_queries}"
            + (f", output={output!r})" if isinstance(output, str) else ")")
        )

    def __str__(self) -> str:
        lines = [repr(self)]
        if len(self):
            lines.append(f"  {'coefficient':>12}  interaction")
            lines.append(f"  {self.baseline:>+12.6g}  ∅ (baseline)")
            for term in self.top(10):
                lines.append(f"  {term.value:>+12.6g}  {' × '.join(term.names)}")
            if len(self) > 11:
                lines.append(f"  … {len(self) - 11} more terms")
        return "\n".join(lines)

    # ------------------------------------------- display (see interplay.display)
    def to_pandas(self, index: str | None = None, order: int | None = None) -> Any:
        """One row per term (features, names, order, value, index); default Möbius basis."""
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
        """A JSON-serialisable dict (see :meth:`from_dict`)."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "basis": self.basis,
            "order": self.order,
            "n_features": self.n_features,
            "feature_names": list(self.feature_names),
            "method": self.method,
            "n_queries": self.n_queries,
            "metadata": self.metadata,
            "terms": [[list(s), float(c)] for s, c in zip(self.subsets, self._coef, strict=True)],
        }

    @classmethod
    def from_dict(cls, data: dict, *, max_table: int = schema.TABLE_CELLS) -> Interactions:
        """Rebuild from :meth:`to_dict` output, checking every field first.

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
        data = schema.check_header(data, _FORMAT, _VERSION, "interactions")
        n = schema.read_int(schema.field(data, "n_features"), "n_features", low=1)
        # the names are in the file, so checking their count bounds n by the file's length
        names = schema.read_list(schema.field(data, "feature_names"), "feature_names")
        names = check_feature_names(names, n)
        basis = schema.field(data, "basis")
        if basis not in BASES:
            raise ValueError(f"basis must be one of {', '.join(BASES)}; got {basis!r}")
        terms = schema.read_list(schema.field(data, "terms"), "terms")
        schema.read_tuples(terms, "terms[{}]", size=2, form="a [subset, coefficient] pair")
        subsets = [t[0] for t in terms]
        _, sizes = schema.read_index_rows(subsets, "terms[{}][0]", high=n, what="feature")
        width = max(int(sizes.max(initial=0)), 1)
        schema.check_table_size(len(terms), width, limit=max_table, name="terms")
        coefficients = schema.read_numbers([t[1] for t in terms], "terms[{}][1]")
        result = cls(
            subsets,
            coefficients,
            n_features=n,
            basis=basis,
            feature_names=names,
            n_queries=schema.read_optional_int(data, "n_queries", low=0),
            method=schema.read_optional_str(data, "method"),
            order=schema.read_optional_int(data, "order", low=1),
            metadata=schema.read_dict(data, "metadata"),
        )
        if len(result) != len(terms):
            raise schema.repeated_key(
                [frozenset(s) for s in subsets], "terms[{}]", "subset"
            )
        return result

    # ------------------------------------------------------------- arithmetic
    def allclose(self, other: Interactions, *, atol: float = 1e-9) -> bool:
        """True when both describe the same coefficients in the same basis."""
        if self.basis != other.basis or self.n_features != other.n_features:
            return False
        mine, theirs = self.align(other)
        return bool(np.all(np.abs(mine - theirs) <= atol))

    def align(
        self, other: Interactions, *, include_empty: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Coefficients of both expansions on the union of their supports.

        Parameters
        ----------
        other : Interactions
            An expansion over the same features in the same basis.
        include_empty : bool, default True
            Keep the empty subset (the constant term) in the union.

        Returns
        -------
        mine, theirs : (U,) float arrays
            ``mine[u]`` and ``theirs[u]`` are the two coefficients of the u-th subset of the
            union (0 where an expansion lacks it), in canonical subset order.
        """
        if self.n_features != other.n_features:
            raise ValueError(
                f"cannot align expansions over {self.n_features} and {other.n_features} features"
            )
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
        which = np.repeat([0, 1], [len(self), len(other)])
        union, inverse = np.unique(idx, axis=0, return_inverse=True)
        both = np.zeros((2, union.shape[0]))
        np.add.at(both, (which, inverse.ravel()), np.concatenate([self._coef, other._coef]))
        if not include_empty:
            both = both[:, (union < n).any(axis=1)]
        return both[0], both[1]
