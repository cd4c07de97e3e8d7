"""Collision-free feedback scheduling codes.

``k`` of ``n`` users are active; the receiver broadcasts one message from which every active
user, knowing only the message and its own id, reads a slot in ``[0, slots)`` so that no slot
gets more than ``per_slot`` active users. The message describes a hash function that is
perfect on the active set (:mod:`interplay.codes.feedback_layout` builds it from a split tree,
RecSplit-style). Without slack (``k == slots * per_slot``) the tree splits the users into parts
of fixed sizes (a *user tree*); with slack the consensus code uses a *slot tree*, whose splits
route users by slot range and accept any counts that keep every prefix of the slots within a
window of its nominal load (``FeedbackCode.window``): a fixed-size split would pay about
``1/2 log2 s`` bits for counts that a random map into ``slots > k / per_slot`` does not need.
Two ways of coding the seeds are provided (:class:`FeedbackCode`):

``"consensus"`` (default)
    Each search task ``i`` gets a fixed number of bits ``l_i`` with ``sum l_i`` the cumulative
    ceiling of ``sum_i (log2(1/p_i) + extra_i)``; its seed is the 64-bit window of the message
    ending at its last bit, so the previous tasks' bits are part of it. The encoder searches the
    ``2^{l_i}`` values of the new bits and backtracks into the previous task when none succeeds
    (combined search and encoding, as in Consensus-RecSplit: Lehmann, Sanders, Walzer, "Combined
    search and encoding for seeds, with an application to minimal perfect hashing", 2025); when
    the whole search fails, a restart counter changes every seed. The overhead over the bound is
    ``sum_i extra_i`` plus the restart counter, instead of the ``~log2 e`` bits per task a
    per-task variable-length code pays. With ``extra_i = overhead`` for every task, the partial
    solutions form a near-critical branching process: it often dies out (restarts) and, when it
    survives, its complete solutions come in clumps, so about 3 bits go to the restart counter
    at ``k = 64``. The first task therefore gets ``front_bits`` extra bits (many
    partial solutions survive) and the last gives ``give_back`` bits back (complete solutions
    become rare enough not to clump), keeping ``sum_i extra_i`` at 0.6 bits or more: the restart
    counter is 0 for about 3 in 4 sets, at the price of searching about ``2^give_back`` times
    more partial solutions.
``"rice"``
    Each task's seed index (the first success) is Golomb–Rice coded with the parameter that is
    optimal for its success probability, as in RecSplit (Esposito, Müller Graf, Vigna, ALENEX
    2020). Simpler and fully vectorised over each tree level, ``~log2 e`` bits per task above
    the bound.

Message layout (bits, most significant first, zero-padded to whole bytes):

1. ``k``: one bit ``1`` if ``k == slots``, else ``0`` and ``ceil(log2(slots*per_slot + 1))``
   bits of ``k`` (the decoder needs ``k`` to rebuild the tree);
2. consensus: the restart counter, Rice coded (parameter ``salt_rice``), then the task bits;
   rice: one Rice code per task;
   with a single search task (``k`` at most one leaf) the task gets no bits and the restart
   counter, Rice coded with the parameter optimal for its success probability, is its seed;
3. with ``fingerprint_bits = r > 0`` (the *verified* variant): per-slot occupancies
   (``ceil(log2(per_slot + 1))`` bits per slot, omitted when every slot must be full) and, slot
   by slot, the ``r``-bit fingerprints of its users. Then an inactive user learns it was not
   scheduled except with probability ``<= per_slot * 2^-r``; the extra cost is exactly
   ``k*r + slots*ceil(log2(per_slot+1))`` bits (``k*r`` when ``k == slots*per_slot``).

Both sides must agree on ``n``, ``slots``, ``per_slot`` and the :class:`FeedbackCode`, as on any
protocol constant; these are not sent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal, get_args

import numpy as np

from interplay.codes.feedback_bits import (
    BitReader,
    BitWriter,
    MalformedMessageError,
    bits_from_message,
    rice_parameter,
)
from interplay.codes.feedback_bounds import (
    check_problem,
    feedback_bounds,
    log2_success_probability,
    naive_bits,
    seed_search_lower_bound,
    variable_length_lower_bound,
)
from interplay.codes.feedback_layout import (
    Layout,
    build_layout,
    build_slot_layout,
    leaf_log2p,
    route,
    user_keys,
)
from interplay.codes.feedback_search import (
    consensus_search,
    consensus_seeds,
    rice_search,
    rice_seeds,
)
from interplay.codes.feedback_verify import (
    check_verification,
    verification_length,
    write_verification,
)

__all__ = [
    "FeedbackCode",
    "MalformedMessageError",
    "SimulationResult",
    "decode",
    "decode_many",
    "encode",
    "encode_bits",
    "feedback_bounds",
    "log2_success_probability",
    "message_bits",
    "naive_bits",
    "seed_search_lower_bound",
    "simulate",
    "variable_length_lower_bound",
]

Scheme = Literal["consensus", "rice"]
_SCHEMES = get_args(Scheme)


@dataclass(frozen=True)
class FeedbackCode:
    """Parameters of a feedback code, shared by encoder and decoder.

    Parameters
    ----------
    scheme : {"consensus", "rice"}
        How seeds are coded (see the module docstring).
    leaf_size : int or None
        Users per leaf of the split tree (2..64). Larger leaves cost fewer bits and more time.
        ``None``: the largest leaf whose search needs at most ``leaf_bits`` bits (chosen from
        ``k``, which the decoder reads from the header).
    overhead : float or None
        Consensus only: extra bits per search task above ``log2(1/p_i)`` (> 0). Smaller is
        closer to the bound and slower (the backtracking search does more work). ``None``:
        ``min(0.3, 3 / T)`` for ``T`` search tasks when ``k <= 256``, 0.05 above (``b = k``,
        ``k = 10^5``: 1.010 times the bound in about 17 CPU seconds; ``overhead=0.1,
        front_bits=0.1, give_back=0``: 1.019 in 9 s).
    front_bits : float or None
        Consensus only: extra bits of the first task (>= 0). ``None``: 2.
    give_back : float or None
        Consensus only: at most this many bits are taken back from the last task (>= 0), so
        that the total stays ``0.6`` bits above the sum of the targets ``log2(1/p_i)``.
        ``None``: 4. Extra bits early keep many partial solutions
        alive (the search rarely dies out and restarts); taking them back at the end stops the
        complete solutions from arriving in clumps. Then the restart counter is nearly always
        0, and the total is close to the bound; the price is search time (about
        ``2^give_back`` partial solutions are tried for the last task).
    leaf_bits : float or None
        Target search bits of a leaf when ``leaf_size`` is ``None``; ``None``: 14.5 for
        ``k <= 256``, 9.5 above (11 in a slot tree). Whatever ``leaf_bits``, a set whose single
        search needs at most 20 bits (``k <= 16`` for ``b = k``) is one leaf: its seed index,
        Rice coded, costs about ``log2(1/p) + log2 e`` bits, less than any split.
    big_task_overhead : float
        Consensus only: extra bits for tasks with at least ``big_task_users`` users, which are
        expensive to redo when the search backtracks into them.
    big_task_users : int
    salt_rice : int or None
        Rice parameter of the restart counter (consensus); ``None``: for a single leaf (whose
        restart counter is its seed) the parameter optimal for its success probability, else 0
        (unary) when the last task gives bits back (restarts are rare) and 1 otherwise.
    fingerprint_bits : int
        ``r > 0`` turns on the verified variant (inactive users learn they were not scheduled
        except with probability ``<= per_slot * 2^-r``), at ``k*r`` (+ occupancy) extra bits.
    send_k : bool
        ``True`` (default): the message names ``k`` (item 1 of the layout), so one decoder
        serves every ``k <= slots * per_slot``. ``False``: ``k`` is a protocol constant known to
        every user, as in Kang & Yu's model, where a code is designed for given ``(n, k, b)``
        (for example ``b = k`` with ``b`` known); the message then starts at item 2 and
        :func:`decode` needs ``k=``.
    window : float or None
        Consensus with slack (``k < slots * per_slot``) only. ``0``: a user tree (splits of
        fixed sizes). ``w >= 0.5``: a slot tree in which the users of the slots left of every
        split boundary ``e`` number ``k * e / slots`` within ``w``
        (:func:`~interplay.codes.feedback_layout.split_window`). Wider windows make splits
        cheaper and leaves costlier (their counts vary more) and the seed search slower (it
        must absorb runs of over-full leaves). ``None``: ``3 / g`` users, where ``g`` is the cost
        in bits of one more user in a nominal leaf (3 users for ``b = 2k``).
    """

    scheme: Scheme = "consensus"
    leaf_size: int | None = None
    overhead: float | None = None
    front_bits: float | None = None
    give_back: float | None = None
    leaf_bits: float | None = None
    big_task_overhead: float = 0.3
    big_task_users: int = 256
    salt_rice: int | None = None
    fingerprint_bits: int = 0
    send_k: bool = True
    window: float | None = None

    def check(self) -> None:
        """Raise ``ValueError`` on an invalid parameter."""
        if self.scheme not in _SCHEMES:
            raise ValueError(f"scheme must be one of {_SCHEMES}, got {self.scheme!r}")
        if self.leaf_size is not None and (
            isinstance(self.leaf_size, bool)
            or not isinstance(self.leaf_size, (int, np.integer))
            or not 2 <= self.leaf_size <= 64
        ):
            raise ValueError(f"leaf_size must be None or an integer in [2, 64], got {self.leaf_size!r}")
        if self.overhead is not None and (not self.overhead > 0 or not math.isfinite(self.overhead)):
            raise ValueError(f"overhead must be None or a positive number of bits, got {self.overhead!r}")
        for name in ("front_bits", "give_back"):
            value = getattr(self, name)
            if value is not None and (not value >= 0 or not math.isfinite(value)):
                raise ValueError(f"{name} must be None or a number of bits >= 0, got {value!r}")
        if self.leaf_bits is not None and not 1.0 <= self.leaf_bits <= 30.0:
            raise ValueError(f"leaf_bits must be None or in [1, 30], got {self.leaf_bits!r}")
        if not self.big_task_overhead >= 0:
            raise ValueError(f"big_task_overhead must be >= 0, got {self.big_task_overhead!r}")
        if self.salt_rice is not None and not 0 <= self.salt_rice <= 16:
            raise ValueError(f"salt_rice must be in [0, 16], got {self.salt_rice!r}")
        if not 0 <= self.fingerprint_bits <= 32:
            raise ValueError(f"fingerprint_bits must be in [0, 32], got {self.fingerprint_bits!r}")
        if self.window is not None and not (self.window == 0 or 0.5 <= self.window <= 1e6):
            raise ValueError(f"window must be None, 0 or a number of users >= 0.5, got {self.window!r}")
        if not isinstance(self.send_k, (bool, np.bool_)):
            raise ValueError(f"send_k must be True or False, got {self.send_k!r}")  # noqa: TRY004


_SMALL_K = 256
_MAX_LEAF_BITS = 22
_SINGLE_LEAF_BITS = 20.0
_SLACK = 0.6  # bits kept above sum_i log2(1/p_i) when the last task gives bits back
_WINDOW_BITS = 4.0  # slot trees: prefix deviations the seed search must absorb, in bits
_SLOT_LEAF_BITS = 11.0  # slot trees, k > _SMALL_K: search bits of a nominal leaf
_LARGE_OVERHEAD = 0.05  # k > _SMALL_K: extra bits of every middle task


@dataclass(frozen=True)
class _Plan:
    """How a problem size is coded: leaf size and the consensus bit allocation."""

    leaf: int
    overhead: float | None  # None: min(0.3, 3 / tasks)
    front: float | None  # None: the same as ``overhead``
    give_back: float
    window: float  # 0: user tree (exact splits); > 0: slot tree with this prefix window


@lru_cache(maxsize=256)
def _resolved(code: FeedbackCode, k: int, slots: int, per_slot: int) -> _Plan:
    """The :class:`_Plan` for this problem size (a deterministic function of ``k``)."""
    small = k <= _SMALL_K
    leaf = _resolved_leaf(code, k, slots, per_slot)
    window = _resolved_window(code, k, slots, per_slot, leaf)
    if window > 0 and code.leaf_size is None and code.leaf_bits is None and not small:
        leaf = _resolved_leaf(replace(code, leaf_bits=_SLOT_LEAF_BITS), k, slots, per_slot)
        window = _resolved_window(code, k, slots, per_slot, leaf)
    overhead = code.overhead if code.overhead is not None else (None if small else _LARGE_OVERHEAD)
    front = code.front_bits if code.front_bits is not None else 2.0
    give_back = code.give_back if code.give_back is not None else 4.0
    return _Plan(leaf, overhead, front, float(give_back), window)


def _leaf_slots(leaf: int, k: int, slots: int, per_slot: int) -> int:
    """Slots of a leaf of ``leaf`` nominal users."""
    return max(-(-leaf // per_slot), round(leaf * slots / k))


def _resolved_window(code: FeedbackCode, k: int, slots: int, per_slot: int, leaf: int) -> float:
    """0 (user tree) without slack or with one leaf; else the prefix window of a slot tree.

    Auto: ``_WINDOW_BITS / g`` users, where ``g`` is the cost in bits of one more user in a
    nominal leaf, so the seed search meets at most about ``2^_WINDOW_BITS`` times more (or
    fewer) solutions than its bits plan for; 0 (a user tree) when that is below one user, as
    with very little slack, where a window that narrow is hardly looser than exact splits.
    """
    if code.scheme != "consensus" or k >= slots * per_slot or k <= leaf:
        return 0.0
    c = _leaf_slots(leaf, k, slots, per_slot)
    s = max(per_slot + 1, round(k * c / slots))
    marginal = leaf_log2p(s, c, per_slot) - leaf_log2p(s + 1, c, per_slot)
    window = _WINDOW_BITS / max(marginal, 1e-3)
    if code.window is None or code.window == 0:
        return window if window >= 1.0 and code.window is None else 0.0  # too little slack: exact splits
    if window < 1.0:
        raise ValueError(
            f"window={code.window}: k={k} users in {slots} slots of {per_slot} leave too little slack for a "
            "slot tree; use window=None or 0 (exact splits)"
        )
    return float(code.window)


def _resolved_leaf(code: FeedbackCode, k: int, slots: int, per_slot: int) -> int:
    small = k <= _SMALL_K
    if code.leaf_size is not None:
        leaf = int(code.leaf_size)
        if k > leaf:
            c = max(-(-leaf // per_slot), round(leaf * slots / k))
            if -leaf_log2p(leaf, c, per_slot) > _MAX_LEAF_BITS:
                raise ValueError(
                    f"leaf_size={leaf} needs a search over more than 2^{_MAX_LEAF_BITS} seeds per "
                    "leaf here; use a smaller leaf_size (or None)"
                )
        return leaf
    if 2 <= k <= 64 and -leaf_log2p(k, slots, per_slot) <= _SINGLE_LEAF_BITS:
        return k
    target = code.leaf_bits if code.leaf_bits is not None else (14.5 if small else 9.5)
    leaf = 2
    for s in range(2, 65):
        c = max(-(-s // per_slot), round(s * slots / k)) if k else s
        if -leaf_log2p(s, c, per_slot) > target:
            break
        leaf = s
    return leaf


def _layout_for(code: FeedbackCode, k: int, slots: int, per_slot: int) -> tuple[Layout, _Plan]:
    plan = _resolved(code, k, slots, per_slot)
    if plan.window > 0:
        leaf_slots = _leaf_slots(plan.leaf, k, slots, per_slot)
        return build_slot_layout(k, slots, per_slot, leaf_slots, plan.window), plan
    return build_layout(k, slots, per_slot, plan.leaf), plan


def _salt_rice(code: FeedbackCode, layout: Layout, plan: _Plan) -> int | None:
    """Rice parameter of the restart counter; ``None`` when there is nothing to search.

    Unary (0) when the last task gives bits back (restarts are then rare), else 1.
    """
    if layout.tasks.size == 0:
        return None
    if code.salt_rice is not None:
        return int(code.salt_rice)
    if layout.tasks.size == 1:  # geometric first-success index: the optimal Rice parameter
        return rice_parameter(float(2.0 ** layout.log2p[layout.tasks[0]]))
    return 0 if plan.give_back > 0 else 1


def _resolve_code(code: FeedbackCode | None) -> FeedbackCode:
    code = FeedbackCode() if code is None else code
    if not isinstance(code, FeedbackCode):
        raise TypeError(f"code must be a FeedbackCode, got {type(code).__name__}")
    code.check()
    return code


def _check_ids(ids: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of user ids")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{name} must lie in [0, n={n})")
    return arr


def _k_header_width(slots: int, per_slot: int) -> int:
    return max(1, math.ceil(math.log2(slots * per_slot + 1)))


def _write_k(writer: BitWriter, k: int, slots: int, per_slot: int) -> None:
    if k == slots:
        writer.write(1, 1)
    else:
        writer.write(0, 1)
        writer.write(k, _k_header_width(slots, per_slot))


def _read_k(reader: BitReader, slots: int, per_slot: int, code: FeedbackCode, k: int | None) -> int:
    """``k`` from the header, or the caller's ``k`` when the code does not send it."""
    if not code.send_k:
        if k is None:
            raise ValueError("this code does not send k (send_k=False): pass k= to decode")
        return k
    if reader.read(1):
        got = slots
    else:
        got = reader.read(_k_header_width(slots, per_slot))
        if got > slots * per_slot or got == slots:
            raise MalformedMessageError(f"feedback message header names k={got}, impossible here")
    if k is not None and got != k:
        raise MalformedMessageError(f"feedback message header names k={got}, but k={k} was expected")
    return got


