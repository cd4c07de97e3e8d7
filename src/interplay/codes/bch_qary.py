"""Syndrome decoding of sparse vectors over GF(p), p prime: the parity checks of a narrow-sense
BCH code over GF(p) of length p^m - 1, shortened to n.

q-SFT with coded delays reads the GF(p) syndrome digits ``H k mod p`` of an unknown frequency
``k in Z_p^n`` with at most t non-zero entries; this module turns them back into k. The
syndromes are ``S_j = sum_i k_i alpha^(j i)`` in GF(p^m) for j = 1..2t; each is m digits over
GF(p), linear in k (so its rows are delays), and ``S_(p j) = S_j^p`` (k is over GF(p)), so only
the j not divisible by p are read. Decoding is Berlekamp–Massey, a Chien search over the n
positions and Forney's formula for the values, vectorised over all words at once.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from interplay.codes.berlekamp_massey import berlekamp_massey
from interplay.codes.gfpm import MAX_FIELD_SIZE, GFpm

__all__ = ["PrimeBCHCode", "prime_bch_code"]


class PrimeBCHCode:
    """Parity checks and syndrome decoder for vectors of ``Z_p^n`` of weight at most t.

    Parameters
    ----------
    n : int
        Length (features).
    p : int
        A prime (the alphabet size).
    t : int
        Largest number of non-zero entries decoded.

    Attributes
    ----------
    checks : (r, n) int64 array
        Rows ``h`` with ``<h, k> mod p`` the syndrome digits read (r = m times the number of
        j <= 2t not divisible by p).
    """

    def __init__(self, n: int, p: int, t: int) -> None:
        if n < 1 or t < 1:
            raise ValueError(f"need n >= 1 and t >= 1, got n={n}, t={t}")
        if p < 2 or any(p % d == 0 for d in range(2, int(p**0.5) + 1)):
            raise ValueError(f"p must be a prime, got {p}")
        m = 1
        while p**m - 1 < n:
            m += 1
        if p**m > MAX_FIELD_SIZE:
            raise ValueError(f"n={n} needs GF({p}^{m}), above {MAX_FIELD_SIZE} elements")
        self.n, self.p, self.t, self.m = n, p, t, m
        self.field = GFpm.build(p, m)
        self.read_j = np.array([j for j in range(1, 2 * t + 1) if j % p], dtype=np.int64)
        powers = self.field.pow_alpha(self.read_j[:, None] * np.arange(n)[None, :])  # (J, n)
        digits = self.field.digits(powers)  # (J, n, m)
        self.checks = digits.transpose(0, 2, 1).reshape(-1, n).astype(np.int64)
        self.n_checks = self.checks.shape[0]

    def syndromes(self, reads: np.ndarray) -> np.ndarray:
        """(K, 2t) syndromes ``S_1 .. S_2t`` from (K, r) syndrome digits."""
        gf = self.field
        digits = np.asarray(reads, dtype=np.int64).reshape(-1, self.read_j.size, self.m) % self.p
        read = digits @ (self.p ** np.arange(self.m))  # (K, J) field elements
        out = np.zeros((read.shape[0], 2 * self.t), dtype=np.int64)
        known = dict(zip(self.read_j.tolist(), read.T, strict=True))
        for j in range(1, 2 * self.t + 1):
            if j % self.p:
                out[:, j - 1] = known[j]
            else:
                out[:, j - 1] = gf.power(out[:, j // self.p - 1], self.p)
        return out

    def decode(self, reads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectors with these syndrome digits and at most t non-zero entries.

        Parameters
        ----------
        reads : (K, r) int array
            ``checks @ k mod p`` for each word.

        Returns
        -------
        freq : (K, n) int64 array
        ok : (K,) bool array
            False where no vector of weight <= t has these syndromes.
        """
        gf = self.field
        synd = self.syndromes(reads)
        n_words, two_t = synd.shape
        t = self.t
        conn, length = berlekamp_massey(gf, synd)
        locator = conn[:, : t + 1]
        ok = (length <= t) & (conn[:, t + 1 :] == 0).all(axis=1)
        # Chien search: Lambda(alpha^-i) for the n positions
        inverse_points = gf.pow_alpha(-np.arange(self.n))  # (n,)
        values = np.zeros((n_words, self.n), dtype=np.int64)
        for j in range(t + 1):
            term = gf.mul(locator[:, j : j + 1], gf.power(inverse_points, j)[None, :]) if j else (
                np.broadcast_to(locator[:, :1], (n_words, self.n))
            )
            values = gf.add(values, term)
        is_root = values == 0
        ok &= is_root.sum(axis=1) == length
        # Forney: e_i = -Omega(X^-1) / Lambda'(X^-1), Omega = S(x) Lambda(x) mod x^2t
        omega = np.zeros((n_words, two_t), dtype=np.int64)
        for a in range(t + 1):
            for b in range(two_t - a):
                omega[:, a + b] = gf.add(omega[:, a + b], gf.mul(locator[:, a], synd[:, b]))
        omega_at = np.zeros((n_words, self.n), dtype=np.int64)
        derivative_at = np.zeros((n_words, self.n), dtype=np.int64)
        for j in range(two_t):
            point = gf.power(inverse_points, j)[None, :] if j else np.ones((1, self.n), np.int64)
            omega_at = gf.add(omega_at, gf.mul(omega[:, j : j + 1], point))
            if 1 <= j + 1 <= t:
                # derivative term (j + 1) Lambda_(j+1) x^j
                coef = gf.scale(j + 1, locator[:, j + 1 : j + 2])
                derivative_at = gf.add(derivative_at, gf.mul(coef, point))
        value = gf.neg[gf.mul(omega_at, gf.inv(derivative_at))]
        value = np.where(is_root, value, 0)
        ok &= ~(is_root & ((derivative_at == 0) | (value == 0) | (value >= self.p))).any(axis=1)
        freq = np.where(ok[:, None], value, 0).astype(np.int64)
        return freq, ok


@lru_cache(maxsize=16)
def prime_bch_code(n: int, p: int, t: int) -> PrimeBCHCode:
    """The cached :class:`PrimeBCHCode` for (n, p, t)."""
    return PrimeBCHCode(n, p, t)
