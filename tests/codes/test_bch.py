"""BCH construction and vectorised decoding against known messages and error patterns."""

import numpy as np
import pytest

from interplay.codes.bch import BCHCode, bch_generator
from interplay.codes.gf2m import GF2m


def _random_supports(rng, n, t, count, max_weight):
    sup = np.full((count, t), -1)
    weights = rng.integers(0, max_weight + 1, count)
    for i, w in enumerate(weights):
        sup[i, :w] = np.sort(rng.choice(n, w, replace=False))
    return sup, weights


def test_generator_has_the_designed_roots():
    """g(α^i) = 0 for i = 1..2t: the shipped table describes real BCH codes."""
    for m, t in [(6, 2), (8, 4), (10, 5), (11, 4), (13, 6)]:
        prim, gen = bch_generator(m, t)
        field = GF2m.build(m, prim)
        coeffs = np.array([(gen >> i) & 1 for i in range(gen.bit_length())])
        for i in range(1, 2 * t + 1):
            powers = field.pow_alpha(i * np.arange(coeffs.size))
            assert np.bitwise_xor.reduce(powers[coeffs == 1]) == 0, (m, t, i)
        assert gen.bit_length() - 1 <= m * t


def test_field_tables_are_consistent():
    field = GF2m.build(8)
    a = np.arange(1, 256)
    assert np.all(field.mul(a, field.inv(a)) == 1)
    assert np.all(field.mul(a, 0) == 0)


@pytest.mark.parametrize("n,t", [(20, 2), (100, 3), (1000, 4), (1000, 7)])
def test_hard_decoding_recovers_message_and_parity_errors(n, t):
    code = BCHCode(n, t)
    rng = np.random.default_rng(n)
    sup, weights = _random_supports(rng, n, t, 300, t)
    received = code.parity(sup)
    n_err = rng.integers(0, t - weights + 1)  # |k| + errors <= t
    for i, e in enumerate(n_err):
        received[i, rng.choice(code.n_parity, e, replace=False)] ^= True
    result = code.decode(received)
    assert result.ok.all()
    np.testing.assert_array_equal(result.support, sup)
    np.testing.assert_array_equal(result.n_parity_errors, n_err)


def test_decoding_beyond_capability_is_never_silently_wrong_in_parity():
    """Words with more than t errors either fail or decode to a word within distance t."""
    code = BCHCode(200, 3)
    rng = np.random.default_rng(1)
    sup, _ = _random_supports(rng, 200, 3, 200, 3)
    received = code.parity(sup)
    for i in range(received.shape[0]):
        received[i, rng.choice(code.n_parity, 6, replace=False)] ^= True
    result = code.decode(received)
    # whatever decoded must be a codeword within distance t of the received word
    dist = result.weight + (code.parity(result.support) ^ received).sum(axis=1)
    assert np.all(dist[result.ok] <= 3)


def test_chase_corrects_unreliable_bits_hard_decoding_cannot():
    code = BCHCode(500, 3)
    rng = np.random.default_rng(2)
    sup, weights = _random_supports(rng, 500, 3, 200, 3)
    bits = code.parity(sup)
    soft = (1.0 - 2.0 * bits) * rng.uniform(1.0, 2.0, bits.shape)
    # flip 3 - |k| + 2 bits: beyond hard capability, but make them the least reliable
    for i, w in enumerate(weights):
        flip = rng.choice(code.n_parity, 3 - w + 2, replace=False)
        soft[i, flip] *= -0.05
    hard = code.decode(soft < 0)
    chase, corr = code.chase_decode(soft, depth=4)
    hard_right = hard.ok & (hard.support == sup).all(axis=1)
    chase_right = chase.ok & (chase.support == sup).all(axis=1)
    assert hard_right.mean() < 0.5
    assert chase_right.mean() > 0.85
    # Where Chase disagrees with the truth it found a codeword at least as likely.
    truth_corr = ((1.0 - 2.0 * code.parity(sup)) * soft).sum(axis=1)
    assert np.all(corr[~chase_right] >= truth_corr[~chase_right] - 1e-9)


def test_rejects_wrong_shapes():
    code = BCHCode(50, 2)
    with pytest.raises(ValueError, match="parity_bits"):
        code.decode(np.zeros((3, code.n_parity + 1), dtype=bool))


def test_small_and_large_designs_never_need_galois_at_run_time(monkeypatch):
    """Every (n, t) SPEX uses for n <= 1000, t <= 6 comes from the shipped table."""
    import sys

    from interplay.codes import bch

    monkeypatch.setitem(sys.modules, "galois", None)  # importing galois now fails
    monkeypatch.setattr(bch, "_cache_dir", lambda: __import__("pathlib").Path("/nonexistent"))
    for n in list(range(1, 41)) + [100, 300, 1000]:
        for t in range(1, min(6, n) + 1):
            code = BCHCode(n, t)
            assert code.n_message == n and code.n_parity >= 1
