"""Sparse expansions of set functions: containers, transforms and interaction indices."""

from interplay.spectral.indices import BASES, INDEX_NAMES
from interplay.spectral.interactions import Interactions, Term
from interplay.spectral.qary import QaryInteractions

__all__ = ["BASES", "INDEX_NAMES", "Interactions", "QaryInteractions", "Term"]
