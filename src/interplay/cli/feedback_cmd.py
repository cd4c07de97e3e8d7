"""``interplay feedback``: collision-free feedback scheduling codes from the command line.

Examples::

    interplay feedback bounds --k 64 --slots 64
    interplay feedback simulate --k 1000 --slots 1000 --trials 5
    interplay feedback simulate --k 1000 --slots 2000 --protocol all --slot-bits 100
    interplay feedback encode --slots 4 --ids 17,4242,99,5          # prints the message in hex
    interplay feedback decode --slots 4 --message 9f3a --id 4242    # prints the slot
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np


def _int(text: str) -> int:
    """Integers also written as ``1e9`` or ``10**9``."""
    text = text.strip()
    try:
        if "**" in text:
            base, exp = text.split("**")
            return int(base) ** int(exp)
        if "e" in text.lower():
            value = float(text)
            if not value.is_integer():
                raise ValueError
            return int(value)
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def register(subparsers: Any) -> None:
    """Add the ``feedback`` subcommand."""
    parser = subparsers.add_parser(
        "feedback",
        help="feedback codes that schedule k of n users into slots without collisions",
        description="Bounds, encoder/decoder and simulator for collision-free feedback codes.",
    )
    sub = parser.add_subparsers(dest="feedback_command", metavar="ACTION")

    def common(p: argparse.ArgumentParser, with_k: bool = True) -> None:
        p.add_argument("--n", type=_int, default=10**9, help="number of users (default 1e9)")
        if with_k:
            p.add_argument("--k", type=_int, required=True, help="number of active users")
        p.add_argument("--slots", type=_int, required=True, help="number of slots b")
        p.add_argument("--per-slot", type=_int, default=1, help="users allowed per slot (m)")

    def code_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--scheme", choices=("consensus", "rice"), default="consensus")
        p.add_argument("--leaf-size", type=_int, default=None)
        p.add_argument("--overhead", type=float, default=None, help="consensus bits per task")
        p.add_argument("--window", type=float, default=None,
                       help="slot trees (slack): prefix window in users; 0 for exact splits")
        p.add_argument("--fingerprint-bits", type=_int, default=0,
                       help="verified variant: inactive users learn they were not scheduled")
        p.add_argument("--no-send-k", dest="send_k", action="store_false",
                       help="k is a protocol constant: the message omits it (decode then needs --k)")

    p_bounds = sub.add_parser("bounds", help="print the bounds (total and per active user)")
    common(p_bounds)
    p_bounds.set_defaults(func=_bounds)

    p_sim = sub.add_parser("simulate", help="encode/decode random active sets and check them")
    common(p_sim)
    code_options(p_sim)
    p_sim.add_argument("--trials", type=_int, default=10)
    p_sim.add_argument("--seed", type=_int, default=0)
    p_sim.add_argument("--protocol", choices=("code", "naive", "aloha", "all"), default="code",
                       help="code: this feedback code (default); naive: list the active ids; aloha: "
                            "slotted ALOHA in the same slots, no feedback; all: compare the three")
    p_sim.add_argument("--slot-bits", type=float, default=100.0,
                       help="payload bits of a slot, to count slots and feedback in one unit (--protocol)")
    p_sim.set_defaults(func=_simulate)

    p_enc = sub.add_parser("encode", help="print the feedback message (hex) for given active ids")
    common(p_enc, with_k=False)
    code_options(p_enc)
    p_enc.add_argument("--ids", required=True, help="comma-separated active user ids")
    p_enc.set_defaults(func=_encode)

    p_dec = sub.add_parser("decode", help="print the slot a user reads from a message (hex)")
    common(p_dec, with_k=False)
    code_options(p_dec)
    p_dec.add_argument("--message", required=True, help="the message in hex")
    p_dec.add_argument("--id", type=_int, required=True, help="the decoding user's id")
    p_dec.add_argument("--k", type=_int, default=None,
                       help="number of active users (required with --no-send-k, else checked)")
    p_dec.set_defaults(func=_decode)

    parser.set_defaults(func=lambda args: _help(parser))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _code(args: argparse.Namespace) -> Any:
    from interplay.codes.feedback import FeedbackCode

    return FeedbackCode(
        scheme=args.scheme,
        leaf_size=args.leaf_size,
        overhead=args.overhead,
        window=args.window,
        fingerprint_bits=args.fingerprint_bits,
        send_k=args.send_k,
    )


def _fail(exc: Exception) -> int:
    print(f"interplay feedback: {exc}", file=sys.stderr)
    return 2


def _bounds(args: argparse.Namespace) -> int:
    from interplay.codes.feedback_bounds import feedback_bounds

    try:
        bounds = feedback_bounds(args.k, args.n, args.slots, args.per_slot)
    except ValueError as exc:
        return _fail(exc)
    per_user = bounds.per_user()
    print(f"k={bounds.k} n={bounds.n} slots={bounds.slots} per_slot={bounds.per_slot}")
    print(f"{'bound':<26}{'total bits':>14}{'bits/user':>12}")
    for name in ("naive", "set_listing", "variable_length_lower", "seed_search_lower",
                 "fixed_length_lower", "fixed_length_upper"):
        total = getattr(bounds, name)
        print(f"{name:<26}{total:>14.2f}{per_user.get(name, 0.0):>12.4f}")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    if args.protocol != "code":
        return _simulate_protocols(args)
    from interplay.codes.feedback import simulate

    try:
        result = simulate(args.n, args.k, args.slots, args.per_slot, trials=args.trials,
                          code=_code(args), random_state=args.seed,
                          inactive_probes=1000 if args.fingerprint_bits else 0)
    except ValueError as exc:
        return _fail(exc)
    print(f"k={result.k} n={result.n} slots={result.slots} per_slot={result.per_slot} "
          f"trials={result.trials}: every active user decoded a valid slot")
    print(f"bits/user {result.bits_per_user:.4f}  bound/user {result.lower_bound / max(result.k, 1):.4f}  "
          f"ratio {result.ratio:.4f}  encode {result.encode_seconds:.3f}s  decode {result.decode_seconds:.3f}s")
    if args.fingerprint_bits:
        print(f"inactive users wrongly scheduled: {result.false_positive_rate:.5f}")
    return 0


def _simulate_protocols(args: argparse.Namespace) -> int:
    from interplay.codes.random_access import PROTOCOLS, simulate_random_access

    protocols = PROTOCOLS if args.protocol == "all" else (args.protocol,)
    try:
        if not args.slot_bits >= 0:
            raise ValueError(f"--slot-bits must be >= 0, got {args.slot_bits}")
        results = [simulate_random_access(args.n, args.k, args.slots, args.per_slot, protocol=name,
                                          trials=args.trials, code=_code(args), random_state=args.seed)
                   for name in protocols]
    except ValueError as exc:
        return _fail(exc)
    first = results[0]
    print(f"k={first.k} n={first.n} slots={first.slots} per_slot={first.per_slot} trials={first.trials} "
          f"slot_bits={args.slot_bits:g}; feedback bound {first.bound_bits / max(first.k, 1):.4f} bits/user")
    print(f"{'protocol':<9}{'feedback bits/user':>19}{'slots':>9}{'delivered':>11}{'total bits':>12}"
          f"{'bits/delivered':>16}")
    for r in results:
        print(f"{r.protocol:<9}{r.feedback_bits / max(r.k, 1):>19.4f}{r.slots_used:>9.0f}{r.delivered:>11.4f}"
              f"{r.total_bits(args.slot_bits):>12.0f}{r.bits_per_delivered(args.slot_bits):>16.2f}")
    return 0


def _encode(args: argparse.Namespace) -> int:
    from interplay.codes.feedback import encode, message_bits

    try:
        ids = np.array([_int(x) for x in args.ids.split(",") if x.strip()], dtype=np.int64)
        message = encode(ids, args.n, args.slots, args.per_slot, code=_code(args))
        n_bits = message_bits(message, args.slots, args.per_slot, code=_code(args), k=ids.size)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        return _fail(exc)
    print(message.hex())
    print(f"{n_bits} bits ({n_bits / max(ids.size, 1):.3f} per active user)", file=sys.stderr)
    return 0


def _decode(args: argparse.Namespace) -> int:
    from interplay.codes.feedback import decode

    try:
        message = bytes.fromhex(args.message)
        slot = decode(message, args.id, args.n, args.slots, args.per_slot, code=_code(args), k=args.k)
    except ValueError as exc:
        return _fail(exc)
    print(slot)
    return 0
