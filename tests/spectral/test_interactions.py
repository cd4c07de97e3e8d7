"""The ``Interactions`` result type: prediction, basis changes, reading, JSON and errors.

The oracle is the full table of 2^n values and its Walsh–Hadamard and Möbius transforms
computed from their definitions (``bruteforce.py``).
"""

from __future__ import annotations

import json

import bruteforce as bf
import numpy as np
import pytest

from interplay import Interactions, Term
from interplay.values.planted import random_hierarchical, random_sparse_fourier


def _from_table(values: np.ndarray, basis: str) -> Interactions:
    n = bf.n_of(values)
    coef = bf.walsh_hadamard(values) if basis == "fourier" else bf.mobius(values)
    return Interactions(
        [bf.subset_tuple(c, n) for c in range(2**n)], coef, n_features=n, basis=basis
    )


def _coefficient_vector(expansion: Interactions) -> np.ndarray:
    """(2^n,) coefficients indexed by subset code (0 where absent)."""
    out = np.zeros(2**expansion.n_features)
    codes = [bf.subset_code(s) for s in expansion.subsets]
    np.add.at(out, codes, expansion.coefficients)
    return out


SPARSE = {
    "sparse-fourier": lambda: random_sparse_fourier(10, 15, max_degree=5, random_state=11),
    "hierarchical": lambda: random_hierarchical(10, 5, max_degree=4, random_state=12),
    "single-term": lambda: Interactions([(2, 5, 7)], [1.5], n_features=9, basis="fourier"),
    "empty": lambda: Interactions([], [], n_features=4, basis="mobius"),
}


# ------------------------------------------------------------------------- prediction
@pytest.mark.parametrize("n", [1, 2, 5, 10])
def test_dense_predict_and_conversions_match_definitions(rng, n):
    values = bf.random_dense_table(n, rng)
    masks = bf.all_masks(n)
    fourier = _from_table(values, "fourier")
    mobius = _from_table(values, "mobius")
    assert len(fourier) == len(mobius) == 2**n
    np.testing.assert_allclose(fourier.predict(masks), values, atol=1e-10)
    np.testing.assert_allclose(mobius.predict(masks), values, atol=1e-10)
    # Fourier -> Möbius equals the Möbius transform of the table, and back.
    scale = np.abs(bf.mobius(values)).max()
    np.testing.assert_allclose(
        _coefficient_vector(fourier.to_mobius()), bf.mobius(values), atol=1e-12 * scale
    )
    np.testing.assert_allclose(
        _coefficient_vector(mobius.to_fourier()), bf.walsh_hadamard(values), atol=1e-12 * scale
    )
    assert fourier.to_mobius().basis == "mobius"
    assert mobius.to_fourier().basis == "fourier"


@pytest.mark.parametrize("case", list(SPARSE))
def test_sparse_predict_and_conversions_match_definitions(case):
    expansion = SPARSE[case]()
    n = expansion.n_features
    masks = bf.all_masks(n)
    values = expansion.predict(masks)
    # the table of a sparse expansion, evaluated term by term from the definition
    vec = _coefficient_vector(expansion)
    if expansion.basis == "fourier":
        np.testing.assert_allclose(values, bf.inverse_walsh_hadamard(vec), atol=1e-10)
    else:
        np.testing.assert_allclose(values, bf.inverse_mobius(vec), atol=1e-10)
    fourier, mobius = expansion.to_fourier(), expansion.to_mobius()
    np.testing.assert_allclose(fourier.predict(masks), values, atol=1e-10)
    np.testing.assert_allclose(mobius.predict(masks), values, atol=1e-10)
    np.testing.assert_allclose(_coefficient_vector(fourier), bf.walsh_hadamard(values), atol=1e-10)
    np.testing.assert_allclose(_coefficient_vector(mobius), bf.mobius(values), atol=1e-10)
    # sparse stays sparse: no term beyond the subsets of the original supports
    max_degree = int(expansion.degrees.max(initial=0))
    assert int(fourier.degrees.max(initial=0)) <= max_degree
    assert int(mobius.degrees.max(initial=0)) <= max_degree


