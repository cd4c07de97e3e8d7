"""Berlekamp–Massey over any finite field with vectorised table arithmetic.

Shared by the binary BCH decoder (:mod:`interplay.codes.bch`, GF(2^m)) and the GF(p) syndrome
decoder (:mod:`interplay.codes.bch_qary`, GF(p^m)).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = ["FieldArithmetic", "berlekamp_massey"]


class FieldArithmetic(Protocol):
    """Elementwise field operations on int arrays (elements coded as integers, 0 the zero)."""

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...

    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray: ...

    def inv(self, a: np.ndarray) -> np.ndarray: ...


def berlekamp_massey(field: FieldArithmetic, synd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shortest linear recurrences (error locators) of B syndrome sequences at once.

    Parameters
    ----------
    field : FieldArithmetic
    synd : (B, 2t) int array
        Syndromes ``S_1 .. S_2t`` of each word.

    Returns
    -------
    locator : (B, 2t + 1) int array
        Connection polynomials, low degree first (``locator[:, 0] == 1``).
    length : (B,) int array
        Their lengths L (the number of errors when at most t occurred).
    """
    n_words, two_t = synd.shape
    width = two_t + 1
    conn = np.zeros((n_words, width), dtype=np.int64)
    conn[:, 0] = 1
    prev = conn.copy()
    length = np.zeros(n_words, dtype=np.int64)
    shift = np.ones(n_words, dtype=np.int64)
    prev_disc = np.ones(n_words, dtype=np.int64)
    cols = np.arange(width)
    rows = np.arange(n_words)[:, None]
    for k in range(two_t):
        # discrepancy d = S_k + sum_{i=1..L} C_i S_{k-i}
        lag = k - cols[1:]
        valid = (lag >= 0)[None, :] & (cols[1:][None, :] <= length[:, None])
        s_lag = np.where(valid, synd[:, np.clip(lag, 0, None)], 0)
        prods = field.mul(conn[:, 1:], s_lag)
        disc = synd[:, k]
        for i in range(prods.shape[1]):
            disc = field.add(disc, prods[:, i])
        nonzero = disc != 0
        coef = field.mul(disc, field.inv(prev_disc))  # d / b
        src = cols[None, :] - shift[:, None]
        shifted = np.where(src >= 0, prev[rows, np.clip(src, 0, None)], 0)
        update = field.sub(conn, field.mul(coef[:, None], shifted))
        grow = nonzero & (2 * length <= k)
        new_conn = np.where(nonzero[:, None], update, conn)
        prev = np.where(grow[:, None], conn, prev)
        prev_disc = np.where(grow, disc, prev_disc)
        length = np.where(grow, k + 1 - length, length)
        shift = np.where(grow, 1, shift + 1)
        conn = new_conn
    return conn, length
