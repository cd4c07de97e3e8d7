"""The saved form of a result: its JSON document, written and read back (checked).

Documents are ``{"format": "interplay.interactions", "version": V, ...}``:

- version 1 (binary features, q = 2): ``"terms": [[subset, coefficient], ...]`` with
  ``subset`` a list of feature indices, in the result's ``basis``;
- version 2 (any q): ``"q"``, ``"state_names"`` and ``"terms": [[[[feature, k], ...], re, im],
  ...]``, the frequency vector by its non-zero entries and the complex coefficient.

Files written by earlier releases for q-ary results (``"format":
"interplay.qary_interactions"``, version 1) have the version-2 layout without ``basis`` and
``order`` and are read as well. Every field is checked before anything is built
(:mod:`interplay.spectral.schema`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from interplay.spectral import schema
from interplay.spectral import subsets as sub
from interplay.spectral.indices import BASES
from interplay.spectral.names import check_names

if TYPE_CHECKING:  # pragma: no cover
    from interplay.spectral.interactions import Interactions

__all__ = ["MAX_Q", "Document", "read_document", "write_document"]

FORMAT = "interplay.interactions"
#: The format of q-ary results saved by earlier releases (read, never written).
LEGACY_QARY_FORMAT = "interplay.qary_interactions"
#: Largest number of states of a feature.
MAX_Q = 2**15


@dataclass
class Document:
    """The checked content of a document, ready for the constructor.

    Attributes
    ----------
    idx, exps : (K, d) int arrays
        The terms in the padded form of :mod:`interplay.spectral.subsets` (exps None: q = 2).
    coefficients : (K,) float or complex array
    attributes : dict
        The constructor's keyword arguments (``n_features``, ``q``, ``basis``, names, ...).
    term_keys : callable
        ``term_keys()`` lists one hashable key per term, to name a repeated one.
    """

    idx: np.ndarray
    exps: np.ndarray | None
    coefficients: np.ndarray
    attributes: dict[str, Any]
    term_keys: Callable[[], list]


def write_document(result: Interactions) -> dict:
    """The JSON-serialisable dict of ``result`` (version 1 when it is binary and plain)."""
    idx, exps = result.index_arrays()
    n = result.n_features
    coef = result.coefficients
    binary = result.q == 2 and result.state_names == ["0", "1"]
    head: dict[str, Any] = {"format": FORMAT, "version": 1 if binary else 2}
    if not binary:
        head["q"] = result.q
    head |= {
        "basis": result.basis,
        "order": result.order,
        "n_features": n,
        "feature_names": list(result.feature_names),
    }
    if not binary:
        head["state_names"] = list(result.state_names)
    head |= {"method": result.method, "n_queries": result.n_queries, "metadata": result.metadata}
    if binary:
        head["terms"] = [[list(s), float(c)] for s, c in zip(result.subsets, coef, strict=True)]
        return head
    terms = []
    for row, ks, c in zip(idx.tolist(), exps.tolist(), coef.tolist(), strict=True):
        pairs = [[i, k] for i, k in zip(row, ks, strict=True) if i < n]
        terms.append([pairs, float(np.real(c)), float(np.imag(c))])
    head["terms"] = terms
    return head


def read_document(data: Any, *, max_table: int) -> Document:
    """Check every field of a parsed document; see the module for the layouts.

    Raises
    ------
    ValueError
        One line naming the first field that is missing, of the wrong type or out of range.
    """
    if isinstance(data, dict) and data.get("format") == LEGACY_QARY_FORMAT:
        version = schema.check_header(data, LEGACY_QARY_FORMAT, (1,), "q-ary interactions")
        version = 2  # the same layout
    else:
        version = schema.check_header(data, FORMAT, (1, 2), "interactions")
    n = schema.read_int(schema.field(data, "n_features"), "n_features", low=1)
    # the names are in the file, so checking their count bounds n by the file's length
    names = schema.read_list(schema.field(data, "feature_names"), "feature_names")
    names = check_names(names, n, argument="feature_names", of="features")
    if version == 1:
        q, states = 2, None
        basis = schema.field(data, "basis")
    else:
        q = schema.read_int(schema.field(data, "q"), "q", low=2, high=MAX_Q)
        states = schema.read_list(schema.field(data, "state_names"), "state_names")
        states = check_names(states, q, argument="state_names", of=f"states (q={q})")
        basis = data.get("basis", "fourier")
    if basis not in BASES:
        raise ValueError(f"basis must be one of {', '.join(BASES)}; got {basis!r}")
    terms = schema.read_list(schema.field(data, "terms"), "terms")
    if version == 1:
        idx, exps, coef, keys = _binary_terms(terms, n, max_table)
    else:
        idx, exps, coef, keys = _qary_terms(terms, n, q, max_table)
    attributes = {
        "n_features": n,
        "q": q,
        "basis": basis,
        "feature_names": names,
        "state_names": states,
        "n_queries": schema.read_optional_int(data, "n_queries", low=0),
        "method": schema.read_optional_str(data, "method"),
        "order": schema.read_optional_int(data, "order", low=1),
        "metadata": schema.read_dict(data, "metadata"),
    }
    return Document(idx, exps, coef, attributes, keys)


def _binary_terms(terms: list, n: int, max_table: int) -> tuple:
    schema.read_tuples(terms, "terms[{}]", size=2, form="a [subset, coefficient] pair")
    subsets = [t[0] for t in terms]
    flat, lengths = schema.read_index_rows(subsets, "terms[{}][0]", high=n, what="feature")
    schema.check_table_size(len(terms), max(int(lengths.max(initial=0)), 1), limit=max_table,
                            name="terms")
    coef = schema.read_numbers([t[1] for t in terms], "terms[{}][1]")
    idx, _ = sub.from_flat(flat, lengths, n)
    return idx, None, coef, lambda: [frozenset(s) for s in subsets]


def _qary_terms(terms: list, n: int, q: int, max_table: int) -> tuple:
    schema.read_tuples(terms, "terms[{}]", size=3, form="[[[feature, k], ...], re, im]")
    rows = [t[0] for t in terms]
    for r, row in enumerate(rows):
        schema.read_list(row, f"terms[{r}][0]")
        schema.read_tuples(row, f"terms[{r}][0][{{}}]", size=2, form="a [feature, k] pair")
    features = [[entry[0] for entry in row] for row in rows]
    flat, lengths = schema.read_index_rows(features, "terms[{}][0]", high=n, what="feature")
    schema.check_table_size(len(terms), max(int(lengths.max(initial=0)), 1), limit=max_table,
                            name="terms")
    values = [[entry[1] for entry in row] for row in rows]
    ks, _ = schema.read_index_rows(values, "terms[{}][0]", high=q, what="frequency",
                                   distinct=False)
    real = schema.read_numbers([t[1] for t in terms], "terms[{}][1]")
    imag = schema.read_numbers([t[2] for t in terms], "terms[{}][2]")
    nonzero = ks != 0  # a zero entry leaves the feature out of the frequency's support
    row_of = np.repeat(np.arange(len(rows)), lengths)
    lengths = np.bincount(row_of[nonzero], minlength=len(rows))
    idx, exps = sub.from_flat(flat[nonzero], lengths, n, ks[nonzero])
    coef = np.empty(real.shape, dtype=np.complex128)
    coef.real, coef.imag = real, imag  # (real + 1j * imag would turn -0.0 into 0.0)
    if q == 2:
        if np.any(imag != 0):
            bad = int(np.flatnonzero(imag != 0)[0])
            raise ValueError(f"terms[{bad}][2] must be 0: a q=2 expansion has real coefficients")
        coef = real
        exps = None
    return idx, exps, coef, lambda: [frozenset((f, k) for f, k in row if k) for row in rows]
