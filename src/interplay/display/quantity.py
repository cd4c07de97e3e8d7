"""The one quantity a display shows: which expansion of a result is listed and coloured.

Every display of an :class:`~interplay.Interactions` (the DataFrame, the notebook HTML, the
plots) lists the terms of one expansion and colours each feature by that same expansion's
order-1 term, so the number in the list is the number behind the colour. By default the
expansion is the Möbius transform: ``f(m) = Σ_{S ⊆ m} a(S)``, where ``a({i})`` is what
feature i adds on its own to the empty input and ``a(S)`` for larger S is what the features
add together beyond their sub-combinations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from interplay.spectral.indices import check_index_name

if TYPE_CHECKING:  # pragma: no cover
    from interplay.spectral.interactions import Interactions

__all__ = [
    "BASIS_NAMES",
    "QUANTITY_NAMES",
    "DisplayedExpansion",
    "displayed_expansion",
    "output_description",
    "plural",
]

#: How each basis is named: one of its values in words, and its name in shapiq.
BASIS_NAMES: dict[str, tuple[str, str]] = {
    "mobius": ("Möbius coefficient", "Moebius"),
    "fourier": ("Fourier coefficient", "Fourier"),
    "shapley": ("Shapley value", "SV"),
    "banzhaf": ("Banzhaf value", "BV"),
    "SII": ("Shapley interaction index", "SII"),
    "BII": ("Banzhaf interaction index", "BII"),
    "STII": ("Shapley-Taylor interaction index", "STII"),
    "FSII": ("Faith-Shapley interaction index", "FSII"),
    "FBII": ("Faith-Banzhaf interaction index", "FBII"),
}
QUANTITY_NAMES: dict[str, str] = {basis: words for basis, (words, _) in BASIS_NAMES.items()}


def plural(quantity: str) -> str:
    """The plural of a quantity's name: ``"Möbius coefficients"``, ``"Shapley interaction
    indices"``."""
    return quantity[:-1] + "ices" if quantity.endswith("index") else quantity + "s"


@dataclass(frozen=True)
class DisplayedExpansion:
    """A result in the basis a display shows, with the name of its quantity.

    Attributes
    ----------
    terms : Interactions
        The expansion whose terms are listed.
    quantity : str
        What one value is, in words (``"Möbius coefficient"``).
    first_order : (n,) float array
        The order-1 term of each feature in :attr:`terms` (0 where absent): the colour.
    """

    terms: Interactions
    quantity: str
    first_order: np.ndarray

    @property
    def basis(self) -> str:
        return self.terms.basis


def displayed_expansion(
    result: Interactions, index: str | None = None, order: int | None = None
) -> DisplayedExpansion:
    """The expansion of ``result`` a display lists, and its order-1 values.

    Parameters
    ----------
    result : Interactions
        The explanation.
    index : str, optional
        ``"mobius"`` or ``"fourier"`` (the same function in another basis), or an
        interaction index (``"shapley"``, ``"banzhaf"``, ``"SII"``, ``"BII"``, ``"STII"``,
        ``"FSII"``, ``"FBII"``). Default: ``"mobius"``, or the result's own basis when it
        already is an index (an index cannot be converted back).
    order : int, optional
        Largest interaction size of an index (default: the largest degree in the result,
        at least 1).

    Returns
    -------
    DisplayedExpansion

    Raises
    ------
    ValueError
        For a result over q > 2 states (its terms are listed by :meth:`to_pandas
        <interplay.Interactions.to_pandas>` and its notebook HTML instead).
    """
    own = result.basis
    if result.q > 2:
        raise ValueError(
            f"plots and coloured displays show binary features; this result has q={result.q} "
            "states per feature: read it with to_pandas(), top(), main_effects() or "
            "pairwise_effects()"
        )
    if index is None:
        index = "mobius" if own in ("mobius", "fourier") else own
    if index in ("mobius", "fourier"):
        terms = result.to_mobius() if index == "mobius" else result.to_fourier()
    elif index == own:
        terms = result
    else:
        name = check_index_name(index)
        if own not in ("mobius", "fourier"):
            raise ValueError(
                f"this result is already the {own} index and cannot be re-expressed as "
                f"{name!r}; pass index=None to show it as it is"
            )
        if order is None:
            order = max(1, int(result.degrees.max(initial=1)))
        terms = result.index(name, order=order)
    first = np.zeros(result.n_features)
    single = terms.degrees == 1
    if single.any():
        members = terms.support_matrix()[single]
        first[np.argmax(members, axis=1)] = terms.coefficients[single]
    return DisplayedExpansion(terms, QUANTITY_NAMES[terms.basis], first)


def output_description(metadata: dict[str, Any]) -> str | None:
    """What the explained number is, in words, from a result's metadata (None if unknown).

    ``explain_text`` stores it as ``metadata["output"]``; the command line stores the
    explained answer or class as ``metadata["explained"]``.
    """
    output = metadata.get("output")
    if isinstance(output, str) and output:
        return output
    explained = metadata.get("explained")
    if isinstance(explained, str) and explained:
        return f"the model's output {explained!r}"
    return None
