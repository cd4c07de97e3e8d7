"""The random-access system that the feedback codes serve, and two baselines to compare with.

``k`` of ``n`` users are active in a frame of ``b`` slots; a slot carries at most ``m`` users
(``per_slot``; more collide and none of them gets through). Three protocols:

``"code"``
    The receiver broadcasts the collision-free feedback message of
    :mod:`interplay.codes.feedback`; every active user decodes its slot (checked) and all ``k``
    get through in the ``b`` slots.
``"naive"``
    The receiver lists the active ids in slot order, ``k * ceil(log2 n)`` bits; all ``k`` get
    through, in the ``ceil(k / m)`` slots the list fills.
``"aloha"``
    Slotted ALOHA in the same ``b`` slots: no feedback, each active user picks a slot uniformly
    at random, and a user gets through when its slot holds at most ``m`` users. The delivered
    fraction is ``P[Bin(k - 1, 1/b) <= m - 1]`` in expectation (``(1 - 1/b)^(k-1)`` for ``m = 1``).

:func:`simulate_random_access` measures each on random active sets; ``total_bits`` adds the
slots at ``slot_bits`` payload bits each, so feedback and airtime are counted in one unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from scipy.stats import binom

from interplay.codes.feedback import FeedbackCode, simulate
from interplay.codes.feedback_bounds import check_problem, naive_bits, variable_length_lower_bound

__all__ = ["Protocol", "RandomAccessResult", "aloha_delivered_fraction", "simulate_random_access"]

Protocol = Literal["code", "naive", "aloha"]
PROTOCOLS: tuple[str, ...] = get_args(Protocol)


@dataclass(frozen=True)
class RandomAccessResult:
    """One protocol on one frame size, averaged over random active sets.

    Attributes
    ----------
    protocol : str
    n, k, slots, per_slot, trials : int
    feedback_bits : float, mean feedback message length (bits, whole frame)
    slots_used : float, slots the frame needs
    delivered : float, mean fraction of the active users whose transmission gets through
    bound_bits : float, the variable-length lower bound on collision-free feedback (bits)
    """

    protocol: str
    n: int
    k: int
    slots: int
    per_slot: int
    trials: int
    feedback_bits: float
    slots_used: float
    delivered: float
    bound_bits: float

    def total_bits(self, slot_bits: float) -> float:
        """Feedback bits plus ``slots_used`` slots of ``slot_bits`` bits each."""
        return self.feedback_bits + self.slots_used * slot_bits

    def bits_per_delivered(self, slot_bits: float) -> float:
        """:meth:`total_bits` per user that got through (``inf`` when none did)."""
        got = self.delivered * self.k
        return self.total_bits(slot_bits) / got if got else math.inf


def aloha_delivered_fraction(k: int, slots: int, per_slot: int = 1) -> float:
    """Expected fraction of ``k`` slotted-ALOHA users whose slot holds at most ``per_slot``."""
    if k == 0:
        return 1.0
    return float(binom.cdf(per_slot - 1, k - 1, 1.0 / slots))


def simulate_random_access(
    n: int,
    k: int,
    slots: int,
    per_slot: int = 1,
    *,
    protocol: Protocol = "code",
    trials: int = 10,
    code: FeedbackCode | None = None,
    random_state: int | np.random.Generator | None = None,
) -> RandomAccessResult:
    """Run one protocol on ``trials`` random active sets.

    Parameters
    ----------
    n, k, slots, per_slot : int
    protocol : {"code", "naive", "aloha"}
    trials : int, random active sets (every decode of the code is checked)
    code : FeedbackCode, optional, for ``protocol="code"``
    random_state : int, Generator or None

    Raises
    ------
    ValueError
        On an unknown protocol, ``trials < 1`` or an impossible problem (``k > slots * per_slot``).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
        raise ValueError(f"trials must be a positive integer, got {trials!r}")
    k, n, slots, per_slot = check_problem(k, n, slots, per_slot)
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    bound = variable_length_lower_bound(k, n, slots, per_slot)
    if protocol == "code":
        result = simulate(n, k, slots, per_slot, trials=int(trials), code=code, random_state=rng)
        feedback, used, delivered = float(result.bits.mean()), float(slots), 1.0
    elif protocol == "naive":
        feedback, used, delivered = naive_bits(k, n), float(-(-k // per_slot)), 1.0
    else:
        choice = rng.integers(0, slots, size=(int(trials), k))
        load = np.zeros((int(trials), slots), dtype=np.int64)
        np.add.at(load, (np.arange(int(trials))[:, None], choice), 1)
        ok = np.take_along_axis(load, choice, axis=1) <= per_slot
        feedback, used, delivered = 0.0, float(slots), float(ok.mean()) if k else 1.0
    return RandomAccessResult(protocol, n, k, slots, per_slot, int(trials), feedback, used, delivered, bound)
