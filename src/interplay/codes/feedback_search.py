"""Seed search for the feedback codes' split tree (used by :mod:`interplay.codes.feedback`).

Two searches over the tasks of a :class:`~interplay.codes.feedback_layout.Layout`:

* consensus: a backtracking search over the fixed-length bits of every task, each task's seed
  being the 64-bit window of the message that ends at its last bit;
* rice: the first successful seed index of every task, vectorised over the tasks of a level.

and the functions that turn what the message carries back into one seed per tree node.
"""

from __future__ import annotations

import numpy as np

from interplay.codes.feedback_layout import (
    MASK64,
    SPLIT,
    Layout,
    cells,
    fmix64,
    split_window,
    task_success,
)

__all__ = ["consensus_search", "consensus_seeds", "rice_search", "rice_seeds"]

_CHUNK = 1 << 17  # hash evaluations per numpy call in the seed search
_RICE_STEP = np.uint64(0xA0761D6478BD642F)
_WINDOW_INIT = np.uint64(0xE7037ED1A0B428DB)


def _window_init(salt: int) -> int:
    return int(fmix64(np.uint64(salt) ^ _WINDOW_INIT))


def _single_task_search(layout: Layout, keys: np.ndarray) -> int:
    """First salt whose zero-length window solves the only task (vectorised over salts)."""
    node = int(layout.tasks[0])
    largest = max(64, _CHUNK // max(1, keys.size))
    block = min(64, largest)
    start = 0
    while True:
        salts = np.arange(start, start + block, dtype=np.uint64)
        seeds = fmix64(fmix64(salts ^ _WINDOW_INIT) ^ layout.const[node])
        ok = np.flatnonzero(task_success(layout, node, keys, seeds))
        if ok.size:
            return start + int(ok[0])
        start += block
        block = min(2 * block, largest)


def consensus_search(
    layout: Layout, keys: np.ndarray, lengths: np.ndarray, max_restarts: int = 10_000
) -> tuple[int, list[int]]:
    """Backtracking search; returns ``(salt, values)`` with one value per search task."""
    tasks = layout.tasks.tolist()
    if len(tasks) == 1 and lengths[0] == 0:
        return _single_task_search(layout, keys), [0]
    lengths = lengths.tolist()
    n_tasks = len(tasks)
    const = layout.const
    for salt in range(max_restarts):
        node_keys: dict[int, np.ndarray] = {0: keys}
        before: dict[int, int] = {0: 0}  # users in the slot ranges left of a node (slot trees)
        windows = [0] * n_tasks
        values = [0] * n_tasks
        next_v = [0] * n_tasks
        pending: list[list[int]] = [[] for _ in range(n_tasks)]
        w0 = _window_init(salt)
        t = 0
        while 0 <= t < n_tasks:
            node = tasks[t]
            ell = lengths[t]
            prev = windows[t - 1] if t else w0
            value = None
            y = node_keys[node]
            split = layout.kind[node] == SPLIT
            accept = split_window(layout, node, y.size, before[node]) if split else None
            while value is None:
                if pending[t]:
                    value = pending[t].pop(0)
                    break
                if next_v[t] >= (1 << ell):
                    break
                block = max(1, _CHUNK // max(1, y.size))
                lo = next_v[t]
                hi = min(1 << ell, lo + block)
                next_v[t] = hi
                cand = np.arange(lo, hi, dtype=np.uint64)
                base = np.uint64((prev << ell) & MASK64)
                seeds = fmix64((base | cand) ^ const[node])
                ok = np.flatnonzero(task_success(layout, node, y, seeds, accept))
                pending[t] = (ok + lo).tolist()
            if value is None:  # exhausted: backtrack
                t -= 1
                continue
            values[t] = value
            windows[t] = ((prev << ell) | value) & MASK64
            if split:
                seed = fmix64(np.uint64(windows[t]) ^ const[node])
                go_left = cells(y, seed, int(layout.split_range[node])) < np.uint64(layout.split_at[node])
                left, right = int(layout.left[node]), int(layout.right[node])
                node_keys[left] = y[go_left]
                node_keys[right] = y[~go_left]
                before[left] = before[node]
                before[right] = before[node] + node_keys[left].size
            t += 1
            if t < n_tasks:
                next_v[t] = 0
                pending[t] = []
        if t == n_tasks:
            return salt, values
    raise RuntimeError("consensus search failed after the maximum number of restarts")  # pragma: no cover


def consensus_seeds(layout: Layout, salt: int, task_bits: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``(T,)`` uint64 seed of every node from the task bits (vectorised window extraction)."""
    prefix = np.unpackbits(np.frombuffer(int(_window_init(salt)).to_bytes(8, "big"), np.uint8))
    virtual = np.concatenate([prefix, task_bits.astype(np.uint8)])
    ends = np.cumsum(lengths) + 64  # window of task t = virtual[ends[t]-64 : ends[t]]
    seeds = layout.const.copy()
    if ends.size:
        gather = virtual[ends[:, None] - 64 + np.arange(64)[None, :]].astype(np.uint64)
        weights = np.uint64(1) << np.arange(63, -1, -1, dtype=np.uint64)
        windows = np.bitwise_or.reduce(gather * weights[None, :], axis=1)
        seeds[layout.tasks] = fmix64(windows ^ layout.const[layout.tasks])
    return seeds


# ----------------------------------------------------------------------------- rice


def rice_seeds(const: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``uint64`` seeds of the nodes with constants ``const`` at seed indices ``index``."""
    with np.errstate(over="ignore"):
        return fmix64(const + (index.astype(np.uint64) + np.uint64(1)) * _RICE_STEP)


def rice_search(layout: Layout, keys: np.ndarray) -> np.ndarray:
    """First successful seed index of every node, level by level, vectorised over tasks.

    Returns ``(T,)`` int64 indices (0 for free nodes).
    """
    n_nodes = layout.kind.size
    index = np.zeros(n_nodes, dtype=np.int64)
    user_node = np.zeros(keys.size, dtype=np.int64)
    level = np.array([0])
    while level.size:
        busy = level[layout.log2p[level] < 0]
        order = np.argsort(user_node, kind="stable")
        sorted_nodes = user_node[order]
        starts = np.searchsorted(sorted_nodes, busy)
        # group tasks of equal shape so they form a (G, s) key matrix
        shape = np.stack([layout.kind[busy], layout.size[busy], layout.n_slots[busy],
                          layout.split_at[busy]], axis=1)
        _, group = np.unique(shape, axis=0, return_inverse=True)
        for g in np.unique(group):
            nodes = busy[group.ravel() == g]
            s = int(layout.size[nodes[0]])
            y = keys[order[starts[group.ravel() == g][:, None] + np.arange(s)[None, :]]]  # (G, s)
            index[nodes] = _rice_group_search(layout, nodes, y)
        # route the users of this level's splits to the next level
        splits = level[layout.kind[level] == SPLIT]
        if splits.size:
            here = np.isin(user_node, splits)
            nd = user_node[here]
            seeds = rice_seeds(layout.const[nd], index[nd])
            go_left = cells(keys[here], seeds, layout.split_range[nd].astype(np.uint64)) < layout.split_at[nd].astype(np.uint64)
            user_node[here] = np.where(go_left, layout.left[nd], layout.right[nd])
            level = np.concatenate([layout.left[splits], layout.right[splits]])
            level.sort()
        else:
            level = np.array([], dtype=np.int64)
    return index


def _rice_group_search(layout: Layout, nodes: np.ndarray, y: np.ndarray) -> np.ndarray:
    """First success index for tasks of one shape; ``y`` is ``(G, s)`` keys."""
    node0 = int(nodes[0])
    g_count, s = y.shape
    found = np.full(g_count, -1, dtype=np.int64)
    todo = np.arange(g_count)
    start = 0
    block = 64
    while todo.size:
        block = min(max(64, block), max(1, _CHUNK // max(1, s * todo.size)) * 4)
        cand = np.arange(start, start + block, dtype=np.int64)
        seeds = rice_seeds(layout.const[nodes[todo]][:, None], cand[None, :])  # (G', V)
        flat_ok = _shape_success(layout, node0, y[todo], seeds)
        hit = flat_ok.any(axis=1)
        first = flat_ok.argmax(axis=1)
        found[todo[hit]] = start + first[hit]
        todo = todo[~hit]
        start += block
        block *= 2
    return found


def _shape_success(layout: Layout, node: int, y: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """``(G, V)`` success of seeds ``(G, V)`` for tasks with keys ``(G, s)`` of one shape."""
    g_count, v_count = seeds.shape
    s = y.shape[1]
    out = np.empty((g_count, v_count), dtype=bool)
    rows = max(1, _CHUNK // max(1, s * v_count))
    for lo in range(0, g_count, rows):
        hi = min(g_count, lo + rows)
        ys = np.repeat(y[lo:hi], v_count, axis=0)  # (G'*V, s)
        sd = seeds[lo:hi].reshape(-1)
        out[lo:hi] = _rows_success(layout, node, ys, sd).reshape(hi - lo, v_count)
    return out


def _rows_success(layout: Layout, node: int, y: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Row-wise version of :func:`task_success`: row ``j`` keys ``y[j]`` with seed ``seeds[j]``."""
    s = y.shape[1]
    if layout.kind[node] == SPLIT:
        cell = cells(y, seeds[:, None], s)
        s1 = int(layout.split_at[node])
        return np.count_nonzero(cell < np.uint64(s1), axis=1) == s1
    c = int(layout.n_slots[node])
    m = layout.per_slot
    cell = cells(y, seeds[:, None], c)
    if m == 1 and c <= 64 and hasattr(np, "bitwise_count"):
        mask = np.bitwise_or.reduce(np.uint64(1) << cell, axis=1)
        return np.bitwise_count(mask) == s
    srt = np.sort(cell, axis=1)
    return ~np.any(srt[:, m:] == srt[:, :-m], axis=1)
