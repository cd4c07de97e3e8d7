"""Arithmetic in GF(2^m) on numpy arrays, through log/antilog tables.

Elements are integers 0 … 2^m − 1 (polynomial basis over a primitive polynomial). Every
operation is vectorised, so decoders can work on all received words at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

__all__ = ["PRIMITIVE_POLYNOMIALS", "GF2m"]

#: Primitive polynomials over GF(2), as bit masks (bit i = coefficient of x^i); the same
#: defaults as the `galois` package (Conway polynomials), checked in the tests.
PRIMITIVE_POLYNOMIALS: dict[int, int] = {
    3: 0b1011,
    4: 0b10011,
    5: 0b100101,
    6: 0b1011011,
    7: 0b10000011,
    8: 0b100011101,
    9: 0b1000010001,
    10: 0b10001101111,
    11: 0b100000000101,
    12: 0b1000011101011,
    13: 0b10000000011011,
    14: 0b100000000101011,
    15: 0b1000000000000011,
    16: 0b10000000000101101,
}


@dataclass(frozen=True, eq=False)
class GF2m:
    """The field GF(2^m) with antilog table ``exp`` and log table ``log``.

    ``exp`` has length 2·(2^m − 1) so sums of two logs index it without a modulo.
    ``log[0]`` is a placeholder (0 has no logarithm); callers mask zeros.
    """

    m: int
    poly: int
    exp: np.ndarray
    log: np.ndarray

    @property
    def order(self) -> int:
        """Number of non-zero elements, 2^m − 1."""
        return (1 << self.m) - 1

    @staticmethod
    @cache
    def build(m: int, poly: int | None = None) -> GF2m:
        """Tables of GF(2^m) over ``poly`` (default: :data:`PRIMITIVE_POLYNOMIALS`)."""
        if poly is None:
            if m not in PRIMITIVE_POLYNOMIALS:
                raise ValueError(f"no primitive polynomial tabulated for m={m}")
            poly = PRIMITIVE_POLYNOMIALS[m]
        order = (1 << m) - 1
        exp = np.zeros(2 * order, dtype=np.int64)
        log = np.zeros(order + 1, dtype=np.int64)
        x = 1
        for i in range(order):
            exp[i] = x
            log[x] = i
            x <<= 1
            if x >> m:
                x ^= poly
        if x != 1 or len(set(exp[:order].tolist())) != order:
            raise ValueError(f"polynomial {poly:#b} is not primitive for m={m}")
        exp[order:] = exp[:order]
        exp.setflags(write=False)
        log.setflags(write=False)
        return GF2m(m, poly, exp, log)

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Elementwise sum (XOR: characteristic 2)."""
        return np.bitwise_xor(a, b)

    sub = add  # characteristic 2: a - b = a + b

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Elementwise product."""
        a = np.asarray(a)
        b = np.asarray(b)
        prod = self.exp[self.log[a] + self.log[b]]
        return np.where((a == 0) | (b == 0), 0, prod)

    def inv(self, a: np.ndarray) -> np.ndarray:
        """Elementwise inverse (0 maps to 0; callers must not rely on it)."""
        a = np.asarray(a)
        return np.where(a == 0, 0, self.exp[(self.order - self.log[a]) % self.order])

    def pow_alpha(self, e: np.ndarray) -> np.ndarray:
        """α^e for integer exponents (any sign)."""
        return self.exp[np.mod(e, self.order)]
