"""Conversion to and from shapiq's InteractionValues (shapiq needs Python >= 3.12)."""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest

from interplay import Interactions


def _result() -> Interactions:
    rng = np.random.default_rng(7)
    subsets = [(), (0,), (2,), (0, 1), (1, 2, 3), (3,)]
    return Interactions(subsets, rng.normal(size=len(subsets)), n_features=4, basis="fourier",
                        feature_names=list("abcd"), n_queries=64, method="spex")


def test_without_shapiq_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "shapiq", None)
    with pytest.raises(ImportError, match="pip install shapiq"):
        _result().to_shapiq()


def test_from_shapiq_refuses_other_objects():
    with pytest.raises(TypeError, match="InteractionValues"):
        Interactions.from_shapiq({"a": 1})


def test_round_trip_and_shapiq_reads_the_same_numbers():
    shapiq = pytest.importorskip("shapiq", reason="shapiq is installed only on Python >= 3.12")
    result = _result()
    mobius = result.to_mobius()
    iv = result.to_shapiq()
    assert isinstance(iv, shapiq.InteractionValues)
    assert iv.index == "Moebius" and iv.n_players == 4 and iv.estimation_budget == 64
    # shapiq's own accessors see our Möbius coefficients, and the empty set as its baseline
    for subset in itertools.chain.from_iterable(
            itertools.combinations(range(4), k) for k in range(5)):
        assert iv[subset] == pytest.approx(mobius[subset], abs=1e-12)
    assert iv.baseline_value == pytest.approx(mobius.baseline)
    back = Interactions.from_shapiq(iv, feature_names=list("abcd"))
    assert back.basis == "mobius" and back.allclose(mobius, atol=1e-12)
    assert back.to_fourier().allclose(result, atol=1e-12)
    # an index: shapiq's SV and interplay's Shapley values agree
    sv = result.to_shapiq(index="SV")
    assert sv.index == "SV"
    np.testing.assert_allclose(sv.get_n_order_values(1), result.shapley_values(), atol=1e-12)
    back = Interactions.from_shapiq(sv)
    assert back.basis == "shapley"
    np.testing.assert_allclose([back[(i,)] for i in range(4)], result.shapley_values(),
                               atol=1e-12)
    for index in ("FSII", "STII", "SII", "BII", "FBII", "banzhaf", "fourier"):
        again = Interactions.from_shapiq(result.to_shapiq(index=index, order=2))
        shown = result.index(index, order=2) if index != "fourier" else result
        assert again.allclose(shown, atol=1e-12), index
    # shapiq's plots run on the converted values
    import matplotlib

    matplotlib.use("Agg")
    fig, _ = iv.plot_network(show=False)
    assert fig is not None


def test_from_shapiq_refuses_an_index_without_a_basis():
    shapiq = pytest.importorskip("shapiq", reason="shapiq is installed only on Python >= 3.12")
    iv = shapiq.InteractionValues(np.array([0.5, 1.0, 2.0, 0.25]), index="k-SII", max_order=2,
                                  n_players=2, min_order=0, baseline_value=0.5)
    with pytest.raises(ValueError, match="k-SII"):
        Interactions.from_shapiq(iv)
