"""Collision-free feedback codes: bits per active user against the bounds, and speed.

Prints one row per (k, b, m, scheme) of the cases (``k:b/k:m``; by default ``b = k`` for
``k`` in {8, 64, 1000, 100000}, ``b = 2k``, ``b/k`` in {1.25, 1.5, 4} at ``k = 1000``, and
``m = 2`` with ``b = k/2`` and ``b = k``): measured bits per active user (every active user's slot is
decoded from the message bytes and checked), the variable-length lower bound, their ratio, the
same two for the code that does not send ``k`` (``FeedbackCode(send_k=False)``: ``k`` is a
protocol constant, as in the bound's model; every decode is checked too), the
seed-search floor (the best any code that sends a first-success seed index can do), the naive
cost, and encode / decode time. Times are CPU seconds of this process (``time.process_time``;
the machine may be shared, so wall time can be larger) and the wall time is shown too.

    .venv/bin/python benchmarks/feedback.py                 # every case, k up to 100000
    .venv/bin/python benchmarks/feedback.py --quick         # without k = 100000
    .venv/bin/python benchmarks/feedback.py --cases 1000:2:1,1000:1:2 --trials 20 --schemes consensus
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from interplay.codes.feedback import FeedbackCode, decode, decode_many, encode, message_bits
from interplay.codes.feedback_bounds import (
    naive_bits,
    seed_search_lower_bound,
    variable_length_lower_bound,
)

N = 10**9
CASES = ("8:1:1,8:2:1,64:1:1,64:2:1,1000:1:1,1000:1.25:1,1000:1.5:1,1000:2:1,1000:4:1,1000:0.5:2,1000:1:2,"
         "100000:1:1,100000:2:1,100000:0.5:2,100000:1:2")


def default_trials(k: int) -> int:
    return {8: 2000, 64: 200, 1000: 6}.get(k, 1)


def run(k: int, b: int, per_slot: int, scheme: str, trials: int, seed: int) -> dict[str, float]:
    code = FeedbackCode(scheme=scheme)  # type: ignore[arg-type]
    known = FeedbackCode(scheme=scheme, send_k=False)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    bits = []
    bits_known = []
    cpu_enc = cpu_dec = wall_enc = 0.0
    for _ in range(trials):
        active = np.unique(rng.integers(0, N, size=k + 16))
        active = rng.permutation(active)[:k]
        c0, w0 = time.process_time(), time.perf_counter()
        message = encode(active, N, b, per_slot, code=code)
        c1, w1 = time.process_time(), time.perf_counter()
        slot = decode_many(message, active, N, b, per_slot, code=code)
        c2 = time.process_time()
        cpu_enc += c1 - c0
        wall_enc += w1 - w0
        cpu_dec += c2 - c1
        if slot.min() < 0 or slot.max() >= b or np.bincount(slot, minlength=b).max() > per_slot:
            raise AssertionError(f"collision or bad slot at k={k}, b={b}")
        # one user decodes alone, as a real receiver would
        if decode(message, int(active[0]), N, b, per_slot, code=code) != slot[0]:
            raise AssertionError("single-user decode disagrees")
        bits.append(message_bits(message, b, per_slot, code=code))
        short = encode(active, N, b, per_slot, code=known)
        slot = decode_many(short, active, N, b, per_slot, code=known, k=k)
        if slot.min() < 0 or slot.max() >= b or np.bincount(slot, minlength=b).max() > per_slot:
            raise AssertionError(f"collision or bad slot at k={k}, b={b} (k known)")
        bits_known.append(message_bits(short, b, per_slot, code=known, k=k))
    # time one single-user decode (parsing the whole message) on the last message
    c0 = time.process_time()
    decode(message, int(active[-1]), N, b, per_slot, code=code)
    single = time.process_time() - c0
    bound = variable_length_lower_bound(k, N, b, per_slot)
    mean_bits = float(np.mean(bits))
    return {
        "bits_per_user": mean_bits / k,
        "bound_per_user": bound / k,
        "ratio": mean_bits / bound,
        "known_per_user": float(np.mean(bits_known)) / k,
        "known_ratio": float(np.mean(bits_known)) / bound,
        "seed_floor_per_user": seed_search_lower_bound(k, b, per_slot) / k,
        "naive_per_user": naive_bits(k, N) / k,
        "encode_cpu_s": cpu_enc / trials,
        "encode_wall_s": wall_enc / trials,
        "decode_all_cpu_s": cpu_dec / trials,
        "decode_one_cpu_s": single,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=CASES, help="comma-separated k:b_over_k:per_slot")
    parser.add_argument("--schemes", default="consensus,rice")
    parser.add_argument("--trials", type=int, default=None, help="active sets per row")
    parser.add_argument("--quick", action="store_true", help="skip k = 100000")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    cases = []
    for item in args.cases.split(","):
        k_text, ratio_text, m_text = item.split(":")
        k, m = int(k_text), int(m_text)
        cases.append((k, round(float(ratio_text) * k), m))
    if args.quick:
        cases = [case for case in cases if case[0] < 100_000]
    header = (f"{'k':>7} {'b':>7} {'m':>2} {'scheme':>9} {'trials':>6} {'bits/user':>10} {'bound':>8} "
              f"{'ratio':>7} {'kk bits':>8} {'kk ratio':>8} {'seedfloor':>9} {'naive':>6} {'enc cpu s':>10} {'enc wall s':>10} "
              f"{'dec all s':>10} {'dec one s':>10}")
    print(f"n = {N}; bits and bounds per active user; kk = k known to the users (send_k=False)")
    print(header)
    for k, b, per_slot in cases:
        for scheme in args.schemes.split(","):
            trials = args.trials or default_trials(k)
            row = run(k, b, per_slot, scheme, trials, args.seed)
            print(f"{k:>7} {b:>7} {per_slot:>2} {scheme:>9} {trials:>6} {row['bits_per_user']:>10.4f} "
                  f"{row['bound_per_user']:>8.4f} {row['ratio']:>7.4f} "
                  f"{row['known_per_user']:>8.4f} {row['known_ratio']:>8.4f} "
                  f"{row['seed_floor_per_user']:>9.4f} {row['naive_per_user']:>6.1f} "
                  f"{row['encode_cpu_s']:>10.4f} {row['encode_wall_s']:>10.4f} "
                  f"{row['decode_all_cpu_s']:>10.4f} {row['decode_one_cpu_s']:>10.4f}", flush=True)


if __name__ == "__main__":
    main()
