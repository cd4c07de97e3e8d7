"""The sparse-Fourier engine: delay codes, refit and peeling against brute force."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest

from interplay.sparse_fourier import (
    BCHDelays,
    BinaryDigitBCHDelays,
    PrimeBCHDelays,
    UnitDelays,
    coded_delay_count,
    coded_delays,
    sparse_fourier_transform,
    subsample_groups,
)
from interplay.sparse_fourier.layout import BinLayout
from interplay.sparse_fourier.refit import refit, sample_r2
from interplay.spectral.subsets import canonical_spectrum
from interplay.values.planted import random_sparse_fourier
from interplay.values.qary import random_sparse_qary


def _signature(delays, freq, q):
    return np.exp(2j * np.pi * ((freq @ delays.T) % q) / q)


@pytest.mark.parametrize(("q", "repeats", "seeded"), [(2, 1, False), (3, 1, False), (5, 3, True)])
def test_unit_delays_read_a_singleton(q, repeats, seeded):
    rng = np.random.default_rng(q)
    n = 9
    code = UnitDelays(n, q, repeats, rng if seeded else None)
    freq = rng.integers(0, q, size=(20, n)) * (rng.random((20, n)) < 0.4)
    coef = rng.normal(size=20) + 1j * rng.normal(size=20)
    read, ok = code.decode(coef[:, None] * _signature(code.delays, freq, q))
    assert ok.all()
    np.testing.assert_array_equal(read, freq)


def test_bch_delays_read_a_singleton_through_its_sign():
    rng = np.random.default_rng(0)
    n, t = 200, 3
    code = BCHDelays(n, t)
    assert code.delays.shape == (BCHDelays.n_delays(n, t), n)
    freq = np.zeros((30, n), dtype=np.int64)
    for row in freq:
        row[rng.choice(n, size=rng.integers(0, t + 1), replace=False)] = 1
    coef = rng.normal(size=30)  # negative coefficients flip every sign
    obs = coef[:, None] * (1 - 2 * ((freq @ code.delays.T) % 2))
    read, ok = code.decode(obs)
    assert ok.all()
    np.testing.assert_array_equal(read, freq)


def test_refit_and_r2_in_the_bin_domain_equal_least_squares_on_the_samples():
    """Groups of unequal size: the weighted bin-domain system is sample least squares."""
    q, n = 3, 5
    rng = np.random.default_rng(1)
    groups = [rng.integers(0, q, size=(n, 2)), rng.integers(0, q, size=(n, 1))]
    code = UnitDelays(n, q, 2, rng)
    samples, bins = [], []
    values_of = rng.normal(size=q**n)  # an arbitrary (dense) function of the state
    powers = q ** np.arange(n - 1, -1, -1)
    for g in groups:
        b = g.shape[1]
        ells = np.array(list(itertools.product(range(q), repeat=b)))
        points = (ells @ g.T)[None, :, :] + code.delays[:, None, :]  # (P, B, n)
        values = values_of[(points % q) @ powers]
        samples.append(points.reshape(-1, n) % q)
        bins.append((np.fft.fftn(values.reshape(-1, *([q] * b)), axes=range(1, b + 1),
                                 norm="forward").reshape(values.shape)).T)
    layout = BinLayout(groups, code.delays, q, real=False)
    stacked = np.concatenate(bins)
    freq = rng.integers(0, q, size=(6, n)) * (rng.random((6, n)) < 0.5)
    freq = np.unique(freq, axis=0)
    coef = refit(stacked, layout, freq)
    x = np.concatenate(samples)
    y = values_of[x @ powers]
    phi = np.exp(2j * np.pi * ((x @ freq.T) % q) / q)
    want = np.linalg.lstsq(phi, y.astype(complex), rcond=None)[0]
    np.testing.assert_allclose(coef, want, atol=1e-9)
    fitted = phi @ want
    r2 = 1 - np.sum(np.abs(y - fitted) ** 2) / np.sum(np.abs(y - y.mean()) ** 2)
    assert sample_r2(stacked, layout, freq, coef) == pytest.approx(r2, abs=1e-9)


def test_engine_recovers_binary_spectrum_with_unequal_groups_and_bch_delays():
    n = 60
    truth = random_sparse_fourier(n, 15, max_degree=3, random_state=3)
    fit = sparse_fourier_transform(
        truth.predict, n, 2, groups=subsample_groups(n, (5, 4, 4), 2, np.random.default_rng(0)),
        delay_code=BCHDelays(n, 3), max_order=3,
    )
    got = {tuple(np.flatnonzero(k)): c for k, c in zip(fit.frequencies, fit.coefficients)}
    want = dict(zip(truth.subsets, truth.coefficients, strict=True))
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-9)
    assert fit.diagnostics["sample_r2"] == pytest.approx(1.0, abs=1e-12)


def test_engine_recovers_qary_spectrum_with_unequal_groups():
    q, n = 3, 12
    truth = random_sparse_qary(n, q, 8, max_degree=2, random_state=5)
    fit = sparse_fourier_transform(
        truth.predict, n, q, groups=subsample_groups(n, (4, 3, 3), q, np.random.default_rng(1)),
        delay_code=UnitDelays(n, q), max_order=2,
    )
    both = np.concatenate([fit.frequencies, truth.frequencies])
    _, diff = canonical_spectrum(both, np.concatenate([fit.coefficients, -truth.coefficients]), q)
    assert np.abs(diff).max() < 1e-9


def test_importing_spex_loads_neither_metrics_nor_feedback_codes():
    code = (
        "import sys; import interplay.solvers.spex, interplay.solvers.qsft; "
        "print(sorted(m for m in sys.modules if 'feedback' in m or m == 'interplay.metrics'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_binary_digit_bch_delays_need_a_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        BinaryDigitBCHDelays(20, 3, 2)


@pytest.mark.parametrize(
    ("q", "repeats", "seeded"),
    [(4, 1, False), (8, 1, False), (4, 3, True), (3, 1, False), (5, 1, False), (3, 3, True)],
)
def test_coded_delays_read_a_singleton(q, repeats, seeded):
    """Binary digits for q = 4, 8; GF(q) syndromes for q = 3, 5; with random offsets too."""
    rng = np.random.default_rng(q + 10 * repeats)
    n, t = 100, 3
    code = coded_delays(n, q, t, repeats, rng if seeded else None)
    assert isinstance(code, BinaryDigitBCHDelays if q in (4, 8) else PrimeBCHDelays)
    assert code.delays.shape == (coded_delay_count(n, q, t, repeats), n)
    assert code.delays.shape[0] < repeats * (n + 1) / 3  # the point: far fewer than unit
    freq = np.zeros((25, n), dtype=np.int64)
    for row in freq:
        where = rng.choice(n, size=rng.integers(0, t + 1), replace=False)
        row[where] = rng.integers(1, q, size=where.size)
    coef = rng.normal(size=25) + 1j * rng.normal(size=25)
    read, ok = code.decode(coef[:, None] * _signature(code.delays, freq, q))
    assert ok.all()
    np.testing.assert_array_equal(read, freq)


def test_coded_delays_need_a_prime_or_a_power_of_two():
    with pytest.raises(ValueError, match="power of two or a prime"):
        coded_delays(20, 6, 2)
