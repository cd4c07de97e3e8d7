"""Sparse expansions of functions of n features: the result type, transforms and indices."""

from interplay.spectral.indices import BASES, INDEX_NAMES
from interplay.spectral.interactions import Interactions, Term

__all__ = ["BASES", "INDEX_NAMES", "Interactions", "Term"]