@pytest.mark.parametrize("case", list(SPARSE))
def test_round_trips(case):
    expansion = SPARSE[case]()
    there = expansion.to_mobius() if expansion.basis == "fourier" else expansion.to_fourier()
    back = there.to_fourier() if expansion.basis == "fourier" else there.to_mobius()
    assert back.allclose(expansion, atol=1e-12)
    # converting to the basis it is already in is the identity
    assert expansion.to_fourier().to_fourier().allclose(expansion.to_fourier())
    same = expansion.to_mobius() if expansion.basis == "mobius" else expansion.to_fourier()
    assert same.allclose(expansion)


def test_dense_round_trip_n10(rng):
    fourier = _from_table(bf.random_dense_table(10, rng), "fourier")
    assert fourier.to_mobius().to_fourier().allclose(fourier, atol=1e-11)


def test_conversion_keeps_names_and_provenance():
    expansion = Interactions(
        [(0, 1)],
        [2.0],
        n_features=3,
        feature_names=["a", "b", "c"],
        n_queries=17,
        method="spex",
        metadata={"b": 8},
    )
    mobius = expansion.to_mobius()
    assert mobius.feature_names == ["a", "b", "c"]
    assert (mobius.n_queries, mobius.method, mobius.metadata) == (17, "spex", {"b": 8})
    # (1 - 2 m_0)(1 - 2 m_1) * 2 = 2 - 4 m_0 - 4 m_1 + 8 m_0 m_1
    assert mobius[()] == 2.0 and mobius["a"] == -4.0 and mobius[(1,)] == -4.0
    assert mobius[("a", "b")] == 8.0


def test_predict_single_mask_and_formats(rng):
    expansion = random_sparse_fourier(6, 5, random_state=3)
    masks = rng.random((20, 6)) < 0.5
    batch = expansion.predict(masks)
    assert batch.shape == (20,)
    single = expansion.predict(masks[3])
    assert isinstance(single, float) and single == pytest.approx(batch[3])
    np.testing.assert_allclose(expansion.predict(masks.astype(int)), batch)
    np.testing.assert_allclose(expansion.predict(masks.astype(float)), batch)
    assert expansion.predict(np.zeros((0, 6), dtype=bool)).shape == (0,)


def test_predict_of_an_empty_expansion_is_zero():
    expansion = Interactions([], [], n_features=3)
    np.testing.assert_array_equal(expansion.predict(bf.all_masks(3)), np.zeros(8))


@pytest.mark.parametrize(
    "masks",
    [
        np.ones((4, 5), dtype=bool),  # wrong number of columns
        np.ones(5, dtype=bool),  # single mask of the wrong length
        np.ones((2, 6, 3), dtype=bool),  # not a matrix
        np.full((2, 6), 2),  # not 0/1
        np.array([["a"] * 6]),  # not numeric
    ],
)
def test_predict_rejects_bad_masks(masks):
    expansion = random_sparse_fourier(6, 5, random_state=3)
    with pytest.raises(ValueError, match="masks must"):
        expansion.predict(masks)


def test_duplicate_subsets_are_summed():
    expansion = Interactions([(1, 0), (0, 1), (2,), ()], [1.0, 2.0, -1.0, 4.0], n_features=3)
    assert len(expansion) == 3
    assert expansion[(0, 1)] == 3.0
    assert expansion.subsets == [(), (2,), (0, 1)]  # by size, then lexicographic


def test_bool_and_list_inputs_agree(rng):
    matrix = rng.random((12, 7)) < 0.4
    coef = rng.normal(size=12)
    from_matrix = Interactions(matrix, coef, n_features=7)
    from_rows = Interactions(list(matrix), coef, n_features=7)  # a list of (n,) bool vectors
    from_lists = Interactions([np.flatnonzero(r).tolist() for r in matrix], coef, n_features=7)
    assert from_matrix.allclose(from_lists) and from_rows.allclose(from_lists)
    np.testing.assert_array_equal(
        from_matrix.support_matrix(),
        bf.all_masks(7)[[bf.subset_code(s) for s in from_lists.subsets]],
    )


