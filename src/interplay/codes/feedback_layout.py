"""Hashing and the split tree shared by the feedback encoder and decoder.

Every active user is hashed by a seeded 64-bit mixer (the splitmix64 finaliser, vectorised over
numpy ``uint64`` arrays). The users are split recursively, in the manner of RecSplit minimal
perfect hashing, into two parts of sizes fixed in advance (multiples of the leaf size) until at
most ``leaf_size`` remain; a leaf maps its users onto its own range of slots. The tree depends
only on ``(k, slots, per_slot, leaf_size)``, so the decoder rebuilds it from the header.

Each internal node (a *split*) and each leaf is a search task: find a seed under which the hash
sends exactly ``s1`` of the node's ``s`` users left (probability ``C(s,s1) (s1/s)^s1
(s2/s)^s2``), or maps the leaf's users with at most ``per_slot`` per slot (probability
:func:`~interplay.codes.feedback_bounds.log2_success_probability`). The product of the task
probabilities along the tree equals the probability that a uniformly random map is
collision-free when ``slots == k`` (chain rule), which is why the code can approach the bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import gammaln

from interplay.codes.feedback_bounds import log2_success_probability

__all__ = ["MASK64", "Layout", "build_layout", "cells", "fmix64", "leaf_log2p", "route", "task_success", "user_keys"]

MASK64 = (1 << 64) - 1
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_USER_SALT = np.uint64(0x5851F42D4C957F2D)
SPLIT, LEAF = 0, 1


def fmix64(z: np.ndarray | np.uint64) -> np.ndarray:
    """splitmix64 finaliser, a bijection of ``uint64`` with full avalanche (vectorised)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = z ^ (z >> np.uint64(30))
        z = z * _C1
        z = z ^ (z >> np.uint64(27))
        z = z * _C2
        return z ^ (z >> np.uint64(31))


