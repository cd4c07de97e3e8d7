"""Build the table of GF(p^m) primitive polynomials shipped with interplay.

The q-ary BCH codes (interplay.codes.bch_qary) compute in GF(p^m) through log/antilog tables
built on a primitive polynomial of degree m over GF(p). This script picks, for every prime
p < 64 and every m with p^m <= 4096 (the largest field the runtime builds), the first monic
primitive polynomial ``x^m + c_{m-1} x^{m-1} + ... + c_0`` in the order the runtime's fallback
search uses (the tuple (c_0, c_1, ..., c_{m-1}) lexicographically), with `galois` deciding
primitivity. It runs once at development time; the runtime only reads the JSON.

    python scripts/build_gfpm_table.py           # rewrites src/interplay/codes/gfpm_table.json
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import galois

OUT = Path(__file__).resolve().parents[1] / "src" / "interplay" / "codes" / "gfpm_table.json"
MAX_FIELD_SIZE = 4096
MAX_PRIME = 64


def first_primitive_tail(p: int, m: int) -> list[int]:
    """(c_0, ..., c_{m-1}) of the first primitive x^m + sum c_i x^i, c_0 most significant."""
    field = galois.GF(p)
    for tail in itertools.product(range(p), repeat=m):
        if tail[0] == 0:
            continue  # x divides the polynomial
        poly = galois.Poly([1, *reversed(tail)], field=field)  # highest degree first
        if poly.is_primitive():
            return list(tail)
    raise RuntimeError(f"no primitive polynomial of degree {m} over GF({p})")


def main() -> None:
    fields: dict[str, dict[str, list[int]]] = {}
    for p in galois.primes(MAX_PRIME):
        entry = {}
        m = 1
        while p**m <= MAX_FIELD_SIZE:
            entry[str(m)] = first_primitive_tail(p, m)
            m += 1
        fields[str(p)] = entry
        print(f"p={p}: m in 1..{m - 1}")
    table = {
        "description": (
            "Primitive polynomials x^m + c_(m-1) x^(m-1) + ... + c_0 over GF(p): "
            "fields[p][m] = [c_0, ..., c_(m-1)]; built by scripts/build_gfpm_table.py"
        ),
        "max_field_size": MAX_FIELD_SIZE,
        "fields": fields,
    }
    OUT.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
