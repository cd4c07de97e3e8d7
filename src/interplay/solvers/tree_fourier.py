"""The exact Fourier (Walsh–Hadamard) transform of a LightGBM tree ensemble on 0/1 features.

A regression tree on binary features is a sum over its leaves of ``value × indicator(path)``,
and the indicator of a path that requires ``m_i = b_i`` for the distinct features ``i ∈ U``
on it is

    Π_{i ∈ U} [m_i = b_i] = Π_{i ∈ U} ½ (1 + (−1)^{b_i} (−1)^{m_i}),

whose Fourier coefficient on ``T ⊆ U`` is ``2^{−|U|} · (−1)^{Σ_{i∈T} b_i}``. A feature used
twice on one path contributes one factor (the conditions agree) or makes the leaf unreachable
(they disagree). This is the same expansion as the recursion of design §3 (docs/design.md),
written per leaf so that it vectorises: leaves are grouped by the number of distinct features
on their path and all ``2^|U|`` subsets of every leaf in a group are enumerated at once;
coefficients of equal subsets are summed over all leaves of all trees with an integer subset key.

The trees are read from ``Booster.model_to_string()`` (full-precision leaf values), so the
result reproduces ``Booster.predict`` on 0/1 inputs to rounding error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from interplay.spectral.interactions import Interactions

__all__ = ["TreeArrays", "booster_to_interactions", "ensemble_fourier", "parse_booster"]

_ZERO_THRESHOLD = 1e-35  # LightGBM's kZeroThreshold


class TreeArrays:
    """All internal nodes and leaves of an ensemble, as flat arrays (global numbering).

    Attributes
    ----------
    feature : (I,) int array
        Split feature of each internal node.
    zero_left, one_left : (I,) bool arrays
        Whether an input with the feature equal to 0 (resp. 1) goes to the left child.
    left, right : (I,) int arrays
        Children: ``c >= 0`` is internal node ``c``; ``c < 0`` is leaf ``~c``.
    leaf_value : (L,) float array
        Output of each leaf (shrinkage already applied by LightGBM).
    roots : (T,) int array
        Root of each tree in the same encoding as ``left``/``right``.
    n_features : int
        Number of input features the booster was trained on.
    """

    def __init__(
        self,
        feature: np.ndarray,
        zero_left: np.ndarray,
        one_left: np.ndarray,
        left: np.ndarray,
        right: np.ndarray,
        leaf_value: np.ndarray,
        roots: np.ndarray,
        n_features: int,
    ) -> None:
        self.feature = feature
        self.zero_left = zero_left
        self.one_left = one_left
        self.left = left
        self.right = right
        self.leaf_value = leaf_value
        self.roots = roots
        self.n_features = n_features

    @property
    def n_trees(self) -> int:
        return int(self.roots.size)


def _as_booster(model: Any) -> Any:
    booster = getattr(model, "booster_", model)
    if not hasattr(booster, "model_to_string"):
        raise TypeError(
            f"expected a lightgbm.Booster or a fitted LGBM estimator, got {type(model).__name__}"
        )
    return booster


def _floats(text: str) -> np.ndarray:
    return np.array(text.split(), dtype=np.float64) if text.strip() else np.zeros(0)


def _ints(text: str) -> np.ndarray:
    return np.array(text.split(), dtype=np.int64) if text.strip() else np.zeros(0, np.int64)


def parse_booster(model: Any, *, num_iteration: int | None = None) -> TreeArrays:
    """Read every tree of a LightGBM regression booster into flat arrays.

    Parameters
    ----------
    model : lightgbm.Booster or fitted ``LGBMRegressor``
    num_iteration : int, optional
        Use the first ``num_iteration`` boosting rounds; ``None`` uses the best iteration when
        early stopping recorded one, else all (LightGBM's own convention).

    Returns
    -------
    TreeArrays
    """
    booster = _as_booster(model)
    text = booster.model_to_string(num_iteration=num_iteration)
    header, _, body = text.partition("\nTree=")
    head = dict(line.split("=", 1) for line in header.splitlines() if "=" in line)
    if int(head.get("num_tree_per_iteration", "1")) != 1:
        raise ValueError("only single-output boosters (regression, binary) can be transformed")
    n_features = int(head["max_feature_idx"]) + 1
    body = body.split("\nend of trees")[0]
    blocks = body.split("\nTree=") if body.strip() else []

    features, zero_l, one_l, lefts, rights, leaves, roots = [], [], [], [], [], [], []
    n_internal = 0
    n_leaves = 0
    for block in blocks:  # one iteration per tree; all per-node work is array code
        fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if int(fields.get("is_linear", "0")):
            raise ValueError("linear trees have no finite Fourier expansion on leaves; refit")
        num_leaves = int(fields["num_leaves"])
        leaf_value = _floats(fields["leaf_value"])
        if num_leaves <= 1:
            roots.append(~n_leaves)
            leaves.append(leaf_value[:1])
            n_leaves += 1
            continue
        decision = _ints(fields["decision_type"])
        if np.any(decision & 1):
            raise ValueError("categorical splits are not supported; features must be numeric 0/1")
        threshold = _floats(fields["threshold"])
        default_left = (decision & 2) > 0
        missing_zero = ((decision >> 2) & 3) == 1
        zero_left = np.where(missing_zero, default_left, 0.0 <= threshold)
        one_left = 1.0 <= threshold
        left = _ints(fields["left_child"])
        right = _ints(fields["right_child"])
        # Re-number: internal j -> n_internal + j; leaf ~l -> ~(n_leaves + l).
        left = np.where(left >= 0, left + n_internal, left - n_leaves)
        right = np.where(right >= 0, right + n_internal, right - n_leaves)
        features.append(_ints(fields["split_feature"]))
        zero_l.append(zero_left)
        one_l.append(one_left)
        lefts.append(left)
        rights.append(right)
        leaves.append(leaf_value)
        roots.append(n_internal)
        n_internal += num_leaves - 1
        n_leaves += num_leaves

    def cat(parts: list, dtype: Any) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    return TreeArrays(
        feature=cat(features, np.int64),
        zero_left=cat(zero_l, bool),
        one_left=cat(one_l, bool),
        left=cat(lefts, np.int64),
        right=cat(rights, np.int64),
        leaf_value=cat(leaves, np.float64),
        roots=np.asarray(roots, dtype=np.int64),
        n_features=n_features,
    )


def _leaf_paths(trees: TreeArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Conditions on the path to every leaf, walking all trees one depth level at a time.

    Returns
    -------
    leaf : (L,) int array
        Leaf index.
    path_feature : (L, D) int array
        Feature tested at each depth (``-1`` where the path is shorter or the split lets both
        values through).
    path_bit : (L, D) int array
        Value (0 or 1) the feature must take on the path to the leaf.
    """
    nodes = trees.roots
    depth_feat = np.zeros((nodes.size, 0), dtype=np.int64)
    depth_bit = np.zeros((nodes.size, 0), dtype=np.int64)
    out_leaf, out_feat, out_bit = [], [], []

    def emit(which: np.ndarray, width: int) -> None:
        pad = width - depth_feat.shape[1]
        feat = np.pad(depth_feat[which], ((0, 0), (0, pad)), constant_values=-1)
        bit = np.pad(depth_bit[which], ((0, 0), (0, pad)), constant_values=0)
        out_leaf.append(~nodes[which])
        out_feat.append(feat)
        out_bit.append(bit)

    leaves_now = nodes < 0
    emit(leaves_now, 0)
    nodes, depth_feat, depth_bit = nodes[~leaves_now], depth_feat[~leaves_now], depth_bit[~leaves_now]
    while nodes.size:
        f = trees.feature[nodes]
        z, o = trees.zero_left[nodes], trees.one_left[nodes]
        children, feats, bits = [], [], []
        for goes_left, child in ((True, trees.left[nodes]), (False, trees.right[nodes])):
            zero_here = z == goes_left
            one_here = o == goes_left
            reachable = zero_here | one_here
            constrained = zero_here ^ one_here
            cond_feat = np.where(constrained, f, -1)
            cond_bit = np.where(one_here & ~zero_here, 1, 0)
            children.append(child[reachable])
            feats.append(np.column_stack([depth_feat, cond_feat])[reachable])
            bits.append(np.column_stack([depth_bit, cond_bit])[reachable])
        nodes = np.concatenate(children)
        depth_feat = np.concatenate(feats)
        depth_bit = np.concatenate(bits)
        is_leaf = nodes < 0
        emit(is_leaf, depth_feat.shape[1])
        nodes, depth_feat, depth_bit = nodes[~is_leaf], depth_feat[~is_leaf], depth_bit[~is_leaf]
    width = max(f.shape[1] for f in out_feat)
    feat = np.concatenate([np.pad(a, ((0, 0), (0, width - a.shape[1])), constant_values=-1)
                           for a in out_feat])
    bit = np.concatenate([np.pad(a, ((0, 0), (0, width - a.shape[1]))) for a in out_bit])
    return np.concatenate(out_leaf), feat, bit


def _merge(idx: np.ndarray, values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum values of equal padded subsets (rows sorted, sentinel ``n``) with integer keys."""
    width = idx.shape[1]
    if width == 0 or idx.shape[0] == 0:
        return idx, values
    base = n + 1
    if width * np.log2(base) < 62:
        keys = np.zeros(idx.shape[0], dtype=np.int64)
        for j in range(width):
            keys = keys * base + idx[:, j]
        uniq, inverse = np.unique(keys, return_inverse=True)
        summed = np.bincount(inverse.ravel(), weights=values, minlength=uniq.size)
        rows = np.empty((uniq.size, width), dtype=np.int64)
        rest = uniq.copy()
        for j in range(width - 1, -1, -1):
            rows[:, j] = rest % base
            rest //= base
        return rows, summed
    uniq, inverse = np.unique(idx, axis=0, return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=values, minlength=uniq.shape[0])
    return uniq, summed


def ensemble_fourier(
    model: Any, *, max_order: int | None = None, num_iteration: int | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """The Fourier coefficients of a LightGBM ensemble on binary inputs.

    ``model(m) = Σ_k F(k) · (−1)^{|m ∩ k|}`` for every 0/1 input ``m`` (exactly, when
    ``max_order`` is ``None`` or at least the depth of the deepest tree).

    Parameters
    ----------
    model : lightgbm.Booster or fitted ``LGBMRegressor``
        Trained on 0/1 features (any threshold separating 0 from 1 is handled).
    max_order : int, optional
        Drop coefficients of subsets larger than this (the expansion is then the projection of
        the model onto interactions of order ≤ ``max_order``).
    num_iteration : int, optional
        As in :func:`parse_booster`.

    Returns
    -------
    idx : (K, d) int array
        Distinct subsets, rows sorted ascending and padded with the sentinel ``n``.
    coef : (K,) float array
        Their Fourier coefficients (the empty subset carries the mean over uniform inputs).
    n : int
        Number of features.
    """
    if max_order is not None and int(max_order) < 0:
        raise ValueError(f"max_order must be non-negative, got {max_order}")
    trees = parse_booster(model, num_iteration=num_iteration)
    n = trees.n_features
    leaf, feat, bit = _leaf_paths(trees)
    value = trees.leaf_value[leaf]

    # Canonicalise every path: sort by feature; a repeated feature is one factor if its
    # conditions agree, and an unreachable leaf if they disagree.
    feat = np.where(feat < 0, n, feat)
    order = np.argsort(feat, axis=1, kind="stable")
    feat = np.take_along_axis(feat, order, axis=1)
    bit = np.take_along_axis(bit, order, axis=1)
    if feat.shape[1] > 1:
        repeat = (feat[:, 1:] == feat[:, :-1]) & (feat[:, 1:] < n)
        conflict = np.any(repeat & (bit[:, 1:] != bit[:, :-1]), axis=1)
        feat[:, 1:][repeat] = n
        feat, bit, value = feat[~conflict], bit[~conflict], value[~conflict]
        order = np.argsort(feat, axis=1, kind="stable")
        feat = np.take_along_axis(feat, order, axis=1)
        bit = np.take_along_axis(bit, order, axis=1)
    n_distinct = (feat < n).sum(axis=1)
    top = int(n_distinct.max(initial=0))
    width = top if max_order is None else min(top, int(max_order))
    width = max(width, 1)

    pieces_idx, pieces_val = [], []
    for d in np.unique(n_distinct):
        d = int(d)
        rows = n_distinct == d
        members = feat[rows, :d]  # (L_d, d)
        need = bit[rows, :d]
        v = value[rows] * 0.5**d
        choose = ((np.arange(2**d)[:, None] >> np.arange(d)[None, :]) & 1).astype(np.int64)
        if max_order is not None:
            choose = choose[choose.sum(axis=1) <= max_order]
        parity = (need @ choose.T) & 1  # (L_d, S)
        coef = v[:, None] * (1.0 - 2.0 * parity)
        chosen = np.where(choose[None, :, :] > 0, members[:, None, :], n)
        chosen.sort(axis=2)
        chosen = chosen.reshape(members.shape[0] * choose.shape[0], d)[:, :width]
        if chosen.shape[1] < width:
            chosen = np.pad(chosen, ((0, 0), (0, width - chosen.shape[1])), constant_values=n)
        pieces_idx.append(chosen)
        pieces_val.append(coef.ravel())
        # merge as we go to bound memory on big ensembles
        if sum(p.shape[0] for p in pieces_idx) > 2_000_000:
            merged = _merge(np.concatenate(pieces_idx), np.concatenate(pieces_val), n)
            pieces_idx, pieces_val = [merged[0]], [merged[1]]
    if not pieces_idx:
        return np.full((1, 1), n, dtype=np.int64), np.zeros(1), n
    idx, coef = _merge(np.concatenate(pieces_idx), np.concatenate(pieces_val), n)
    return idx, coef, n


def interactions_from_index(
    idx: np.ndarray, coef: np.ndarray, n: int, *, basis: str = "fourier", **kwargs: Any
) -> Interactions:
    """Build an :class:`Interactions` from a padded (K, d) index array; see
    :meth:`Interactions.from_arrays`."""
    return Interactions.from_arrays(idx, coef, n_features=n, basis=basis, **kwargs)


def booster_to_interactions(
    model: Any, *, max_order: int | None = None, num_iteration: int | None = None
) -> Interactions:
    """The Fourier expansion of a LightGBM ensemble as an :class:`Interactions` (basis fourier).

    See :func:`ensemble_fourier` for the parameters.
    """
    idx, coef, n = ensemble_fourier(model, max_order=max_order, num_iteration=num_iteration)
    return interactions_from_index(idx, coef, n, method="lightgbm")
