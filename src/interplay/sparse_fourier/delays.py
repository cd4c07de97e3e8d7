"""Delay codes: which shifted copies of each subsampled point are queried, and how the
frequency of a singleton bin is read back from them.

A delay code holds the delays ``d_p`` (P, n) and reads a frequency k from a bin's
observations ``U_p = F omega^<d_p, k>`` (plus noise):

- :class:`UnitDelays` — blocks ``a_r, a_r + e_1, ..., a_r + e_n``: each ``k_i`` is the phase
  of ``U(a_r + e_i) conj(U(a_r))``. ``n_repeats = 1`` with ``a_1 = 0`` is the identity code
  (noiseless functions, ``n + 1`` delays); random offsets read each ``k_i`` R times
  (noisy functions). Any q.
- :class:`BCHDelays` — q = 2: the delays are the parity checks of a binary BCH code whose
  message is k; the signs of ``U_p`` spell the parity bits, and soft (Chase) decoding
  returns k. ``1 + r`` delays with ``r ~ t log2 n`` for interactions of up to t features.
- :class:`BinaryDigitBCHDelays` — q a power of two, any noise level: blocks
  ``a_r, a_r + h_1, ..., a_r + h_r`` with ``h_p`` the parity checks of the same binary BCH
  code. The phases read ``<h_p, k> mod q``; writing ``k = k^0 + 2 k^1 + 4 k^2 + ...`` with
  binary digit vectors ``k^s`` (each of weight at most t when k is), the reads mod 2 are the
  parity bits of ``k^0``, and once ``k^0`` is decoded and removed, the next bit of each read
  is the parity of ``k^1``, and so on: ``log2 q`` binary decodings from ``R (1 + r)`` delays
  instead of ``R (n + 1)``. (The Z_2 decomposition is the documented choice for q = 4.)
- :class:`PrimeBCHDelays` — q prime: blocks ``a_r, a_r + h_1, ...`` with ``h`` the syndrome
  digits of a BCH code over GF(q) (:mod:`interplay.codes.bch_qary`); the phases read
  ``H k mod q``, decoded by Berlekamp–Massey and Forney over GF(q^m).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol, runtime_checkable

import numpy as np

from interplay.codes.bch import BCHCode
from interplay.codes.bch_qary import prime_bch_code

__all__ = [
    "BCHDelays",
    "BinaryDigitBCHDelays",
    "DelayCode",
    "PrimeBCHDelays",
    "UnitDelays",
    "bch_code",
    "coded_delay_count",
    "coded_delays",
    "offset_blocks",
    "phase_reads",
]


def offset_blocks(
    block: np.ndarray, q: int, n_repeats: int, rng: np.random.Generator | None
) -> tuple[np.ndarray, np.ndarray]:
    """Delays ``a_r + h`` for every row h of ``block`` (its first row zero) and offset a_r.

    Returns
    -------
    offsets : (R, n) int64 array
        Zero (one block) when ``rng`` is None, else drawn uniformly.
    delays : (R * len(block), n) int64 array, block after block.
    """
    n = block.shape[1]
    if rng is None:
        offsets = np.zeros((1, n), dtype=np.int64)
    else:
        offsets = rng.integers(0, q, size=(n_repeats, n))
    delays = ((offsets[:, None, :] + block[None, :, :]) % q).reshape(-1, n)
    return offsets, delays


def phase_reads(observations: np.ndarray, n_repeats: int, q: int) -> np.ndarray:
    """Continuous reads of ``<h, k>`` (in steps of ``2 pi / q``) from offset blocks.

    Parameters
    ----------
    observations : (K, R * (1 + r)) array
        ``U`` at the delays of :func:`offset_blocks`.

    Returns
    -------
    (K, r) float array: the phase of ``sum_r U(a_r + h) conj(U(a_r))`` times ``q / 2 pi``.
    """
    blocks = np.asarray(observations, dtype=np.complex128).reshape(
        observations.shape[0], n_repeats, -1
    )
    z = np.einsum("kri,kr->ki", blocks[:, :, 1:], np.conj(blocks[:, :, 0]))
    return np.angle(z) * q / (2 * np.pi)


@runtime_checkable
class DelayCode(Protocol):
    """What the peeler needs from a delay code.

    Attributes
    ----------
    delays : (P, n) int64 array
        The delays ``d_p``, states in ``0..q-1``.
    """

    delays: np.ndarray
    #: Whether a wrong read is mostly refused (``ok`` False) rather than returned: then the
    #: peeler may take a dominant term out of a crowded bin.
    checks_reads: bool

    def decode(self, observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frequencies read from bins assumed to be singletons.

        Parameters
        ----------
        observations : (K, P) float or complex array
            ``U_p`` of K bins.

        Returns
        -------
        freq : (K, n) int64 array
            The frequency read from each bin (its consistency is checked by the caller).
        ok : (K,) bool array
            False where the code could not read one.
        """
        ...