def _check_k(k: Any, slots: int, per_slot: int) -> int | None:
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= slots * per_slot:
        raise ValueError(f"k must be an integer in [0, slots * per_slot = {slots * per_slot}], got {k!r}")
    return int(k)


# ----------------------------------------------------------------------------- consensus


def _task_lengths(layout: Layout, code: FeedbackCode, plan: _Plan) -> np.ndarray:
    """``(S,)`` int64 bits given to each search task (cumulative ceiling of the targets).

    Task ``i`` targets ``log2(1/p_i)`` plus its extra bits: ``plan.front`` for the first,
    ``overhead`` (+ ``big_task_overhead`` for big tasks) for the others; then the last gives
    back up to ``plan.give_back`` bits, keeping the total at least ``_SLACK`` above the sum of
    ``log2(1/p_i)`` and its own target at least one bit.
    """
    tasks = layout.tasks
    if tasks.size <= 1:  # a single search: the restart counter alone is its Rice-coded seed
        return np.zeros(tasks.size, dtype=np.int64)
    need = -layout.log2p[tasks]
    overhead = plan.overhead if plan.overhead is not None else min(0.3, 3.0 / tasks.size)
    extra = np.full(tasks.size, overhead)
    if plan.front is not None:
        extra[0] = plan.front
    extra += np.where(layout.size[tasks] >= code.big_task_users, code.big_task_overhead, 0.0)
    if plan.give_back > 0:
        take = min(plan.give_back, extra.sum() - _SLACK, need[-1] + extra[-1] - 1.0)
        extra[-1] -= max(0.0, take)
    target = need + extra
    ends = np.ceil(np.cumsum(target) - 1e-9).astype(np.int64)
    lengths = np.diff(np.concatenate([[0], ends]))
    if lengths.max() > 40:
        raise ValueError("a search task would need more than 40 bits; use a smaller leaf_size")
    return lengths


