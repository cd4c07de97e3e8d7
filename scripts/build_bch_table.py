"""Build the table of binary BCH generator polynomials shipped with interplay.

`galois` constructs the codes (narrow-sense, primitive, length 2^m − 1); this runs once at
development time because galois JIT-compiles for tens of seconds on first use. The runtime
reads the JSON and does all encoding/decoding in numpy (interplay.codes.bch).

    python scripts/build_bch_table.py            # rewrites src/interplay/codes/bch_table.json
"""

from __future__ import annotations

import json
from pathlib import Path

import galois

OUT = Path(__file__).resolve().parents[1] / "src" / "interplay" / "codes" / "bch_table.json"


def poly_to_int(poly: galois.Poly) -> int:
    """Coefficients (highest degree first) as a bit mask, bit i = coefficient of x^i."""
    value = 0
    for c in poly.coeffs.tolist():
        value = (value << 1) | int(c)
    return value


def main() -> None:
    table: dict[str, dict] = {}
    for m in range(3, 14):
        n_code = 2**m - 1
        entry: dict = {"primitive_poly": None, "generators": {}}
        for t in range(1, 13):
            try:
                code = galois.BCH(n_code, d=2 * t + 1)
            except (ValueError, IndexError):  # no code with this t at this length
                continue
            if code.t != t:  # the designed distance may exceed 2t + 1; skip duplicates
                continue
            # The code's roots are powers of x in *its* extension field, whose defining
            # polynomial (galois picks the first primitive one) need not be GF(2^m)'s default.
            prim = poly_to_int(code.extension_field.irreducible_poly)
            if entry["primitive_poly"] not in (None, prim):
                raise RuntimeError(f"m={m}: codes disagree on the extension field")
            entry["primitive_poly"] = prim
            entry["generators"][str(t)] = hex(poly_to_int(code.generator_poly))
        table[str(m)] = entry
        print(f"m={m}: t in {sorted(map(int, entry['generators']))}")
    OUT.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
