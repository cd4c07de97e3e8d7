"""Arithmetic in GF(p^m), p an odd or even prime, on numpy arrays through tables.

Elements are integers ``0 .. p^m - 1``: the base-p digits are the coefficients of a polynomial
over GF(p) (digit i = coefficient of x^i) modulo a primitive polynomial of degree m, read from
``gfpm_table.json`` (built once with `galois` by ``scripts/build_gfpm_table.py``; fields
missing from it are searched at run time; fields here have at most a few thousand elements).
Addition is a table lookup, multiplication goes through log/antilog tables; every operation is
vectorised.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

__all__ = ["GFpm", "shipped_primitive_poly"]

#: Largest field built (the addition table has size^2 entries).
MAX_FIELD_SIZE = 4096


def _digits(values: np.ndarray, p: int, m: int) -> np.ndarray:
    """(..., m) base-p digits of integers, least significant first."""
    return (np.asarray(values)[..., None] // p ** np.arange(m)) % p


def _power_table(p: int, m: int, poly: tuple[int, ...]) -> np.ndarray | None:
    """Digits of x^0, x^1, ... modulo the monic ``poly`` (low degree first, length m), or
    None when x does not have order p^m - 1 (the polynomial is not primitive)."""
    order = p**m - 1
    table = np.zeros((order, m), dtype=np.int64)
    current = np.zeros(m, dtype=np.int64)
    current[0] = 1
    reduce_by = np.asarray(poly, dtype=np.int64)  # x^m = -(poly) mod p
    for e in range(order):
        if e and current[0] == 1 and not current[1:].any():
            return None  # back to 1 too early
        table[e] = current
        top = current[-1]
        current = np.concatenate([[0], current[:-1]])
        current = (current - top * reduce_by) % p
    if current[0] != 1 or current[1:].any():
        return None
    return table


@cache
def _shipped_table() -> dict:
    text = resources.files("interplay.codes").joinpath("gfpm_table.json").read_text()
    return json.loads(text)["fields"]


def shipped_primitive_poly(p: int, m: int) -> tuple[int, ...] | None:
    """``(c_0, ..., c_{m-1})`` of the shipped primitive ``x^m + sum c_i x^i`` over GF(p), or
    None when ``gfpm_table.json`` (built by ``scripts/build_gfpm_table.py``) lacks it."""
    tail = _shipped_table().get(str(p), {}).get(str(m))
    return None if tail is None else tuple(int(c) for c in tail)


def _search_primitive(p: int, m: int) -> np.ndarray:
    """Power table of the first primitive polynomial, by trying every monic one in order."""
    for tail in itertools.product(range(p), repeat=m):
        if tail[0] == 0:
            continue  # x divides the polynomial
        table = _power_table(p, m, tail)
        if table is not None:
            return table
    raise ValueError(f"no primitive polynomial of degree {m} over GF({p})")  # pragma: no cover


@dataclass(frozen=True, eq=False)
class GFpm:
    """The field GF(p^m).

    Attributes
    ----------
    p, m : int
    exp : (2 (p^m - 1),) int64 array
        ``alpha^e`` (twice over, so sums of two logs need no modulo).
    log : (p^m,) int64 array
        ``log[0]`` is a placeholder; callers mask zeros.
    add_table : (p^m, p^m) int64 array
    neg : (p^m,) int64 array
    """

    p: int
    m: int
    exp: np.ndarray
    log: np.ndarray
    add_table: np.ndarray
    neg: np.ndarray

    @property
    def size(self) -> int:
        return self.p**self.m

    @property
    def order(self) -> int:
        """Number of non-zero elements, p^m - 1."""
        return self.p**self.m - 1

    @staticmethod
    @cache
    def build(p: int, m: int) -> GFpm:
        """Tables of GF(p^m) over the first primitive polynomial (lexicographic in
        ``(c_0, ..., c_{m-1})``): from the shipped table, else found by search."""
        if p**m > MAX_FIELD_SIZE:
            raise ValueError(f"GF({p}^{m}) has more than {MAX_FIELD_SIZE} elements")
        shipped = shipped_primitive_poly(p, m)
        table = _power_table(p, m, shipped) if shipped is not None else None
        if table is None:
            table = _search_primitive(p, m)
        powers = p ** np.arange(m)
        exp_once = table @ powers
        order = p**m - 1
        log = np.zeros(p**m, dtype=np.int64)
        log[exp_once] = np.arange(order)
        digits = _digits(np.arange(p**m), p, m)
        add_table = ((digits[:, None, :] + digits[None, :, :]) % p) @ powers
        neg = ((-digits) % p) @ powers
        exp = np.concatenate([exp_once, exp_once])
        for array in (exp, log, add_table, neg):
            array.setflags(write=False)
        return GFpm(p, m, exp, log, add_table, neg)

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.add_table[a, b]

    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.add_table[a, self.neg[b]]

    def mul(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = np.asarray(a), np.asarray(b)
        prod = self.exp[self.log[a] + self.log[b]]
        return np.where((a == 0) | (b == 0), 0, prod)

    def inv(self, a: np.ndarray) -> np.ndarray:
        """Elementwise inverse (0 maps to 0; callers must not rely on it)."""
        a = np.asarray(a)
        return np.where(a == 0, 0, self.exp[(self.order - self.log[a]) % self.order])

    def power(self, a: np.ndarray, e: int) -> np.ndarray:
        """``a**e`` elementwise (e >= 1)."""
        a = np.asarray(a)
        return np.where(a == 0, 0, self.exp[(self.log[a] * e) % self.order])

    def pow_alpha(self, e: np.ndarray) -> np.ndarray:
        """``alpha**e`` for integer exponents (any sign)."""
        return self.exp[np.mod(e, self.order)]

    def scale(self, c: np.ndarray, a: np.ndarray) -> np.ndarray:
        """``c * a`` for integers c (taken mod p) and field elements a."""
        c = np.mod(np.asarray(c), self.p)
        return self.mul(c, a)  # elements 0..p-1 are the prime subfield

    def digits(self, a: np.ndarray) -> np.ndarray:
        """(..., m) base-p digits of field elements (the GF(p) coordinates)."""
        return _digits(a, self.p, self.m)
