"""Interaction indices of ``Interactions.index`` against their brute-force definitions.

Every function here is small enough (n <= 10) to tabulate all 2^n values; the oracles in
``bruteforce.py`` compute each index from its definition on that table (marginal
contributions, discrete derivatives, weighted least squares with KKT constraints), never
from the Möbius weights under test.
"""

from __future__ import annotations

import functools

import bruteforce as bf
import numpy as np
import pytest

from interplay import Interactions
from interplay.spectral.indices import INDEX_NAMES, check_index_name, mobius_weights
from interplay.values.planted import random_hierarchical, random_sparse_fourier

ORDERS = (1, 2, 3)


def _dense_fourier(n: int, seed: int) -> Interactions:
    """A random function: every one of the 2^n Fourier coefficients is non-zero."""
    values = bf.random_dense_table(n, np.random.default_rng(seed))
    coef = bf.walsh_hadamard(values)
    return Interactions([bf.subset_tuple(c, n) for c in range(2**n)], coef, n_features=n)


def _dense_mobius(n: int, seed: int) -> Interactions:
    """A random function given by all 2^n Möbius coefficients."""
    values = bf.random_dense_table(n, np.random.default_rng(seed))
    coef = bf.mobius(values)
    return Interactions(
        [bf.subset_tuple(c, n) for c in range(2**n)], coef, n_features=n, basis="mobius"
    )


def _high_degree_sparse(n: int, seed: int) -> Interactions:
    """Sparse Fourier terms of degree 4..6: everything of order <= 3 comes from the tails."""
    return random_sparse_fourier(n, 6, min_degree=4, max_degree=6, random_state=seed)


CASES = {
    "dense-n3": lambda: _dense_fourier(3, 1),
    "dense-n5": lambda: _dense_fourier(5, 2),
    "dense-n10": lambda: _dense_fourier(10, 3),
    "dense-mobius-n7": lambda: _dense_mobius(7, 4),
    "sparse-fourier-n10": lambda: random_sparse_fourier(10, 12, max_degree=4, random_state=5),
    "sparse-high-degree-n9": lambda: _high_degree_sparse(9, 6),
    "hierarchical-n10": lambda: random_hierarchical(10, 4, max_degree=4, random_state=7),
}


@functools.cache
def _case(name: str) -> tuple[Interactions, np.ndarray]:
    expansion = CASES[name]()
    return expansion, bf.table(expansion, expansion.n_features)


@functools.cache
def _oracle(case: str, index: str, order: int) -> dict[tuple[int, ...], float]:
    return bf.index(_case(case)[1], index, order)


def _as_dict(result: Interactions) -> dict[tuple[int, ...], float]:
    return dict(zip(result.subsets, result.coefficients.tolist(), strict=True))


def _assert_matches(result: Interactions, expected: dict, *, rtol: float = 1e-9) -> None:
    got = _as_dict(result)
    extra = set(got) - set(expected)
    assert not extra, f"subsets beyond the requested order: {sorted(extra)[:5]}"
    scale = max(1.0, max(abs(v) for v in expected.values()))
    keys = sorted(expected, key=lambda s: (len(s), s))
    got_vec = np.array([got.get(k, 0.0) for k in keys])
    exp_vec = np.array([expected[k] for k in keys])
    worst = int(np.argmax(np.abs(got_vec - exp_vec)))
    assert np.allclose(got_vec, exp_vec, rtol=0.0, atol=rtol * scale), (
        f"largest error at {keys[worst]}: got {got_vec[worst]!r}, expected {exp_vec[worst]!r}"
    )


# ------------------------------------------------------------------- oracle self-checks
@pytest.mark.parametrize("n", [1, 2, 4, 6])
def test_oracle_shapley_coalitions_equal_permutations(rng, n):
    values = bf.random_dense_table(n, rng)
    np.testing.assert_allclose(
        bf.shapley_values(values), bf.shapley_values_by_permutations(values), atol=1e-12
    )


