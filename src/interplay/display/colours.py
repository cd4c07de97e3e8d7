"""The colours of every display: blue raises the output, red lowers it."""

from __future__ import annotations

import numpy as np

__all__ = [
    "NEGATIVE",
    "NEGATIVE_RGB",
    "POSITIVE",
    "POSITIVE_RGB",
    "colour_strength",
    "css_rgba",
    "signed_rgba",
]

POSITIVE_RGB: tuple[int, int, int] = (33, 102, 172)
NEGATIVE_RGB: tuple[int, int, int] = (178, 24, 43)
POSITIVE = "#" + "".join(f"{c:02x}" for c in POSITIVE_RGB)
NEGATIVE = "#" + "".join(f"{c:02x}" for c in NEGATIVE_RGB)
_MAX_ALPHA = 0.75


def colour_strength(values: np.ndarray) -> np.ndarray:
    """(n,) float array in [0, 0.75]: opacity of each value, ``|v| / max |v|`` scaled."""
    values = np.asarray(values, dtype=np.float64)
    scale = float(np.abs(values).max(initial=0.0))
    if scale <= 0:
        return np.zeros(values.shape)
    return _MAX_ALPHA * np.abs(values) / scale


def signed_rgba(values: np.ndarray) -> np.ndarray:
    """(n, 4) float array of RGBA colours in [0, 1]: hue by sign, opacity by magnitude."""
    values = np.asarray(values, dtype=np.float64)
    rgb = np.where((values >= 0)[:, None], POSITIVE_RGB, NEGATIVE_RGB) / 255.0
    return np.column_stack([rgb, colour_strength(values)])


def css_rgba(values: np.ndarray) -> list[str]:
    """One CSS ``rgba(r,g,b,a)`` colour a value (see :func:`signed_rgba`)."""
    rgba = signed_rgba(values)
    return [f"rgba({round(r * 255)},{round(g * 255)},{round(b * 255)},{a:.3f})"
            for r, g, b, a in rgba]
