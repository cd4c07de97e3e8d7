"""Shortened binary BCH codes with vectorised hard and soft (Chase) decoding.

SPEX uses a systematic BCH code whose *message* is the unknown frequency k ∈ F₂^n (weight
≤ t) and whose *parity* bits are what the coded delays observe. Decoding the received word
(message part all zeros, parity part observed) returns the error pattern, whose message part
is k itself. Everything per word — syndromes, Berlekamp–Massey, Chien search, Chase
candidates — is numpy over all words at once.

Codeword layout (polynomial c(x) = msg(x)·x^r + (msg(x)·x^r mod g(x))): parity bit p sits at
position p (0 ≤ p < r), message bit i at position r + i.

Generator polynomials come from ``bch_table.json``, built once by ``scripts/build_bch_table.py``
with `galois`; parameters missing from it are built with galois at run time and cached.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from interplay.codes.berlekamp_massey import berlekamp_massey
from interplay.codes.gf2m import GF2m

__all__ = ["BCHCode", "DecodeResult", "bch_generator", "smallest_code"]


def _cache_dir() -> Path:
    base = os.environ.get("INTERPLAY_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "interplay"
    )
    return Path(base)


@lru_cache(maxsize=1)
def _shipped_table() -> dict:
    text = resources.files("interplay.codes").joinpath("bch_table.json").read_text()
    return json.loads(text)


def bch_generator(m: int, t: int) -> tuple[int, int]:
    """(primitive polynomial, generator polynomial) of the narrow-sense BCH code of length
    2^m − 1 correcting t errors, as bit masks (bit i = coefficient of x^i)."""
    entry = _shipped_table().get(str(m))
    if entry and str(t) in entry["generators"]:
        return int(entry["primitive_poly"]), int(entry["generators"][str(t)], 16)
    cached = _cache_dir() / "bch" / f"m{m}_t{t}.json"
    if cached.exists():
        data = json.loads(cached.read_text())
        return int(data["primitive_poly"]), int(data["generator"], 16)
    import galois  # slow first call (JIT); only for parameters not shipped

    code = galois.BCH(2**m - 1, d=2 * t + 1)
    if code.t != t:
        raise ValueError(f"no binary BCH code of length {2**m - 1} corrects {t} errors")
    prim = int("".join(str(int(c)) for c in code.extension_field.irreducible_poly.coeffs), 2)
    gen = int("".join(str(int(c)) for c in code.generator_poly.coeffs), 2)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps({"primitive_poly": prim, "generator": hex(gen)}))
    return prim, gen


def smallest_code(n_message: int, t: int) -> tuple[int, int, int]:
    """Smallest m whose BCH(2^m − 1, t) code carries ``n_message`` message bits.

    Returns (m, primitive polynomial, generator polynomial).
    """
    for m in range(3, 17):
        if (1 << m) - 1 <= n_message + t:
            continue
        try:
            prim, gen = bch_generator(m, t)
        except (ValueError, IndexError):  # galois: no such code at this length
            continue
        r = gen.bit_length() - 1
        if (1 << m) - 1 - r >= n_message:
            return m, prim, gen
    raise ValueError(f"no BCH code up to length 65535 has {n_message} message bits and t={t}")


@dataclass
class DecodeResult:
    """Output of :meth:`BCHCode.decode` for B received words.

    Attributes
    ----------
    ok : (B,) bool
        Decoding succeeded (a codeword within distance t was found).
    support : (B, t) int
        Message positions (feature indices) of the decoded k, padded with −1.
    weight : (B,) int
        Number of message positions in ``support``.
    n_parity_errors : (B,) int
        Parity bits the decoder corrected.
    """

    ok: np.ndarray
    support: np.ndarray
    weight: np.ndarray
    n_parity_errors: np.ndarray


class BCHCode:
    """A shortened systematic binary BCH code with ``n_message`` message bits.

    Parameters
    ----------
    n_message : int
        Message length (the number of features n).
    t : int
        Error-correcting capability.

    Attributes
    ----------
    n_parity : int
        r = deg g, the number of parity bits (SPEX's number of coded delays).
    parity_matrix : (n_message, r) bool array
        Row i = parity bits of the unit message e_i; parity(k) = k · parity_matrix (mod 2).
    """

    def __init__(self, n_message: int, t: int) -> None:
        if n_message < 1 or t < 1:
            raise ValueError(f"need n_message >= 1 and t >= 1, got {n_message}, {t}")
        self.n_message = int(n_message)
        self.t = int(t)
        self.m, prim, gen = smallest_code(self.n_message, self.t)
        self.field = GF2m.build(self.m, prim)
        self.generator = gen
        self.n_parity = gen.bit_length() - 1
        self.parity_matrix = self._parity_matrix()
        r = self.n_parity
        # α^(j·p) for syndromes j = 1..2t and parity positions p.
        j = np.arange(1, 2 * self.t + 1)[:, None]
        self._syndrome_powers = self.field.pow_alpha(j * np.arange(r)[None, :])  # (2t, r)
        # Chien search tables: log α^(-j·pos) for j = 0..t over every code position, and
        # the antilog table in 16 bits (m <= 16)
        pos = np.arange(r + self.n_message)
        order = self.field.order
        self._chien_logs = np.mod(-np.arange(self.t + 1)[:, None] * pos[None, :], order).astype(
            np.int32
        )  # (t+1, n_pos)
        self._exp16 = self.field.exp.astype(np.uint16)

    def _parity_matrix(self) -> np.ndarray:
        r, gen = self.n_parity, self.generator
        n_bytes = r // 8 + 1
        packed = bytearray()
        reg = (1 << r) ^ gen  # x^r mod g, as a Python int (r may exceed 64 bits)
        for _ in range(self.n_message):
            packed += reg.to_bytes(n_bytes, "little")
            reg <<= 1  # multiply by x
            if reg >> r & 1:
                reg ^= gen
        bits = np.unpackbits(np.frombuffer(bytes(packed), dtype=np.uint8), bitorder="little")
        return bits.reshape(self.n_message, n_bytes * 8)[:, :r].astype(bool)

    def parity(self, supports: np.ndarray) -> np.ndarray:
        """Parity bits of messages given by padded supports.

        Parameters
        ----------
        supports : (B, w) int array
            Message positions with value 1, padded with −1.

        Returns
        -------
        (B, r) bool array
        """
        supports = np.asarray(supports)
        valid = supports >= 0
        rows = self.parity_matrix[np.where(valid, supports, 0)]  # (B, w, r)
        rows &= valid[:, :, None]
        return np.bitwise_xor.reduce(rows, axis=1) if supports.shape[1] else np.zeros(
            (supports.shape[0], self.n_parity), dtype=bool
        )

    # ---------------------------------------------------------------- decoding
    def syndromes(self, parity_bits: np.ndarray) -> np.ndarray:
        """(B, 2t) syndromes of received words whose message part is zero."""
        terms = np.where(parity_bits[:, None, :], self._syndrome_powers[None, :, :], 0)
        return np.bitwise_xor.reduce(terms, axis=2)

    def _chien(self, locator: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Roots of the locators among the code's positions.

        Returns (ok (B,), positions (B, t) padded with −1)."""
        gf = self.field
        n_words = locator.shape[0]
        t = self.t
        n_pos = self.n_parity + self.n_message
        ok = (length <= t) & (locator[:, t + 1 :] == 0).all(axis=1)
        positions = np.full((n_words, t), -1, dtype=np.int64)
        found = np.zeros(n_words, dtype=np.int64)
        chunk = max(1, 2_000_000 // (n_pos * (t + 1)))
        for start in range(0, n_words, chunk):
            sl = slice(start, start + chunk)
            lam = locator[sl, : t + 1]  # (b, t+1)
            # Λ(α^{-pos}) = XOR_j Λ_j · α^{-j·pos}; a sum of two logs indexes exp directly
            values = np.zeros((lam.shape[0], n_pos), dtype=np.uint16)
            for j in range(t + 1):
                term = self._exp16[gf.log[lam[:, j]].astype(np.int32)[:, None]
                                   + self._chien_logs[j][None, :]]
                term[lam[:, j] == 0] = 0
                values ^= term
            is_root = values == 0
            n_roots = is_root.sum(axis=1)
            found[sl] = n_roots
            # first t roots, in position order
            order = np.argsort(~is_root, axis=1, kind="stable")[:, :t]
            hit = np.take_along_axis(is_root, order, axis=1)
            positions[sl] = np.where(hit, order, -1)
        ok &= found == length
        return ok, positions

    def decode(self, parity_bits: np.ndarray) -> DecodeResult:
        """Hard-decision decoding of received words (message zero, parity observed).

        Parameters
        ----------
        parity_bits : (B, r) bool array

        Returns
        -------
        DecodeResult
        """
        parity_bits = np.asarray(parity_bits, dtype=bool)
        if parity_bits.ndim != 2 or parity_bits.shape[1] != self.n_parity:
            raise ValueError(f"parity_bits must be (B, {self.n_parity}), got {parity_bits.shape}")
        synd = self.syndromes(parity_bits)
        locator, length = berlekamp_massey(self.field, synd)
        ok, positions = self._chien(locator, length)
        r = self.n_parity
        is_msg = positions >= r
        big = np.iinfo(np.int64).max
        support = np.sort(np.where(is_msg & ok[:, None], positions - r, big), axis=1)
        support = np.where(support == big, -1, support)
        weight = np.where(ok, is_msg.sum(axis=1), 0)
        n_par = np.where(ok, ((positions >= 0) & (positions < r)).sum(axis=1), 0)
        return DecodeResult(ok, support, weight, n_par)

    def chase_decode(
        self, soft: np.ndarray, *, depth: int = 3
    ) -> tuple[DecodeResult, np.ndarray]:
        """Soft-decision (Chase-II) decoding.

        Parameters
        ----------
        soft : (B, r) float array
            Soft parity observations: the sign gives the bit (negative → 1), the magnitude
            its reliability.
        depth : int
            The ``depth`` least reliable bits of each word are flipped in all 2^depth ways.

        Returns
        -------
        result : DecodeResult
            For each word the candidate of maximum correlation with ``soft`` among those that
            decode.
        correlation : (B,) float
            Σ_p soft_p · (−1)^{parity_p(k)} of the chosen candidate (−inf where none decoded).
        """
        soft = np.asarray(soft, dtype=np.float64)
        n_words, r = soft.shape
        depth = int(min(max(depth, 0), r))
        hard = soft < 0
        weakest = np.argsort(np.abs(soft), axis=1)[:, :depth]  # (B, depth)
        patterns = ((np.arange(2**depth)[:, None] >> np.arange(depth)[None, :]) & 1).astype(bool)
        flips = np.zeros((n_words, 2**depth, r), dtype=bool)
        word_idx = np.arange(n_words)[:, None, None]
        flips[word_idx, np.arange(2**depth)[None, :, None], weakest[:, None, :]] = patterns[None]
        candidates = (hard[:, None, :] ^ flips).reshape(-1, r)
        result = self.decode(candidates)
        # correlation of the decoded codeword's parity with the soft observation
        parity = self.parity(result.support)  # (B·2^depth, r)
        signs = 1.0 - 2.0 * parity
        corr = (signs * np.repeat(soft, 2**depth, axis=0)).sum(axis=1)
        corr = np.where(result.ok, corr, -np.inf).reshape(n_words, 2**depth)
        best = np.argmax(corr, axis=1)
        pick = np.arange(n_words) * 2**depth + best
        chosen = DecodeResult(
            result.ok[pick], result.support[pick], result.weight[pick], result.n_parity_errors[pick]
        )
        return chosen, corr[np.arange(n_words), best]