def test_oracle_transforms_invert(rng):
    values = bf.random_dense_table(6, rng)
    np.testing.assert_allclose(bf.inverse_walsh_hadamard(bf.walsh_hadamard(values)), values)
    np.testing.assert_allclose(bf.inverse_mobius(bf.mobius(values)), values)


def test_oracle_faithful_indices_reproduce_low_degree_functions(rng):
    """A function of degree <= k is its own FSII/FBII of order k (exact fit)."""
    n, k = 6, 2
    expansion = Interactions(
        [(0,), (1, 2), (3, 4), (), (5,)], rng.normal(size=5), n_features=n, basis="mobius"
    )
    values = bf.table(expansion, n)
    mobius = bf.mobius(values)
    for oracle in (bf.fsii, bf.fbii):
        got = oracle(values, k)
        for subset, value in got.items():
            assert value == pytest.approx(mobius[bf.subset_code(subset)], abs=1e-10)


# ------------------------------------------------------------------ library vs oracle
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", ["SII", "BII", "STII", "FSII", "FBII"])
@pytest.mark.parametrize("order", ORDERS)
def test_index_matches_definition(case, name, order):
    expansion, _ = _case(case)
    result = expansion.index(name, order)
    assert result.basis == name
    assert result.order == order
    assert result.n_features == expansion.n_features
    _assert_matches(result, _oracle(case, name, order))


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("name", ["shapley", "banzhaf"])
def test_values_match_definition(case, name):
    expansion, values = _case(case)
    result = expansion.index(name, 3)  # the order is ignored: these are order-1 values
    assert result.order == 1
    _assert_matches(result, _oracle(case, name, 1))
    first = expansion.shapley_values() if name == "shapley" else expansion.banzhaf_values()
    oracle = bf.shapley_values(values) if name == "shapley" else bf.banzhaf_values(values)
    np.testing.assert_allclose(first, oracle, atol=1e-9 * max(1.0, np.abs(oracle).max()))


@pytest.mark.parametrize("case", ["dense-n5", "sparse-fourier-n10", "hierarchical-n10"])
def test_fourier_and_mobius_inputs_give_the_same_indices(case):
    expansion, _ = _case(case)
    other = expansion.to_mobius() if expansion.basis == "fourier" else expansion.to_fourier()
    for name in INDEX_NAMES:
        assert expansion.index(name, 2).allclose(other.index(name, 2), atol=1e-9)


@pytest.mark.parametrize("order", [3, 4, 6])
def test_order_at_or_above_n(order):
    """Orders >= n are exact: FSII, FBII and STII then equal the Möbius transform."""
    expansion, values = _case("dense-n3")
    mobius = {bf.subset_tuple(c, 3): v for c, v in enumerate(bf.mobius(values))}
    for name in ("FSII", "FBII", "STII"):
        _assert_matches(expansion.index(name, order), mobius)
    _assert_matches(expansion.index("SII", order), bf.sii(values, order))
    _assert_matches(expansion.index("BII", order), bf.bii(values, order))


# ------------------------------------------------------------ axioms (oracle-free checks)
@pytest.mark.parametrize("case", ["dense-n10", "hierarchical-n10", "sparse-high-degree-n9"])
def test_efficiency(case):
    """Shapley, STII and FSII distribute f(N) − f(∅) exactly; all of them keep f(∅)."""
    expansion, values = _case(case)
    f_empty, f_full = values[0], values[-1]
    scale = max(1.0, np.abs(values).max())
    phi = expansion.shapley_values()
    assert phi.sum() == pytest.approx(f_full - f_empty, abs=1e-9 * scale)
    for name in ("shapley", "STII", "FSII"):
        result = expansion.index(name, 3)
        assert result.baseline == pytest.approx(f_empty, abs=1e-9 * scale)
        full = np.ones(expansion.n_features, dtype=bool)
        assert result.predict(full) == pytest.approx(f_full, abs=1e-9 * scale)


