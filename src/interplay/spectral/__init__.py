"""Sparse expansions of set functions: containers, transforms and interaction indices."""

from interplay.spectral.indices import BASES, INDEX_NAMES
from interplay.spectral.interactions import Interactions, Term

__all__ = ["BASES", "INDEX_NAMES", "Interactions", "Term"]
