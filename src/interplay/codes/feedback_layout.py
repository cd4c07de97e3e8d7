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

With slack (``k < slots * per_slot``) fixed split sizes waste about ``1/2 log2 s`` bits per
split, so :func:`build_slot_layout` builds a *slot tree* instead: splits route users by slot
range (the decoder never needs the counts) and accept any count in :func:`split_window`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import gammaln

from interplay.codes.feedback_bounds import log2_success_probability

__all__ = [
    "MASK64",
    "Layout",
    "build_layout",
    "build_slot_layout",
    "cells",
    "fmix64",
    "leaf_log2p",
    "route",
    "split_window",
    "task_success",
    "user_keys",
]

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
    tasks : (S,) int64, the nodes that need a seed (``log2p < 0``), in search order:
        breadth-first in a user tree, depth-first pre-order in a slot tree
    split_range : (T,) int64, cells a split hashes into: ``size`` for a user split, ``n_slots``
        for a slot split (a user goes left when its cell is below ``split_at``)
    window : float
        0 for a *user tree* (every split sends exactly ``split_at`` users left, so ``size`` is
        exact). ``w > 0`` for a *slot tree* (:func:`build_slot_layout`): a split sends a user left
        with probability ``n_slots[left] / n_slots``, the counts are random and ``size`` is only
        their nominal value ``k * n_slots / slots`` (rounded); see :func:`split_window`.
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
    split_range: np.ndarray
    window: float = 0.0


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
    return _assemble(k, slots, per_slot, leaf_size, kind, size, n_slots, offset, split_at, left, right, log2p,
                     split_range=size)


def _assemble(
    k: int, slots: int, per_slot: int, leaf_size: int, *columns: list | np.ndarray,
    split_range: list | np.ndarray, window: float = 0.0, preorder: bool = False,
) -> Layout:
    """Check a tree's columns (kind, size, n_slots, offset, split_at, left, right, log2p) and
    build its :class:`Layout`; tasks in breadth-first order, or depth-first with ``preorder``."""
    kind, size, n_slots, offset, split_at, left, right = (np.asarray(col, dtype=np.int64) for col in columns[:7])
    log2p = np.asarray(columns[7], dtype=np.float64)
    if not np.isfinite(log2p).all():  # pragma: no cover - a layout bug, never a user error
        raise RuntimeError(f"infeasible split tree for k={k}, slots={slots}, per_slot={per_slot}")
    order = _preorder(left, right) if preorder else np.arange(kind.size)
    return Layout(
        k=k,
        slots=slots,
        per_slot=per_slot,
        leaf_size=leaf_size,
        kind=kind.astype(np.int8),
        size=size,
        n_slots=n_slots,
        offset=offset,
        split_at=split_at,
        left=left,
        right=right,
        log2p=log2p,
        const=node_constants(kind.size),
        tasks=order[log2p[order] < 0.0],
        split_range=np.asarray(split_range, dtype=np.int64),
        window=float(window),
    )


def _log2_binomial_mass(s: int, r: float, lo: int, hi: int) -> float:
    """``log2 P[lo <= Bin(s, r) <= hi]`` (``-inf`` for an empty range)."""
    if lo > hi:
        return -math.inf
    x = np.arange(lo, hi + 1)
    with np.errstate(divide="ignore"):
        log_pmf = gammaln(s + 1) - gammaln(x + 1) - gammaln(s - x + 1) + x * np.log(r) + (s - x) * np.log1p(-r)
    return float(np.logaddexp.reduce(log_pmf) / math.log(2.0))


def _window(k: int, slots: int, m: int, w: float, c: int, c1: int, offset: int, s: int, before: float) -> tuple[int, int]:
    target = k * (offset + c1) / slots - before
    lo = max(math.ceil(target - w - 1e-9), s - (c - c1) * m, 0)
    hi = min(math.floor(target + w + 1e-9), c1 * m, s)
    return lo, hi


def split_window(layout: Layout, node: int, s: int, before: int) -> tuple[int, int]:
    """Left counts ``[lo, hi]`` that a split of ``s`` actual users accepts.

    User tree: exactly ``split_at``. Slot tree: the left child's users plus the ``before`` users
    of the slot ranges left of the node must stay within ``window`` of their nominal number
    ``k * (offset + n_slots[left]) / slots`` (so every prefix of the slots holds within
    ``window`` of its nominal number of users: the seed search meets no long run of
    over- or under-full leaves), and neither child may get more users than it has room for.
    """
    if layout.window == 0:
        at = int(layout.split_at[node])
        return at, at
    return _window(layout.k, layout.slots, layout.per_slot, layout.window, int(layout.n_slots[node]),
                   int(layout.split_at[node]), int(layout.offset[node]), s, before)