def user_keys(ids: np.ndarray) -> np.ndarray:
    """``(N,)`` uint64 keys of user ids (shared by both sides)."""
    ids = np.asarray(ids, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return fmix64(ids * _GOLDEN + _USER_SALT)


def node_constants(n_nodes: int) -> np.ndarray:
    """``(n_nodes,)`` uint64 per-node constants mixed into every seed."""
    with np.errstate(over="ignore"):
        return fmix64((np.arange(1, n_nodes + 1, dtype=np.uint64)) * _GOLDEN)


def cells(keys: np.ndarray, seeds: np.ndarray, ranges: np.ndarray | int) -> np.ndarray:
    """``floor(hash_seed(key) * range / 2^32)`` with broadcasting (values in ``[0, range)``)."""
    u = fmix64(keys ^ seeds) >> np.uint64(32)
    with np.errstate(over="ignore"):
        return (u * np.asarray(ranges, dtype=np.uint64)) >> np.uint64(32)


@dataclass(frozen=True)
class Layout:
    """The split tree, nodes in breadth-first order (node 0 is the root).

    Attributes
    ----------
    kind : (T,) int8 array, ``SPLIT`` or ``LEAF``
    size : (T,) int64, users in the node
    n_slots : (T,) int64, slots owned by the node
    offset : (T,) int64, first slot of the node
    split_at : (T,) int64, users sent left by a split (0 for leaves)
    left, right : (T,) int64, children of a split (-1 for leaves)
    log2p : (T,) float64, log2 of the task's success probability (0 for free tasks)
    const : (T,) uint64, per-node seed constants
    tasks : (S,) int64, the nodes that need a seed (``log2p < 0``), in order
    """

    k: int
    slots: int
    per_slot: int
    leaf_size: int
    kind: np.ndarray
    size: np.ndarray
    n_slots: np.ndarray
    offset: np.ndarray
    split_at: np.ndarray
    left: np.ndarray
    right: np.ndarray
    log2p: np.ndarray
    const: np.ndarray
    tasks: np.ndarray


@lru_cache(maxsize=1024)
def leaf_log2p(s: int, c: int, m: int) -> float:
    """log2 of the probability that a leaf's hash puts ``s`` users in ``c`` slots, ``<= m`` each."""
    return log2_success_probability(s, c, m)


def _split_log2p(s: int, s1: int) -> float:
    s2 = s - s1
    value = gammaln(s + 1) - gammaln(s1 + 1) - gammaln(s2 + 1)
    value += s1 * math.log(s1 / s) + s2 * math.log(s2 / s)
    return float(value / math.log(2.0))


@lru_cache(maxsize=32)
def build_layout(k: int, slots: int, per_slot: int, leaf_size: int) -> Layout:
    """Build the split tree for ``k`` users in ``slots`` slots of capacity ``per_slot``."""
    if leaf_size < 2:
        raise ValueError(f"leaf_size must be >= 2, got {leaf_size}")
    m = per_slot
    kind: list[int] = []
    size: list[int] = []
    n_slots: list[int] = []
    offset: list[int] = []
    split_at: list[int] = []
    left: list[int] = []
    right: list[int] = []
    log2p: list[float] = []
    queue = [(k, slots, 0)]
    head = 0
    while head < len(queue):
        s, c, off = queue[head]
        head += 1
        size.append(s)
        n_slots.append(c)
        offset.append(off)
        if s <= leaf_size or s <= m:
            kind.append(LEAF)
            split_at.append(0)
            left.append(-1)
            right.append(-1)
            log2p.append(leaf_log2p(s, c, m) if s > m else 0.0)
            continue
        n_leaves = -(-s // leaf_size)
        s1 = leaf_size * (-(-n_leaves // 2))
        if -(-s1 // m) + -(-(s - s1) // m) > c:
            # a (nearly) full node: a part of size not divisible by m would waste slot capacity
            s1 = max(m, m * (s1 // m))
        s2 = s - s1
        c1 = round(c * s1 / s)
        c1 = max(-(-s1 // m), min(c - (-(-s2 // m)), c1))
        kind.append(SPLIT)
        split_at.append(s1)
        left.append(len(queue))
        queue.append((s1, c1, off))
        right.append(len(queue))
        queue.append((s2, c - c1, off + c1))
        log2p.append(_split_log2p(s, s1))
    log2p_arr = np.asarray(log2p, dtype=np.float64)
    if not np.isfinite(log2p_arr).all():  # pragma: no cover - a layout bug, never a user error
        raise RuntimeError(f"infeasible split tree for k={k}, slots={slots}, per_slot={per_slot}")
    return Layout(
        k=k,
        slots=slots,
        per_slot=per_slot,
        leaf_size=leaf_size,
        kind=np.asarray(kind, dtype=np.int8),
        size=np.asarray(size, dtype=np.int64),
        n_slots=np.asarray(n_slots, dtype=np.int64),
        offset=np.asarray(offset, dtype=np.int64),
        split_at=np.asarray(split_at, dtype=np.int64),
        left=np.asarray(left, dtype=np.int64),
        right=np.asarray(right, dtype=np.int64),
        log2p=log2p_arr,
        const=node_constants(len(kind)),
        tasks=np.flatnonzero(log2p_arr < 0.0),
    )


def task_success(layout: Layout, node: int, keys: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Which candidate seeds solve the task of ``node``.

    Parameters
    ----------
    layout : Layout
    node : int
    keys : (s,) uint64, the node's user keys
    seeds : (V,) uint64, candidate seeds

    Returns
    -------
    (V,) bool array
    """
    s = int(layout.size[node])
    if layout.kind[node] == SPLIT:
        cell = cells(keys[None, :], seeds[:, None], s)
        return np.count_nonzero(cell < np.uint64(layout.split_at[node]), axis=1) == layout.split_at[node]
    c = int(layout.n_slots[node])
    m = layout.per_slot
    cell = cells(keys[None, :], seeds[:, None], c)
    if m == 1 and c <= 64 and hasattr(np, "bitwise_count"):
        mask = np.bitwise_or.reduce(np.uint64(1) << cell, axis=1)
        return np.bitwise_count(mask) == s
    srt = np.sort(cell, axis=1)
    return ~np.any(srt[:, m:] == srt[:, :-m], axis=1)


def route(layout: Layout, keys: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Walk every key from the root to its leaf and return its slot.

    Parameters
    ----------
    layout : Layout
    keys : (N,) uint64 user keys
    seeds : (T,) uint64, the seed of every node

    Returns
    -------
    (N,) int64 slots
    """
    node = np.zeros(keys.shape[0], dtype=np.int64)
    active = np.ones(keys.shape[0], dtype=bool)
    active &= layout.kind[node] == SPLIT
    while active.any():
        idx = np.flatnonzero(active)
        nd = node[idx]
        cell = cells(keys[idx], seeds[nd], layout.size[nd].astype(np.uint64))
        go_left = cell < layout.split_at[nd].astype(np.uint64)
        node[idx] = np.where(go_left, layout.left[nd], layout.right[nd])
        active[idx] = layout.kind[node[idx]] == SPLIT
    cell = cells(keys, seeds[node], layout.n_slots[node].astype(np.uint64))
    return layout.offset[node] + cell.astype(np.int64)
