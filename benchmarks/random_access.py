"""Random access with k of n users active: feedback code vs index listing vs slotted ALOHA.

For b/k in {1, 1.25, 1.5, 2, 4} (m = 1), prints and plots, per protocol, the feedback bits per
active user, the slots the frame needs, the fraction of active users that get through and the
total cost (feedback plus slots of ``--slot-bits`` payload bits) per delivered user. Every
active user's slot under the code is decoded and checked (:func:`simulate_random_access`).

    .venv/bin/python benchmarks/random_access.py                 # writes docs/img/feedback_random_access.png
    .venv/bin/python benchmarks/random_access.py --k 200 --trials 2 --out /tmp/ra.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from interplay.codes.random_access import PROTOCOLS, simulate_random_access

N = 10**9
RATIOS = (1.0, 1.25, 1.5, 2.0, 4.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--slot-bits", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "img" / "feedback_random_access.png"))
    args = parser.parse_args()
    rows: dict[str, list] = {name: [] for name in PROTOCOLS}
    print(f"n = {N}, k = {args.k}, per_slot = 1, slot = {args.slot_bits:g} payload bits")
    print(f"{'b/k':>5} {'protocol':>8} {'fb bits/user':>12} {'bound/user':>10} {'slots':>6} {'delivered':>9} {'bits/delivered':>14}")
    for ratio in RATIOS:
        slots = round(ratio * args.k)
        for name in PROTOCOLS:
            r = simulate_random_access(N, args.k, slots, protocol=name, trials=args.trials, random_state=args.seed)  # type: ignore[arg-type]
            rows[name].append(r)
            print(f"{ratio:>5g} {name:>8} {r.feedback_bits / args.k:>12.4f} {r.bound_bits / args.k:>10.4f} "
                  f"{r.slots_used:>6.0f} {r.delivered:>9.4f} {r.bits_per_delivered(args.slot_bits):>14.2f}", flush=True)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_fb, ax_tot) = plt.subplots(1, 2, figsize=(10, 4))
    styles = {"code": ("C0", "o", "feedback code"), "naive": ("C1", "s", "index listing"),
              "aloha": ("C3", "^", "slotted ALOHA (no feedback)")}
    bound = [r.bound_bits / args.k for r in rows["code"]]
    for name, (color, marker, label) in styles.items():
        if name != "aloha":
            ax_fb.plot(RATIOS, [r.feedback_bits / args.k for r in rows[name]], marker=marker, color=color, label=label)
        ax_tot.plot(RATIOS, [r.bits_per_delivered(args.slot_bits) for r in rows[name]], marker=marker,
                    color=color, label=f"{label}, delivered {min(r.delivered for r in rows[name]):.2f}"
                    f"–{max(r.delivered for r in rows[name]):.2f}")
    ax_fb.plot(RATIOS, bound, "k--", label="lower bound")
    ax_fb.set_yscale("log")
    ax_fb.set_xlabel("slots per active user b/k")
    ax_fb.set_ylabel("feedback bits per active user")
    ax_fb.set_title(f"Feedback (n = 1e9, k = {args.k})")
    ax_fb.legend(fontsize=8)
    ax_tot.set_xlabel("slots per active user b/k")
    ax_tot.set_ylabel(f"(feedback + slots × {args.slot_bits:g} bits) / delivered user")
    ax_tot.set_title("Total cost per delivered user")
    ax_tot.legend(fontsize=8)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