# ----------------------------------------------------------------------------- public API


def encode_bits(
    active_ids: Sequence[int] | np.ndarray,
    n: int,
    slots: int,
    per_slot: int = 1,
    *,
    code: FeedbackCode | None = None,
) -> np.ndarray:
    """Encode the feedback for an active set as a bit array.

    Parameters
    ----------
    active_ids : (k,) distinct ints in ``[0, n)``
    n : int, number of users
    slots : int, number of slots ``b``
    per_slot : int, at most this many active users per slot (``m``)
    code : FeedbackCode, optional

    Returns
    -------
    (L,) uint8 array of 0/1
        The self-delimiting message; ``L`` is its exact cost in bits.
    """
    code = _resolve_code(code)
    ids = _check_ids(active_ids, int(n) if isinstance(n, (int, np.integer)) else 0, "active_ids")
    k, n, slots, per_slot = check_problem(ids.size, n, slots, per_slot)
    if np.unique(ids).size != k:
        raise ValueError("active_ids must be distinct")
    keys = user_keys(ids)
    layout, plan = _layout_for(code, k, slots, per_slot)
    writer = BitWriter()
    if code.send_k:
        _write_k(writer, k, slots, per_slot)
    if code.scheme == "consensus":
        lengths = _task_lengths(layout, code, plan)
        salt, values = consensus_search(layout, keys, lengths)
        salt_r = _salt_rice(code, layout, plan)
        if salt_r is not None:
            writer.write_rice(salt, salt_r)
        for value, ell in zip(values, lengths.tolist()):
            writer.write(value, ell)
        if code.fingerprint_bits:
            task_bits = writer.bits()[-int(lengths.sum()) :] if lengths.sum() else np.zeros(0, np.uint8)
            seeds = consensus_seeds(layout, salt, task_bits, lengths)
    else:
        index = rice_search(layout, keys)
        p = 2.0 ** layout.log2p
        for node in layout.tasks.tolist():
            writer.write_rice(int(index[node]), rice_parameter(float(p[node])))
        if code.fingerprint_bits:
            seeds = rice_seeds(layout.const, index)
    if code.fingerprint_bits:
        slot = route(layout, keys, seeds)
        write_verification(writer, keys, slot, slots, per_slot, code.fingerprint_bits)
    return writer.bits()