def _preorder(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``(T,)`` nodes in depth-first pre-order (a split, then its left and right subtrees)."""
    order: list[int] = []
    stack = [0]
    while stack:
        node = stack.pop()
        order.append(node)
        if left[node] >= 0:
            stack.extend((int(right[node]), int(left[node])))
    return np.asarray(order, dtype=np.int64)


def _leaf_typical_log2p(nominal: float, c: int, m: int, window: float) -> float:
    """Mean ``log2`` success of a slot-tree leaf over its count ``nominal + D``.

    ``D``, the difference of the prefix deviations at the leaf's two ends (each within
    ``window``), is taken triangular on ``[-2 window, 2 window]``, and ``log2 p`` is interpolated
    between integer counts (the nominal count is fractional). The mean of the log, not the log
    of the mean: all partial solutions of the seed search share the leaf's count, so the typical
    count sets how many bits the leaf needs. At most ``-1e-3`` (every leaf is a search task).
    """
    d = np.linspace(-2 * window, 2 * window, 41)
    weight = 2 * window - np.abs(d) + 1e-12
    x = np.clip(nominal + d, 0, c * m)
    grid = np.arange(math.floor(x.min()), math.ceil(x.max()) + 1)
    logs = np.interp(x, grid, [leaf_log2p(int(j), c, m) if j > m else 0.0 for j in grid])
    return min(float((weight * logs).sum() / weight.sum()), -1e-3)


@lru_cache(maxsize=32)
def build_slot_layout(k: int, slots: int, per_slot: int, leaf_slots: int, window: float) -> Layout:
    """Build a *slot tree*: splits route users by slot range, so their counts are free.

    Node ``v`` owns ``n_slots[v]`` slots; a split sends each user to its left child with
    probability ``n_slots[left] / n_slots[v]`` and accepts any left count in
    :func:`split_window`. The decoder routes by slots and never needs the counts, so with slack
    (``k < slots * per_slot``) the split pays only for keeping the counts in the window, not
    for fixing them (a user split pays about ``1/2 log2 s`` bits per split for that).

    The search tasks are in depth-first pre-order, so a leaf whose count makes it hard
    backtracks into the splits that set its count, not into all the leaves before it.
    ``log2p`` holds each task's nominal ``log2`` success probability (split: the binomial mass
    of the window at the nominal counts; leaf: ``leaf_log2p`` of its nominal count), which sets
    the consensus bit allocation; ``size`` holds the nominal counts.
    """
    if leaf_slots < 1:
        raise ValueError(f"leaf_slots must be >= 1, got {leaf_slots}")
    if not window >= 0.5:
        raise ValueError(f"a slot tree needs window >= 0.5 users, got {window}")
    m = per_slot
    rows: list[tuple[int, int, int, int, int, int, float]] = []  # kind, c, off, c1, left, right, log2p
    queue = [(slots, 0)]
    head = 0
    while head < len(queue):
        c, off = queue[head]
        head += 1
        nominal = k * c / slots
        s = round(nominal)
        if c <= leaf_slots:
            rows.append((LEAF, c, off, 0, -1, -1, _leaf_typical_log2p(nominal, c, m, window) if k > m else 0.0))
            continue
        n_leaves = -(-c // leaf_slots)
        c1 = leaf_slots * (-(-n_leaves // 2))
        # typical log2 success over the prefix offsets the window allows before this node
        shifts = np.linspace(-window, window, 5) if off else np.zeros(1)
        masses = [_log2_binomial_mass(s, c1 / c, *_window(k, slots, m, window, c, c1, off, s, k * off / slots + d))
                  for d in shifts]
        finite = [mass for mass in masses if math.isfinite(mass)]
        if s > 0 and not finite:
            raise ValueError(
                f"window={window} is too narrow for k={k} users in {slots} slots of {per_slot}: no split "
                "count fits; use a wider window or window=0 (exact splits)"
            )
        log2p = float(np.mean(finite)) if s > 0 else 0.0
        rows.append((SPLIT, c, off, c1, len(queue), len(queue) + 1, min(log2p, -1e-3)))
        queue.append((c1, off))
        queue.append((c - c1, off + c1))
    kind, n_slots, offset, split_at, left, right, log2p = (np.asarray(col) for col in zip(*rows))
    size = np.rint(k * n_slots / slots)
    return _assemble(k, slots, per_slot, leaf_slots, kind, size, n_slots, offset, split_at, left, right, log2p,
                     split_range=n_slots, window=window, preorder=True)


def task_success(
    layout: Layout, node: int, keys: np.ndarray, seeds: np.ndarray, accept: tuple[int, int] | None = None
) -> np.ndarray:
    """Which candidate seeds solve the task of ``node``.

    Parameters
    ----------
    layout : Layout
    node : int
    keys : (s,) uint64, the node's user keys (``s`` may differ from ``size[node]`` in a slot tree)
    seeds : (V,) uint64, candidate seeds
    accept : (lo, hi), optional
        Split only: the accepted left counts (:func:`split_window`); default exactly ``split_at``.

    Returns
    -------
    (V,) bool array
    """
    s = keys.shape[0]
    if layout.kind[node] == SPLIT:
        lo, hi = accept if accept is not None else (int(layout.split_at[node]),) * 2
        cell = cells(keys[None, :], seeds[:, None], int(layout.split_range[node]))
        x = np.count_nonzero(cell < np.uint64(layout.split_at[node]), axis=1)
        return (x >= lo) & (x <= hi)
    c = int(layout.n_slots[node])
    m = layout.per_slot
    if s <= m:
        return np.ones(seeds.shape[0], dtype=bool)
    if s > c * m:
        return np.zeros(seeds.shape[0], dtype=bool)
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
        cell = cells(keys[idx], seeds[nd], layout.split_range[nd].astype(np.uint64))
        go_left = cell < layout.split_at[nd].astype(np.uint64)
        node[idx] = np.where(go_left, layout.left[nd], layout.right[nd])
        active[idx] = layout.kind[node[idx]] == SPLIT
    cell = cells(keys, seeds[node], layout.n_slots[node].astype(np.uint64))
    return layout.offset[node] + cell.astype(np.int64)
