"""Shared test configuration.

``tests/spectral`` is put on ``sys.path`` so that every test module can use the brute-force
oracles with ``import bruteforce as bf`` (see ``tests/spectral/bruteforce.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

_ORACLES = str(Path(__file__).resolve().parent / "spectral")
if _ORACLES not in sys.path:
    sys.path.insert(0, _ORACLES)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, fresh for each test (tests stay reproducible and independent)."""
    return np.random.default_rng(20261125)