def encode(
    active_ids: Sequence[int] | np.ndarray,
    n: int,
    slots: int,
    per_slot: int = 1,
    *,
    code: FeedbackCode | None = None,
) -> bytes:
    """Encode the feedback message as bytes (the bits of :func:`encode_bits`, zero-padded)."""
    return np.packbits(encode_bits(active_ids, n, slots, per_slot, code=code)).tobytes()


@dataclass
class _Parsed:
    layout: Layout
    seeds: np.ndarray
    verification: np.ndarray | None


def _parse(message: Any, slots: int, per_slot: int, code: FeedbackCode, k: int | None) -> _Parsed:
    bits = bits_from_message(message)
    reader = BitReader(bits)
    k = _read_k(reader, slots, per_slot, code, k)
    layout, plan = _layout_for(code, k, slots, per_slot)
    if code.scheme == "consensus":
        salt_r = _salt_rice(code, layout, plan)
        salt = 0 if salt_r is None else reader.read_rice(salt_r, limit=1 << 20)
        lengths = _task_lengths(layout, code, plan)
        total = int(lengths.sum())
        reader.need(total)
        task_bits = bits[reader.pos : reader.pos + total]
        reader.pos += total
        seeds = consensus_seeds(layout, salt, task_bits, lengths)
    else:
        index = np.zeros(layout.kind.size, dtype=np.int64)
        p = 2.0 ** layout.log2p
        for node in layout.tasks.tolist():
            index[node] = reader.read_rice(rice_parameter(float(p[node])), limit=1 << 30)
        seeds = rice_seeds(layout.const, index)
    verification = None
    if code.fingerprint_bits:
        length = verification_length(k, slots, per_slot, code.fingerprint_bits)
        reader.need(length)
        verification = bits[reader.pos : reader.pos + length]
        reader.pos += length
    # whatever follows must be byte padding of zeros
    rest = bits[reader.pos :]
    if isinstance(message, np.ndarray):
        if rest.size:
            raise MalformedMessageError(f"feedback message has {rest.size} bits after its end")
    elif rest.size >= 8 or rest.any():
        raise MalformedMessageError("feedback message has trailing data after its end")
    return _Parsed(layout, seeds, verification)


