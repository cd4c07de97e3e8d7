"""One helper that turns every accepted ``random_state`` into a numpy Generator.

It sits below every package that draws random numbers (values, solvers, metrics) so that none
of them imports another for it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_random_state"]


def check_random_state(random_state: Any) -> np.random.Generator:
    """Turn ``None``, an int, or a Generator into a ``numpy.random.Generator``."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise TypeError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}")
