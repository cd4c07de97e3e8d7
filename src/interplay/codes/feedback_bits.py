"""Bit strings for feedback messages: a writer, a reader and Rice codes.

Messages are built as numpy ``uint8`` arrays of 0/1 values (most significant bit first) and
shipped as bytes (``np.packbits``, zero padding to a whole byte). The codes are
self-delimiting, so the padding is never read as data; readers reject non-zero padding.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = [
    "BitReader",
    "BitWriter",
    "MalformedMessageError",
    "bits_from_message",
    "rice_expected_length",
    "rice_parameter",
]


class MalformedMessageError(ValueError):
    """The feedback message cannot have been produced by the encoder for these parameters."""


class BitWriter:
    """Append unsigned integers of given widths and Rice codes; ``bits()`` returns the result."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self.n_bits = 0

    def write(self, value: int, width: int) -> None:
        """Append ``value`` (``0 <= value < 2**width``) in ``width`` bits, MSB first."""
        if width == 0:
            if value:
                raise ValueError("a zero-width field can only hold 0")
            return
        if value < 0 or value >> width:
            raise ValueError(f"value {value} does not fit in {width} bits")
        shifts = np.arange(width - 1, -1, -1, dtype=np.uint64)
        self.write_bits(((np.uint64(value) >> shifts) & np.uint64(1)).astype(np.uint8))

    def write_bits(self, bits: np.ndarray) -> None:
        """Append a ``(L,)`` array of 0/1 values."""
        bits = np.asarray(bits, dtype=np.uint8)
        self._chunks.append(bits)
        self.n_bits += int(bits.size)

    def write_rice(self, value: int, r: int) -> None:
        """Golomb–Rice code with parameter ``2**r``: ``value >> r`` ones, a zero, ``r`` low bits."""
        q = value >> r
        self.write_bits(np.concatenate([np.ones(q, np.uint8), np.zeros(1, np.uint8)]))
        self.write(value & ((1 << r) - 1), r)

    def bits(self) -> np.ndarray:
        """The message so far, a ``(n_bits,)`` uint8 array of 0/1."""
        if not self._chunks:
            return np.zeros(0, np.uint8)
        return np.concatenate(self._chunks)


class BitReader:
    """Read fields from a ``(L,)`` 0/1 array; reading past the end raises a clear error."""

    def __init__(self, bits: np.ndarray) -> None:
        self.bits = bits
        self.pos = 0
        self._zeros: np.ndarray | None = None

    def need(self, count: int) -> None:
        """Raise :class:`MalformedMessageError` unless ``count`` more bits are left to read."""
        if self.pos + count > self.bits.size:
            raise MalformedMessageError(
                f"feedback message too short: needed {self.pos + count} bits, it has {self.bits.size}"
            )

    def read(self, width: int) -> int:
        """Read an unsigned ``width``-bit integer."""
        self.need(width)
        value = 0
        for bit in self.bits[self.pos : self.pos + width].tolist():
            value = (value << 1) | bit
        self.pos += width
        return value

    def read_rice(self, r: int, limit: int = 1 << 40) -> int:
        """Read a Rice code with parameter ``2**r`` (quotient capped at ``limit``)."""
        if self._zeros is None:
            self._zeros = np.flatnonzero(self.bits == 0)
        at = int(np.searchsorted(self._zeros, self.pos))
        if at == self._zeros.size:
            raise MalformedMessageError("feedback message too short: unterminated Rice code")
        q = int(self._zeros[at]) - self.pos
        if q > limit:
            raise MalformedMessageError("feedback message corrupt: Rice quotient out of range")
        self.pos += q + 1
        return (q << r) | self.read(r)


def bits_from_message(message: bytes | bytearray | np.ndarray, expected_bits: int | None = None) -> np.ndarray:
    """Turn a message (``bytes`` or a 0/1 array) into a 0/1 ``uint8`` array.

    Parameters
    ----------
    message : bytes or (L,) array of 0/1
        As returned by the encoder.
    expected_bits : int, optional
        When known, bytes must have exactly ``ceil(expected_bits / 8)`` bytes with zero padding
        and a bit array exactly ``expected_bits`` entries.

    Raises
    ------
    MalformedMessageError
        On a wrong type, a wrong length, non-binary entries or non-zero padding.
    """
    if isinstance(message, (bytes, bytearray, memoryview)):
        bits = np.unpackbits(np.frombuffer(bytes(message), dtype=np.uint8))
        if expected_bits is not None:
            if len(message) != math.ceil(expected_bits / 8):
                raise MalformedMessageError(
                    f"feedback message has {len(message)} bytes, expected {math.ceil(expected_bits / 8)}"
                )
            if bits[expected_bits:].any():
                raise MalformedMessageError("feedback message has non-zero padding bits")
            bits = bits[:expected_bits]
        return bits
    if isinstance(message, np.ndarray):
        if message.ndim != 1 or (message.size and not np.isin(message, (0, 1)).all()):
            raise MalformedMessageError("a bit-array message must be 1-D with entries 0/1")
        if expected_bits is not None and message.size != expected_bits:
            raise MalformedMessageError(
                f"feedback message has {message.size} bits, expected {expected_bits}"
            )
        return message.astype(np.uint8, copy=False)
    raise MalformedMessageError(
        f"a feedback message must be bytes or a 0/1 numpy array, got {type(message).__name__}"
    )


def rice_expected_length(p: float, r: int) -> float:
    """Expected Rice-code length of a geometric ``G >= 0`` with ``P[G >= j] = (1-p)^j``."""
    a = math.exp(math.log1p(-p) * (1 << r)) if p < 1 else 0.0
    return r + 1 + (a / (1.0 - a) if a < 1 else math.inf)


@lru_cache(maxsize=4096)
def rice_parameter(p: float) -> int:
    """The Rice parameter ``r`` minimising :func:`rice_expected_length` for success prob ``p``."""
    if p >= 1:
        return 0
    best = min(range(48), key=lambda r: rice_expected_length(p, r))
    return int(best)