def decode_many(
    message: bytes | np.ndarray,
    ids: Sequence[int] | np.ndarray,
    n: int,
    slots: int,
    per_slot: int = 1,
    *,
    code: FeedbackCode | None = None,
    k: int | None = None,
) -> np.ndarray:
    """What each of the users ``ids`` reads from ``message`` (vectorised :func:`decode`).

    Every entry depends only on the message and that user's own id. ``k`` (the number of
    active users) is required when the code does not send it (``send_k=False``); otherwise it
    is optional and checked against the message.

    Returns
    -------
    (N,) int64 slots in ``[0, slots)``; ``-1`` for "not scheduled" in the verified variant.

    Raises
    ------
    MalformedMessageError
        If the message is truncated, too long, or inconsistent with the parameters.
    """
    code = _resolve_code(code)
    _, n, slots, per_slot = check_problem(0, n, slots, per_slot)
    ids = _check_ids(ids, n, "ids")
    parsed = _parse(message, slots, per_slot, code, _check_k(k, slots, per_slot))
    keys = user_keys(ids)
    slot = route(parsed.layout, keys, parsed.seeds)
    if parsed.verification is not None:
        ok = check_verification(parsed.verification, keys, slot, parsed.layout.k, slots, per_slot, code.fingerprint_bits)
        slot = np.where(ok, slot, -1)
    return slot


