"""The verified variant of the feedback codes: per-slot fingerprints of the scheduled users.

After the code proper, the message stores per-slot occupancies (unless every slot must be full)
and, slot by slot, the ``r``-bit fingerprints of its users, so that an inactive user learns it
was not scheduled except with probability ``<= per_slot * 2^-r``.
"""

from __future__ import annotations

import math

import numpy as np

from interplay.codes.feedback_bits import BitWriter, MalformedMessageError
from interplay.codes.feedback_layout import fmix64

__all__ = ["check_verification", "verification_length", "write_verification"]

_FP_SALT = np.uint64(0xD6E8FEB86659FD93)


def _fingerprints(keys: np.ndarray, r: int) -> np.ndarray:
    return (fmix64(keys ^ _FP_SALT) >> np.uint64(64 - r)).astype(np.int64)


def _occupancy_width(k: int, slots: int, per_slot: int) -> int:
    if k == slots * per_slot:
        return 0
    return math.ceil(math.log2(per_slot + 1))


def write_verification(writer: BitWriter, keys: np.ndarray, slot: np.ndarray, slots: int, per_slot: int, r: int) -> None:
    """Append the occupancies and the slot-ordered ``r``-bit fingerprints of the active keys."""
    k = keys.size
    width = _occupancy_width(k, slots, per_slot)
    occupancy = np.bincount(slot, minlength=slots)
    if width:
        shifts = np.arange(width - 1, -1, -1)
        writer.write_bits(((occupancy[:, None] >> shifts[None, :]) & 1).astype(np.uint8).ravel())
    fp = _fingerprints(keys, r)
    order = np.lexsort((fp, slot))
    shifts = np.arange(r - 1, -1, -1)
    writer.write_bits(((fp[order][:, None] >> shifts[None, :]) & 1).astype(np.uint8).ravel())


def verification_length(k: int, slots: int, per_slot: int, r: int) -> int:
    """Exact number of bits :func:`write_verification` appends."""
    return slots * _occupancy_width(k, slots, per_slot) + k * r


def check_verification(bits: np.ndarray, keys: np.ndarray, slot: np.ndarray, k: int, slots: int, per_slot: int, r: int) -> np.ndarray:
    """``(N,)`` bool: does each user's fingerprint appear among its slot's stored ones?"""
    width = _occupancy_width(k, slots, per_slot)
    if width:
        occ_bits = bits[: slots * width].reshape(slots, width).astype(np.int64)
        occupancy = occ_bits @ (1 << np.arange(width - 1, -1, -1))
        if occupancy.sum() != k or occupancy.max(initial=0) > per_slot:
            raise MalformedMessageError("feedback message corrupt: slot occupancies do not add up to k")
    else:
        occupancy = np.full(slots, per_slot, dtype=np.int64)
    fp_bits = bits[slots * width :].reshape(k, r).astype(np.int64)
    stored = fp_bits @ (1 << np.arange(r - 1, -1, -1))
    first = np.concatenate([[0], np.cumsum(occupancy)])
    mine = _fingerprints(keys, r)
    member = np.zeros(keys.size, dtype=bool)
    for j in range(per_slot):
        pos = first[slot] + j
        has = j < occupancy[slot]
        member |= has & (stored[np.minimum(pos, k - 1)] == mine)
    return member