# ---------------------------------------------------------------------------- reading
def test_accessors():
    expansion = Interactions(
        [(0, 2), (1,), (), (0, 1, 3)], [0.5, -2.0, 1.0, 3.0], n_features=4, basis="mobius"
    )
    assert expansion.subsets == [(), (1,), (0, 2), (0, 1, 3)]
    np.testing.assert_array_equal(expansion.coefficients, [1.0, -2.0, 0.5, 3.0])
    np.testing.assert_array_equal(expansion.degrees, [0, 1, 2, 3])
    np.testing.assert_array_equal(
        expansion.support_matrix(),
        [[0, 0, 0, 0], [0, 1, 0, 0], [1, 0, 1, 0], [1, 1, 0, 1]],
    )
    assert expansion.baseline == 1.0
    # the coefficient array handed out is a copy
    expansion.coefficients[:] = 0.0
    assert expansion[(1,)] == -2.0
    assert "mobius" in repr(expansion) and "terms=4" in repr(expansion)
    assert "x0 × x1 × x3" in str(expansion)


def test_getitem_by_indices_and_names():
    expansion = Interactions(
        [(0, 2), (1,), ()], [0.5, -2.0, 1.0], n_features=3, feature_names=["the", "cat", "sat"]
    )
    assert expansion[(0, 2)] == 0.5
    assert expansion[(2, 0)] == 0.5  # order does not matter
    assert expansion[[2, 0, 2]] == 0.5  # nor repetition
    assert expansion[("the", "sat")] == 0.5
    assert expansion[("sat", 0)] == 0.5  # names and indices mixed
    assert expansion[1] == -2.0
    assert expansion[np.int64(1)] == -2.0
    assert expansion["cat"] == -2.0
    assert expansion[()] == 1.0
    assert expansion[np.array([True, False, True])] == 0.5
    assert expansion[(0, 1)] == 0.0  # absent
    assert expansion[(0, 1, 2)] == 0.0  # wider than any stored subset
    with pytest.raises(KeyError, match="dog"):
        expansion["dog"]
    with pytest.raises(KeyError, match="outside range"):
        expansion[3]
    with pytest.raises(KeyError, match="outside range"):
        expansion[(-1,)]


def test_top_orders_by_magnitude_with_names():
    expansion = Interactions(
        [(), (0,), (1,), (0, 1), (2,), (1, 2)],
        [10.0, 0.5, -3.0, 2.0, -2.0, 0.1],
        n_features=3,
        feature_names=["a", "b", "c"],
    )
    top = expansion.top(3)
    assert all(isinstance(t, Term) for t in top)
    # ties keep the canonical order: by size, then lexicographic
    assert [t.value for t in top] == [-3.0, -2.0, 2.0]
    assert [t.features for t in top] == [(1,), (2,), (0, 1)]
    assert [t.names for t in top] == [("b",), ("c",), ("a", "b")]
    assert expansion.top(1, include_empty=True)[0].features == ()
    assert str(expansion.top(1, include_empty=True)[0]).endswith("∅ (baseline)")
    assert str(top[2]) == "+2  a × b"
    assert [t.features for t in expansion.top(10, min_order=2)] == [(0, 1), (1, 2)]
    assert len(expansion.top(100)) == 5
    assert expansion.top(0) == []
    with pytest.raises(ValueError, match="non-negative"):
        expansion.top(-1)


def test_top_agrees_with_sorting_in_python(rng):
    expansion = random_hierarchical(12, 6, random_state=4)
    coef = dict(zip(expansion.subsets, expansion.coefficients, strict=True))
    expected = sorted((s for s in coef if s), key=lambda s: -abs(coef[s]))[:7]
    assert [t.features for t in expansion.top(7)] == expected


def test_truncate():
    expansion = random_sparse_fourier(8, 20, max_degree=5, random_state=2)
    low = expansion.truncate(2)
    assert set(low.subsets) == {s for s in expansion.subsets if len(s) <= 2}
    for s in low.subsets:
        assert low[s] == expansion[s]


