"""Conversion to and from shapiq's ``InteractionValues`` (shapiq is optional).

interplay's bases and shapiq's index names describe the same quantities:

=========  =========
interplay  shapiq
=========  =========
mobius     Moebius
fourier    Fourier
shapley    SV
banzhaf    BV
SII, BII, STII, FSII, FBII  the same names
=========  =========

shapiq keeps the empty set's value as ``baseline_value`` too; the conversion writes the
empty-set coefficient there, so a round trip gives back the same terms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from interplay.display.quantity import BASIS_NAMES, displayed_expansion

if TYPE_CHECKING:  # pragma: no cover
    from interplay.spectral.interactions import Interactions

__all__ = ["SHAPIQ_INDEX", "from_shapiq", "import_shapiq", "to_shapiq"]

#: interplay basis -> shapiq index name
SHAPIQ_INDEX: dict[str, str] = {basis: name for basis, (_, name) in BASIS_NAMES.items()}
_FROM_SHAPIQ = {v: k for k, v in SHAPIQ_INDEX.items()}


def import_shapiq() -> Any:
    """The shapiq module, or an ImportError that says how to install it."""
    try:
        import shapiq
    except ImportError:
        raise ImportError(
            "shapiq conversion needs shapiq: pip install shapiq (it needs Python >= 3.12)"
        ) from None
    return shapiq


def _basis_name(index: str | None) -> str | None:
    """Our basis name for ``index`` given in either spelling (None stays None)."""
    if index is None:
        return None
    return _FROM_SHAPIQ.get(index, index)


def to_shapiq(result: Interactions, index: str | None = None, order: int | None = None) -> Any:
    """``result`` as a ``shapiq.InteractionValues``.

    Parameters
    ----------
    result : Interactions
    index : str, optional
        The quantity, in interplay's or shapiq's spelling (``"mobius"`` or ``"Moebius"``,
        ``"shapley"`` or ``"SV"``, ``"FSII"``, ...); default Möbius.
    order : int, optional
        Largest interaction size of an index (default: the result's largest degree).

    Returns
    -------
    shapiq.InteractionValues
        ``estimation_budget`` is the number of queries the result cost.
    """
    shapiq = import_shapiq()
    terms = displayed_expansion(result, _basis_name(index), order).terms
    subsets = terms.subsets
    values = terms.coefficients
    if () not in subsets:  # shapiq expects the empty set when min_order is 0
        subsets = [(), *subsets]
        values = np.concatenate([[0.0], values])
    max_order = max(1, int(terms.degrees.max(initial=0)), terms.order or 0)
    return shapiq.InteractionValues(
        values,
        index=SHAPIQ_INDEX[terms.basis],
        max_order=max_order,
        n_players=terms.n_features,
        min_order=0,
        interaction_lookup={s: k for k, s in enumerate(subsets)},
        estimated=True,
        estimation_budget=terms.n_queries,
        baseline_value=float(terms.baseline),
    )


def from_shapiq(
    values: Any, *, feature_names: Any = None, metadata: dict | None = None
) -> Interactions:
    """An :class:`~interplay.Interactions` from a ``shapiq.InteractionValues``.

    Parameters
    ----------
    values : shapiq.InteractionValues
        Of index ``Moebius``, ``Fourier``, ``SV``, ``BV``, ``SII``, ``BII``, ``STII``,
        ``FSII`` or ``FBII``.
    feature_names : sequence of str, optional
    metadata : dict, optional

    Returns
    -------
    Interactions
        In the matching basis; the empty set's term is shapiq's ``baseline_value`` when
        the values do not list it.
    """
    from interplay.spectral.interactions import Interactions

    index = getattr(values, "index", None)
    lookup = getattr(values, "interaction_lookup", None)
    if index is None or not isinstance(lookup, dict):
        raise TypeError(
            f"values must be a shapiq InteractionValues, got {type(values).__name__}"
        )
    if index not in _FROM_SHAPIQ:
        raise ValueError(
            f"shapiq index {index!r} has no interplay basis; convertible: "
            f"{', '.join(_FROM_SHAPIQ)}"
        )
    array = np.asarray(values.values, dtype=np.float64)
    subsets = [tuple(int(i) for i in s) for s in lookup]
    coefficients = array[np.fromiter(lookup.values(), dtype=np.intp, count=len(lookup))]
    if () not in lookup:
        subsets.append(())
        coefficients = np.append(coefficients, float(values.baseline_value))
    basis = _FROM_SHAPIQ[index]
    return Interactions(
        subsets,
        coefficients,
        n_features=int(values.n_players),
        basis=basis,
        feature_names=feature_names,
        n_queries=getattr(values, "estimation_budget", None),
        method="shapiq",
        order=None if basis in ("mobius", "fourier") else int(values.max_order),
        metadata=metadata,
    )
