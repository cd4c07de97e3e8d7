"""RNA folding energy value function (ViennaRNA)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

RNA = pytest.importorskip("RNA")

from interplay.values.rna import NUCLEOTIDES, RNAFoldEnergy, random_rna

BASE = "GGGAAACUCCAGCUUCGGCUGGAGUUUCCCAAAGG"


def test_base_sequence_has_zero_value_and_mutations_match_viennarna():
    f = RNAFoldEnergy(BASE, positions=[3, 10, 20])
    assert f.n_features == 3 and f.q == 4
    assert f.feature_names == [f"{BASE[p]}{p}" for p in (3, 10, 20)]
    base = f.base_states()
    assert f(base[None, :])[0] == 0.0
    states = np.array([[0, 1, 2], [3, 3, 3], list(base)])
    values = f(states)
    for row, value in zip(states, values, strict=True):
        seq = list(BASE)
        for p, a in zip((3, 10, 20), row, strict=True):
            seq[p] = NUCLEOTIDES[a]
        expected = RNA.fold("".join(seq))[1] - RNA.fold(BASE)[1]
        assert value == pytest.approx(expected)
    assert f.sequences(states[:1])[0][3] == "A"


def test_cache_folds_each_sequence_once():
    f = RNAFoldEnergy(BASE, positions=[0, 1])
    states = np.array([[0, 0], [1, 2], [0, 0], [1, 2]])
    first = f(states)
    folds = f.n_folds
    assert folds == 1 + 2  # the base sequence and two distinct mutants
    np.testing.assert_array_equal(f(states), first)
    assert f.n_folds == folds


def test_temperature_changes_the_energy():
    warm = RNAFoldEnergy(BASE, positions=[0], temperature=60.0)
    cold = RNAFoldEnergy(BASE, positions=[0])
    assert warm.base_energy > cold.base_energy  # the hairpin is less stable when warm


def test_exact_spectrum_with_qsft_on_all_sequences():
    """b = n: the single hash is a bijection, so q-SFT returns the exact full spectrum."""
    import interplay

    f = RNAFoldEnergy(BASE, positions=[2, 9, 16])
    result = interplay.explain(
        f,
        3,
        method="qsft",
        q=4,
        random_state=0,
        max_order=3,
        solver_options={"b": 3, "n_groups": 1},
    )
    states = np.array(list(itertools.product(range(4), repeat=3)))
    # ViennaRNA energies are float32 multiples of 0.01: coefficients of round-off size
    # (~1e-7) sit at the estimated noise floor and are dropped.
    np.testing.assert_allclose(result.predict(states), f(states), atol=1e-5)
    assert result.n_queries <= 4**3 * 4


def test_bad_input():
    with pytest.raises(ValueError, match="A, C, G, U"):
        RNAFoldEnergy("ACGX")
    with pytest.raises(ValueError, match="distinct"):
        RNAFoldEnergy("ACGU", positions=[0, 0])
    with pytest.raises(ValueError, match="0..3"):
        RNAFoldEnergy("ACGU")(np.array([[0, 1, 2, 4]]))
    seq = random_rna(30, random_state=1)
    assert len(seq) == 30 and set(seq) <= set(NUCLEOTIDES)
    assert random_rna(30, random_state=1) == seq