def decode(
    message: bytes | np.ndarray,
    my_id: int,
    n: int,
    slots: int,
    per_slot: int = 1,
    *,
    code: FeedbackCode | None = None,
    k: int | None = None,
) -> int:
    """The slot user ``my_id`` reads from ``message`` (``-1``: not scheduled, verified variant).

    An active user always gets its own slot; an inactive user gets an arbitrary slot unless the
    code is the verified variant (``fingerprint_bits > 0``). ``k``: see :func:`decode_many`.
    """
    if isinstance(my_id, bool) or not isinstance(my_id, (int, np.integer)):
        raise TypeError(f"my_id must be an integer, got {my_id!r}")
    return int(decode_many(message, [int(my_id)], n, slots, per_slot, code=code, k=k)[0])


# ----------------------------------------------------------------------------- simulation


@dataclass
class SimulationResult:
    """Outcome of :func:`simulate`: measured bits against the bounds, all in bits."""

    k: int
    n: int
    slots: int
    per_slot: int
    trials: int
    bits: np.ndarray = field(repr=False)  # (trials,) message lengths
    lower_bound: float = 0.0
    seed_search_bound: float = 0.0
    encode_seconds: float = 0.0
    decode_seconds: float = 0.0
    false_positive_rate: float = math.nan

    @property
    def bits_per_user(self) -> float:
        """Mean message length divided by ``k``."""
        return float(self.bits.mean() / self.k) if self.k else 0.0

    @property
    def ratio(self) -> float:
        """Mean message length over the variable-length lower bound."""
        return float(self.bits.mean() / self.lower_bound) if self.lower_bound else math.inf