def test_fbii_is_the_best_uniform_fit():
    """FBII's additive model has smaller squared error over all masks than a perturbed one."""
    expansion, values = _case("dense-n5")
    fbii = expansion.index("FBII", 2)
    masks = bf.all_masks(5)
    error = np.sum((fbii.predict(masks) - values) ** 2)
    rng = np.random.default_rng(0)
    for _ in range(5):
        perturbed = Interactions(
            fbii.subsets,
            fbii.coefficients + 1e-3 * rng.normal(size=len(fbii)),
            n_features=5,
            basis="FBII",
        )
        assert np.sum((perturbed.predict(masks) - values) ** 2) > error


def test_sparse_index_reports_only_subsets_of_the_support():
    expansion = Interactions([(0, 1, 2), (5,), ()], [1.0, 2.0, 0.5], n_features=8, basis="mobius")
    for name in ("SII", "BII", "STII", "FSII"):
        reported = set(expansion.index(name, 2).subsets)
        allowed = {(), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (5,)}
        assert reported <= allowed, name
    sii = expansion.index("SII", 2)
    assert sii[(0, 1)] == pytest.approx(0.5)  # a(012) / (3 - 2 + 1)
    assert sii[(0,)] == pytest.approx(1.0 / 3.0)
    assert sii[(5,)] == pytest.approx(2.0)


# ------------------------------------------------------------------------------ errors
def test_index_names_are_case_insensitive():
    expansion, _ = _case("dense-n3")
    assert expansion.index("sii", 2).basis == "SII"
    assert expansion.index("Fsii", 2).basis == "FSII"
    assert expansion.index("SHAPLEY").basis == "shapley"
    assert check_index_name("stii") == "STII"


@pytest.mark.parametrize("bad", ["foo", "shap", "", "fourier"])
def test_unknown_index_name(bad):
    expansion, _ = _case("dense-n3")
    with pytest.raises(ValueError, match="unknown interaction index"):
        expansion.index(bad, 2)


@pytest.mark.parametrize("order", [0, -1])
def test_bad_order(order):
    expansion, _ = _case("dense-n3")
    with pytest.raises(ValueError, match="order must be at least 1"):
        expansion.index("SII", order)


def test_index_of_an_index_is_refused():
    expansion, _ = _case("dense-n3")
    sii = expansion.index("SII", 2)
    with pytest.raises(ValueError, match="cannot convert"):
        sii.index("BII", 2)
    with pytest.raises(ValueError, match="cannot convert"):
        sii.index("FBII", 2)
    with pytest.raises(ValueError, match="not an additive model"):
        sii.predict(np.ones((1, 3), dtype=bool))


def test_mobius_weights_rejects_unknown_and_fbii():
    s, t = np.array([2, 3]), np.array([1, 1])
    for name in ("FBII", "nonsense"):
        with pytest.raises(ValueError, match="no Möbius weights"):
            mobius_weights(name, s, t, 2)


def test_stii_weights_emit_no_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mobius_weights("STII", np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]), 3)
        mobius_weights("FSII", np.array([0, 1, 2, 5]), np.array([0, 1, 2, 1]), 3)


@pytest.mark.parametrize("basis", ["fourier", "mobius"])
def test_indices_of_a_function_embedded_among_many_null_features(basis):
    """Null features change none of these indices: embed an 8-feature function in n = 400.

    This checks the large-n bookkeeping (padding sentinel, feature positions) against the
    brute-force definitions computed on the 8 features that matter.
    """
    small_n, n = 8, 400
    values = bf.random_dense_table(small_n, np.random.default_rng(13))
    coef = bf.walsh_hadamard(values) if basis == "fourier" else bf.mobius(values)
    positions = np.sort(np.random.default_rng(14).choice(n, size=small_n, replace=False))
    subsets = [tuple(positions[list(bf.subset_tuple(c, small_n))]) for c in range(2**small_n)]
    embedded = Interactions(subsets, coef, n_features=n, basis=basis)
    for name in INDEX_NAMES:
        for order in (1, 3):
            expected = {
                tuple(int(positions[i]) for i in s): v
                for s, v in bf.index(values, name, order).items()
            }
            _assert_matches(embedded.index(name, order), expected)