class UnitDelays:
    """Delay blocks ``a_r, a_r + e_1, ..., a_r + e_n`` over ``Z_q``.

    Parameters
    ----------
    n, q : int
    n_repeats : int
        Number of blocks R.
    rng : numpy Generator, optional
        Draws the offsets ``a_r``; ``None`` is the identity code (one block, ``a_1 = 0``).
    """

    checks_reads = False

    def __init__(self, n: int, q: int, n_repeats: int = 1, rng: np.random.Generator | None = None):
        self.n, self.q = n, q
        unit = np.vstack([np.zeros((1, n), dtype=np.int64), np.eye(n, dtype=np.int64)])
        offsets, self.delays = offset_blocks(unit, q, n_repeats, rng)
        self.n_repeats = offsets.shape[0]
        self.offsets_t = offsets.astype(np.float64).T  # (n, R)
        self.roots = np.exp(2j * np.pi * np.arange(q) / q)

    def decode(self, observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Phase read of each ``k_i``, then two maximum-likelihood re-reads (see the module)."""
        n, q = self.n, self.q
        k = np.rint(phase_reads(observations, self.n_repeats, q)).astype(np.int64) % q
        blocks = np.asarray(observations, dtype=np.complex128).reshape(-1, self.n_repeats, n + 1)
        for _ in range(2):
            # Re-read each k_i against the estimated coefficient F^ = mean_p U_p omega^-<d_p,k>,
            # with omega^<d_p, k> = omega^<a_r, k> omega^k_i.
            base = np.rint(k.astype(np.float64) @ self.offsets_t).astype(np.int64) % q  # (K, R)
            t = np.einsum("kri,kr->ki", blocks, np.conj(self.roots[base]))  # (K, n + 1)
            coef = t[:, 0] + np.einsum("ki,ki->k", t[:, 1:], np.conj(self.roots[k]))
            w = t[:, 1:] * np.conj(coef)[:, None]
            k = np.rint(np.angle(w) * q / (2 * np.pi)).astype(np.int64) % q
        return k, np.ones(k.shape[0], dtype=bool)


@lru_cache(maxsize=16)
def bch_code(n: int, t: int) -> BCHCode:
    """The shortened binary BCH code with n message bits correcting t errors (cached)."""
    return BCHCode(n, t)


class BCHDelays:
    """Binary BCH-coded delays (q = 2): the zero delay and one delay per parity bit.

    Parameters
    ----------
    n : int
        Number of features (message bits).
    t : int
        Interactions of up to t features are read (the code corrects t errors).
    chase_depth : int
        Soft decoding flips the ``chase_depth`` least reliable parity bits.
    """

    checks_reads = True

    def __init__(self, n: int, t: int, *, chase_depth: int = 3) -> None:
        self.n, self.t = n, t
        self.code = bch_code(n, t)
        self.chase_depth = chase_depth
        self.delays = np.zeros((self.code.n_parity + 1, n), dtype=np.int64)
        self.delays[1:] = self.code.parity_matrix.T

    @staticmethod
    def n_delays(n: int, t: int) -> int:
        """Delays of the code for (n, t), the zero delay included."""
        return bch_code(n, t).n_parity + 1

    def decode(self, observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Chase decoding of the parity signs, relative to the zero delay's sign."""
        obs = np.asarray(observations, dtype=np.float64)
        soft = obs[:, 1:] * np.where(obs[:, :1] < 0, -1.0, 1.0)
        decoded, _ = self.code.chase_decode(soft, depth=self.chase_depth)
        freq = np.zeros((obs.shape[0], self.n), dtype=np.int64)
        rows, cols = np.nonzero(decoded.support >= 0)
        freq[rows, decoded.support[rows, cols]] = 1
        return freq, decoded.ok


class BinaryDigitBCHDelays:
    """Binary BCH parity checks as delays over ``Z_q``, q a power of two (see the module).

    Parameters
    ----------
    n, q : int
        Features and states per feature (a power of two).
    t : int
        Frequencies with at most t non-zero entries are read.
    n_repeats : int
        Delay blocks R; each parity read is the phase of ``sum_r U(a_r + h_p) conj(U(a_r))``.
    rng : numpy Generator, optional
        Draws the block offsets ``a_r``; ``None``: one block with ``a_1 = 0``.
    chase_depth : int
        Soft decoding of each digit flips its ``chase_depth`` least reliable reads.
    """

    checks_reads = True

    def __init__(
        self,
        n: int,
        q: int,
        t: int,
        n_repeats: int = 1,
        rng: np.random.Generator | None = None,
        *,
        chase_depth: int = 3,
    ) -> None:
        if q < 2 or q & (q - 1):
            raise ValueError(f"binary-digit BCH delays need q a power of two, got q={q}")
        self.n, self.q, self.t = n, q, t
        self.n_digits = q.bit_length() - 1
        self.code = bch_code(n, t)
        self.chase_depth = chase_depth
        checks = self.code.parity_matrix.T.astype(np.int64)  # (r, n)
        self.checks_t = checks.T.astype(np.float64)  # (n, r)
        block = np.vstack([np.zeros((1, n), dtype=np.int64), checks])  # (1 + r, n)
        offsets, self.delays = offset_blocks(block, q, n_repeats, rng)
        self.n_repeats = offsets.shape[0]

    @staticmethod
    def n_delays(n: int, t: int, n_repeats: int = 1) -> int:
        """Delays of the code for (n, t) and R blocks."""
        return n_repeats * (bch_code(n, t).n_parity + 1)

    def decode(self, observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Phase reads of the parity checks, then one binary decoding per digit."""
        q = self.q
        position = phase_reads(observations, self.n_repeats, q)
        reads = np.rint(position).astype(np.int64) % q
        # reliability of a read: distance to the nearest decision boundary
        reliability = 0.5 - np.abs(position - np.rint(position)) + 1e-9
        freq = np.zeros((position.shape[0], self.n), dtype=np.int64)
        ok = np.ones(position.shape[0], dtype=bool)
        for digit in range(self.n_digits):
            bits = reads & 1
            decoded, _ = self.code.chase_decode(
                (1.0 - 2.0 * bits) * reliability, depth=self.chase_depth
            )
            ok &= decoded.ok
            rows, cols = np.nonzero(decoded.support >= 0)
            vector = np.zeros_like(freq)
            vector[rows, decoded.support[rows, cols]] = 1
            freq += vector << digit
            parity = np.rint(vector.astype(np.float64) @ self.checks_t).astype(np.int64)
            reads = ((reads - parity) % (q >> digit)) >> 1
        return freq, ok


class PrimeBCHDelays:
    """BCH syndrome digits over GF(p) as delays over ``Z_p``, p prime (see the module).

    Parameters
    ----------
    n, p : int
        Features and states per feature (a prime).
    t : int
        Frequencies with at most t non-zero entries are read.
    n_repeats : int
        Delay blocks R; each read is the phase of ``sum_r U(a_r + h) conj(U(a_r))``.
    rng : numpy Generator, optional
        Draws the block offsets ``a_r``; ``None``: one block with ``a_1 = 0``.
    """

    checks_reads = True

    def __init__(
        self, n: int, p: int, t: int, n_repeats: int = 1, rng: np.random.Generator | None = None
    ) -> None:
        self.n, self.q, self.t = n, p, t
        self.code = prime_bch_code(n, p, t)
        block = np.vstack([np.zeros((1, n), dtype=np.int64), self.code.checks])
        offsets, self.delays = offset_blocks(block, p, n_repeats, rng)
        self.n_repeats = offsets.shape[0]

    @staticmethod
    def n_delays(n: int, p: int, t: int, n_repeats: int = 1) -> int:
        """Delays of the code for (n, p, t) and R blocks."""
        return n_repeats * (prime_bch_code(n, p, t).n_checks + 1)

    def decode(self, observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Hard phase reads of the syndrome digits, then syndrome decoding over GF(p^m)."""
        reads = np.rint(phase_reads(observations, self.n_repeats, self.q)).astype(np.int64)
        return self.code.decode(reads % self.q)


def coded_delays(
    n: int, q: int, t: int, n_repeats: int = 1, rng: np.random.Generator | None = None
) -> BinaryDigitBCHDelays | PrimeBCHDelays:
    """BCH-coded delays for ``Z_q``: binary digits for q a power of two, GF(q) for q prime."""
    if q & (q - 1) == 0:
        return BinaryDigitBCHDelays(n, q, t, n_repeats, rng)
    if all(q % d for d in range(2, int(q**0.5) + 1)):
        return PrimeBCHDelays(n, q, t, n_repeats, rng)
    raise ValueError(
        f"BCH-coded delays need q a power of two or a prime, got q={q}; use unit delays"
    )


def coded_delay_count(n: int, q: int, t: int, n_repeats: int = 1) -> int:
    """Delays of :func:`coded_delays` for these parameters (nothing is drawn)."""
    if q & (q - 1) == 0:
        return BinaryDigitBCHDelays.n_delays(n, t, n_repeats)
    return PrimeBCHDelays.n_delays(n, q, t, n_repeats)
