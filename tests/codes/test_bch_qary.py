"""GF(p^m) tables and syndrome decoding over GF(p) against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from interplay.codes.bch_qary import PrimeBCHCode
from interplay.codes.gfpm import GFpm


def _poly_mul_mod(a, b, p, m, modulus):
    """Product of two digit vectors modulo the monic x^m + modulus(x), by schoolbook."""
    prod = np.zeros(2 * m - 1, dtype=np.int64)
    for i, j in itertools.product(range(m), repeat=2):
        prod[i + j] += a[i] * b[j]
    prod %= p
    for d in range(2 * m - 2, m - 1, -1):  # x^d = x^(d-m) x^m = -x^(d-m) modulus(x)
        top = prod[d]
        prod[d] = 0
        prod[d - m : d] = (prod[d - m : d] - top * modulus) % p
    return prod[:m]


@pytest.mark.parametrize(("p", "m"), [(2, 4), (3, 2), (3, 3), (5, 2), (7, 2)])
def test_field_tables_against_polynomial_arithmetic(p, m):
    gf = GFpm.build(p, m)
    elements = np.arange(gf.size)
    digits = gf.digits(elements)
    # alpha = x; alpha^m expresses the modulus: x^m = -modulus(x)
    modulus = (-gf.digits(gf.pow_alpha(m))) % p
    rng = np.random.default_rng(p * m)
    a, b = rng.integers(0, gf.size, size=(2, 200))
    want = [_poly_mul_mod(digits[x], digits[y], p, m, modulus) @ p ** np.arange(m)
            for x, y in zip(a, b, strict=True)]
    np.testing.assert_array_equal(gf.mul(a, b), want)
    np.testing.assert_array_equal(gf.digits(gf.add(a, b)), (digits[a] + digits[b]) % p)
    np.testing.assert_array_equal(gf.add(a, gf.neg[a]), 0)
    nonzero = elements[1:]
    np.testing.assert_array_equal(gf.mul(nonzero, gf.inv(nonzero)), 1)
    assert len(set(gf.exp[: gf.order].tolist())) == gf.order  # alpha is primitive


@pytest.mark.parametrize(("n", "p", "t"), [(100, 3, 3), (100, 5, 3), (30, 7, 2), (10, 3, 4)])
def test_syndromes_decode_every_sparse_vector(n, p, t):
    code = PrimeBCHCode(n, p, t)
    assert code.n_checks < n or n <= 10
    rng = np.random.default_rng(n + p + t)
    freq = np.zeros((300, n), dtype=np.int64)
    for row in freq:
        where = rng.choice(n, size=rng.integers(0, t + 1), replace=False)
        row[where] = rng.integers(1, p, size=where.size)
    # the syndromes are the definition S_j = sum_i k_i alpha^(j i)
    gf = code.field
    for row in freq[:20]:
        s = np.zeros(2 * t, dtype=np.int64)
        for j in range(1, 2 * t + 1):
            for i in np.flatnonzero(row):
                s[j - 1] = gf.add(s[j - 1], gf.scale(row[i], gf.pow_alpha(j * i)))
        np.testing.assert_array_equal(code.syndromes((code.checks @ row % p)[None])[0], s)
    decoded, ok = code.decode((freq @ code.checks.T) % p)
    assert ok.all()
    np.testing.assert_array_equal(decoded, freq)


def test_too_heavy_words_are_refused_or_decoded_to_a_light_one():
    n, p, t = 40, 3, 2
    code = PrimeBCHCode(n, p, t)
    rng = np.random.default_rng(0)
    heavy = np.zeros((200, n), dtype=np.int64)
    for row in heavy:
        row[rng.choice(n, size=5, replace=False)] = rng.integers(1, p, size=5)
    reads = (heavy @ code.checks.T) % p
    decoded, ok = code.decode(reads)
    assert not ok.all()
    # whatever decodes is consistent: same syndromes, weight <= t
    np.testing.assert_array_equal((decoded[ok] @ code.checks.T) % p, reads[ok])
    assert ((decoded[ok] != 0).sum(axis=1) <= t).all()


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="prime"):
        PrimeBCHCode(10, 6, 2)
    with pytest.raises(ValueError, match="t >= 1"):
        PrimeBCHCode(10, 3, 0)


def _is_primitive_by_brute_force(p, m, tail):
    """x generates the multiplicative group of GF(p)[x] / (x^m + sum tail_i x^i)."""
    modulus = np.asarray(tail, dtype=np.int64)
    x = np.zeros(m, dtype=np.int64)
    if m == 1:
        x[0] = -modulus[0] % p  # x = -c_0 in GF(p)
    else:
        x[1] = 1
    one = np.zeros(m, dtype=np.int64)
    one[0] = 1
    current, seen = one.copy(), set()
    for _ in range(p**m - 1):
        seen.add(tuple(current))
        current = _poly_mul_mod(current, x, p, m, modulus) if m > 1 else (current * x) % p
    return (current == one).all() and len(seen) == p**m - 1


def test_shipped_primitive_polynomials_match_brute_force():
    from interplay.codes.gfpm import shipped_primitive_poly

    for p, m in [(2, 1), (2, 5), (2, 12), (3, 1), (3, 4), (3, 7), (5, 3), (5, 5), (7, 4),
                 (11, 3), (13, 3), (31, 2), (61, 2)]:
        tail = shipped_primitive_poly(p, m)
        assert tail is not None and len(tail) == m
        assert _is_primitive_by_brute_force(p, m, tail)
        if p**m <= 400:  # and it is the first in lexicographic order of (c_0, ..., c_m-1)
            earlier = [t for t in itertools.product(range(p), repeat=m) if t < tail and t[0]]
            assert not any(_is_primitive_by_brute_force(p, m, t) for t in earlier)


def test_fields_come_from_the_table_and_fall_back_to_a_search(monkeypatch):
    from interplay.codes import gfpm

    tried = []
    real = gfpm._power_table
    monkeypatch.setattr(gfpm, "_power_table", lambda p, m, tail: tried.append(tail) or real(
        p, m, tail))
    build = gfpm.GFpm.build.__wrapped__  # without the cache
    shipped = build(3, 5)
    assert tried == [gfpm.shipped_primitive_poly(3, 5)]  # no search
    tried.clear()
    monkeypatch.setattr(gfpm, "shipped_primitive_poly", lambda p, m: None)
    searched = build(3, 5)
    assert len(tried) > 1
    np.testing.assert_array_equal(searched.exp, shipped.exp)