def _draw_active(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    if n <= 4 * k or n <= 1 << 16:
        return rng.choice(n, size=k, replace=False)
    ids = np.unique(rng.integers(0, n, size=k + k // 4 + 8))
    while ids.size < k:
        ids = np.unique(np.concatenate([ids, rng.integers(0, n, size=k)]))
    return rng.permutation(ids)[:k]


def simulate(
    n: int,
    k: int,
    slots: int,
    per_slot: int = 1,
    *,
    trials: int = 100,
    code: FeedbackCode | None = None,
    random_state: int | np.random.Generator | None = None,
    inactive_probes: int = 0,
) -> SimulationResult:
    """Draw active sets, encode, decode at every active user and check the schedule.

    Every active user's slot is decoded from the message bytes and its own id (never taken from
    the encoder), and the loads are checked: at most ``per_slot`` per slot, every slot in range.

    Parameters
    ----------
    n, k, slots, per_slot : int
    trials : int, number of random active sets
    code : FeedbackCode, optional
    random_state : int, Generator or None
    inactive_probes : int
        Verified variant: also decode this many random inactive users per trial and measure how
        often they wrongly believe they were scheduled.

    Raises
    ------
    AssertionError
        If any decode is wrong (a collision, an out-of-range slot or, in the verified variant,
        an active user told it was not scheduled).
    """
    code = _resolve_code(code)
    k, n, slots, per_slot = check_problem(k, n, slots, per_slot)
    rng = np.random.default_rng(random_state) if not isinstance(random_state, np.random.Generator) else random_state
    bits = np.zeros(trials, dtype=np.int64)
    t_enc = t_dec = 0.0
    false_pos = probes = 0
    for trial in range(trials):
        active = _draw_active(rng, n, k)
        t0 = time.perf_counter()
        message = encode(active, n, slots, per_slot, code=code)
        t1 = time.perf_counter()
        slot = decode_many(message, active, n, slots, per_slot, code=code, k=None if code.send_k else k)
        t2 = time.perf_counter()
        t_enc += t1 - t0
        t_dec += t2 - t1
        bits[trial] = _message_bits(message, slots, per_slot, code, None if code.send_k else k)
        if k:
            if slot.min() < 0 or slot.max() >= slots:
                raise AssertionError(f"trial {trial}: an active user decoded an invalid slot")
            load = np.bincount(slot, minlength=slots)
            if load.max() > per_slot:
                raise AssertionError(f"trial {trial}: a slot got {load.max()} > {per_slot} active users")
        if inactive_probes and code.fingerprint_bits:
            others = rng.integers(0, n, size=inactive_probes)
            others = others[~np.isin(others, active)]
            got = decode_many(message, others, n, slots, per_slot, code=code, k=None if code.send_k else k)
            false_pos += int(np.count_nonzero(got >= 0))
            probes += others.size
    return SimulationResult(
        k=k,
        n=n,
        slots=slots,
        per_slot=per_slot,
        trials=trials,
        bits=bits,
        lower_bound=variable_length_lower_bound(k, n, slots, per_slot),
        seed_search_bound=seed_search_lower_bound(k, slots, per_slot),
        encode_seconds=t_enc / max(trials, 1),
        decode_seconds=t_dec / max(trials, 1),
        false_positive_rate=false_pos / probes if probes else math.nan,
    )


def message_bits(
    message: bytes | np.ndarray,
    slots: int,
    per_slot: int = 1,
    *,
    code: FeedbackCode | None = None,
    k: int | None = None,
) -> int:
    """Exact length in bits of a (self-delimiting) message, without the byte padding.

    ``k``: see :func:`decode_many`.
    """
    return _message_bits(message, slots, per_slot, _resolve_code(code), _check_k(k, slots, per_slot))


def _message_bits(message: Any, slots: int, per_slot: int, code: FeedbackCode, k: int | None) -> int:
    bits = bits_from_message(message)
    reader = BitReader(bits)
    k = _read_k(reader, slots, per_slot, code, k)
    layout, plan = _layout_for(code, k, slots, per_slot)
    if code.scheme == "consensus":
        salt_r = _salt_rice(code, layout, plan)
        if salt_r is not None:
            reader.read_rice(salt_r, limit=1 << 20)
        reader.pos += int(_task_lengths(layout, code, plan).sum())
    else:
        p = 2.0 ** layout.log2p
        for node in layout.tasks.tolist():
            reader.read_rice(rice_parameter(float(p[node])), limit=1 << 30)
    if code.fingerprint_bits:
        reader.pos += verification_length(k, slots, per_slot, code.fingerprint_bits)
    if reader.pos > bits.size:
        raise MalformedMessageError("feedback message too short")
    return reader.pos