# ------------------------------------------------------------------------------- JSON
def _assert_identical(a: Interactions, b: Interactions) -> None:
    assert a.subsets == b.subsets
    np.testing.assert_array_equal(a.coefficients, b.coefficients)  # bit for bit
    for attr in ("n_features", "basis", "feature_names", "n_queries", "method", "order"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert a.metadata == b.metadata


def test_save_load_round_trip(tmp_path):
    expansion = random_hierarchical(9, 4, random_state=8)
    expansion = Interactions(
        expansion.subsets,
        expansion.coefficients / 3.0,  # values without a short decimal form
        n_features=9,
        basis="mobius",
        feature_names=[f"word {i} «é»" for i in range(9)],
        n_queries=1234,
        method="proxyspex",
        metadata={"budget": 2000, "timings": {"fit": 0.25}, "trees": [1, 2]},
    )
    path = expansion.save(tmp_path / "sub" / "result.json")
    assert path.exists() and not path.with_name("result.json.tmp").exists()
    _assert_identical(Interactions.load(path), expansion)
    _assert_identical(Interactions.from_json(expansion.to_json()), expansion)


def test_index_round_trip_keeps_basis_and_order(tmp_path):
    sii = random_sparse_fourier(7, 6, random_state=9).index("SII", 3)
    loaded = Interactions.load(sii.save(tmp_path / "sii.json"))
    _assert_identical(loaded, sii)
    assert loaded.basis == "SII" and loaded.order == 3


def test_json_accepts_numpy_metadata():
    expansion = Interactions(
        [(0,)],
        [1.0],
        n_features=2,
        metadata={"b": np.int64(8), "seed": np.int32(3), "x": np.arange(3), "ok": np.bool_(True)},
    )
    loaded = Interactions.from_json(expansion.to_json())
    assert loaded.metadata == {"b": 8, "seed": 3, "x": [0, 1, 2], "ok": True}


def test_json_refuses_other_documents():
    expansion = Interactions([(0,)], [1.0], n_features=2)
    data = expansion.to_dict()
    with pytest.raises(ValueError, match="not an interplay interactions document"):
        Interactions.from_dict({**data, "format": "something else"})
    with pytest.raises(ValueError, match="not an interplay interactions document"):
        Interactions.from_json(json.dumps([1, 2]))
    with pytest.raises(ValueError, match="version"):
        Interactions.from_dict({**data, "version": 99})


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"subsets": [(0,)], "coefficients": [1.0], "basis": "wavelet"}, "unknown basis"),
        ({"subsets": [(0,)], "coefficients": [1.0], "n_features": 0}, "n_features"),
        ({"subsets": [(0,), (1,)], "coefficients": [1.0]}, "2 subsets but 1 coefficients"),
        ({"subsets": [(0,)], "coefficients": [1.0, 2.0]}, "1 subsets but 2 coefficients"),
        ({"subsets": [(0,)], "coefficients": [np.nan]}, "finite"),
        ({"subsets": [(0,), (1,)], "coefficients": [1.0, np.inf]}, "finite"),
        ({"subsets": [(0, 4)], "coefficients": [1.0]}, "outside range"),
        ({"subsets": [(-1,)], "coefficients": [1.0]}, "outside range"),
        ({"subsets": np.ones((2, 5), dtype=bool), "coefficients": [1.0, 1.0]}, r"\(K, 4\)"),
        ({"subsets": np.ones(4, dtype=bool), "coefficients": [1.0]}, r"\(K, 4\)"),
        (
            {"subsets": [np.ones(3, dtype=bool)], "coefficients": [1.0]},
            r"shape \(4,\)",
        ),
        (
            {"subsets": [(0,)], "coefficients": [1.0], "feature_names": ["a", "b"]},
            "2 feature names given for 4 features",
        ),
    ],
)
def test_constructor_errors(kwargs, match):
    kwargs = {"n_features": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        Interactions(**kwargs)


def test_bools_are_not_indices():
    with pytest.raises(TypeError, match="bool"):
        Interactions([(True, False)], [1.0], n_features=3)


def test_conversions_refuse_index_bases():
    sii = random_sparse_fourier(5, 4, random_state=1).index("SII", 2)
    with pytest.raises(ValueError, match="cannot convert"):
        sii.to_mobius()
    with pytest.raises(ValueError, match="cannot convert"):
        sii.to_fourier()
    # a Faith index is an additive model and predicts, but is not the function itself
    fsii = random_sparse_fourier(5, 4, random_state=1).index("FSII", 2)
    assert np.isfinite(fsii.predict(np.ones((2, 5), dtype=bool))).all()
    with pytest.raises(ValueError, match="cannot convert"):
        fsii.to_fourier()


def test_allclose_compares_basis_and_size():
    a = Interactions([(0,)], [1.0], n_features=3)
    assert a.allclose(Interactions([(0,), (1,)], [1.0, 1e-12], n_features=3))
    assert not a.allclose(Interactions([(0,), (1,)], [1.0, 1e-3], n_features=3))
    assert not a.allclose(Interactions([(0,)], [1.0], n_features=3, basis="mobius"))
    assert not a.allclose(Interactions([(0,)], [1.0], n_features=4))


def test_predict_at_large_n_term_by_term(rng):
    """n = 1000: predict equals the definition evaluated term by term, in both bases."""
    n = 1000
    truth = random_sparse_fourier(n, 40, max_degree=6, random_state=21)
    masks = rng.random((64, n)) < 0.5
    expected = np.zeros(64)
    for subset, value in zip(truth.subsets, truth.coefficients, strict=True):
        expected += value * np.prod(1.0 - 2.0 * masks[:, list(subset)], axis=1)
    np.testing.assert_allclose(truth.predict(masks), expected, atol=1e-10)
    mobius = truth.to_mobius()
    expected_mobius = np.zeros(64)
    for subset, value in zip(mobius.subsets, mobius.coefficients, strict=True):
        expected_mobius += value * np.all(masks[:, list(subset)], axis=1)
    np.testing.assert_allclose(expected_mobius, expected, atol=1e-8)
    np.testing.assert_allclose(mobius.predict(masks), expected, atol=1e-8)


# ------------------------------------------------- public construction and alignment


def test_from_arrays_matches_the_constructor_on_lists():
    rng = np.random.default_rng(3)
    n = 6
    subsets = [tuple(sorted(rng.choice(n, size=rng.integers(0, 4), replace=False))) for _ in range(12)]
    coef = rng.normal(size=12)
    index = np.full((12, 3), n)
    for row, s in zip(index, subsets, strict=True):
        row[len(s) - 1 :: -1][: len(s)] = s  # written in descending order: rows need no sorting
    built = Interactions.from_arrays(index, coef, n_features=n, method="m", order=2)
    expected = Interactions(subsets, coef, n_features=n, method="m", order=2)
    assert built.allclose(expected, atol=1e-12)
    assert (built.method, built.order, built.basis) == ("m", 2, "fourier")


@pytest.mark.parametrize(
    ("index", "coef", "message"),
    [
        (np.array([0, 1]), [1.0, 2.0], "index must be a"),
        (np.array([[0], [1]]), [1.0], "2 rows but 1 coefficients"),
        (np.array([[0], [7]]), [1.0, 2.0], "range"),
        (np.array([[0], [-1]]), [1.0, 2.0], "range"),
        (np.array([[0], [1]]), [1.0, np.nan], "finite"),
    ],
)
def test_from_arrays_rejects_bad_arrays(index, coef, message):
    with pytest.raises(ValueError, match=message):
        Interactions.from_arrays(index, coef, n_features=4)


def test_align_gives_both_coefficient_vectors_on_the_union_of_supports():
    rng = np.random.default_rng(4)
    n = 5
    a = _from_table(rng.normal(size=2**n), "fourier").truncate(2)
    b = _from_table(rng.normal(size=2**n), "fourier").truncate(3)
    mine, theirs = a.align(b)
    dense_a, dense_b = _coefficient_vector(a), _coefficient_vector(b)
    union = (dense_a != 0) | (dense_b != 0)
    assert mine.shape == theirs.shape == (int(union.sum()),)
    np.testing.assert_allclose(np.sort(mine - theirs), np.sort((dense_a - dense_b)[union]))
    np.testing.assert_allclose(np.sum(mine * theirs), np.sum(dense_a * dense_b))
    without = a.align(b, include_empty=False)
    np.testing.assert_allclose(np.sum(without[0] ** 2), np.sum(dense_a[1:] ** 2))


def test_align_refuses_different_bases_or_feature_counts():
    a = Interactions([(0,)], [1.0], n_features=3)
    with pytest.raises(ValueError, match="to_fourier"):
        a.align(a.to_mobius())
    with pytest.raises(ValueError, match="3 and 4 features"):
        a.align(Interactions([(0,)], [1.0], n_features=4))
