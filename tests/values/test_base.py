"""The value-function contract: mask and output validation, query counting."""

from __future__ import annotations

import numpy as np
import pytest

from interplay.values.base import (
    CheckedValueFunction,
    ValueFunction,
    as_value_function,
    check_masks,
    check_outputs,
)


def _linear(masks: np.ndarray) -> np.ndarray:
    return masks.astype(float) @ np.arange(1.0, masks.shape[1] + 1.0)


# ------------------------------------------------------------------------------ masks
def test_check_masks_accepts_bool_and_01():
    bools = np.array([[True, False, True], [False, False, False]])
    out = check_masks(bools, 3)
    assert out.dtype == bool and out.flags.c_contiguous
    np.testing.assert_array_equal(out, bools)
    np.testing.assert_array_equal(check_masks(bools.astype(np.int8), 3), bools)
    np.testing.assert_array_equal(check_masks(bools.astype(float), 3), bools)
    np.testing.assert_array_equal(check_masks(bools.tolist(), 3), bools)
    fortran = np.asfortranarray(np.ones((4, 3), dtype=bool))
    assert check_masks(fortran, 3).flags.c_contiguous


@pytest.mark.parametrize(
    ("masks", "match"),
    [
        (np.ones((2, 4), dtype=bool), r"shape \(N, 3\)"),
        (np.ones(3, dtype=bool), r"shape \(N, 3\)"),
        (np.ones((2, 3, 1), dtype=bool), r"shape \(N, 3\)"),
        (np.array([[0, 1, 2]]), "boolean"),
        (np.array([[0.0, 0.5, 1.0]]), "boolean"),
        (np.array([["a", "b", "c"]]), "boolean"),
    ],
)
def test_check_masks_rejects(masks, match):
    with pytest.raises(ValueError, match=match):
        check_masks(masks, 3)


def test_check_masks_q_ary():
    masks = np.array([[0, 2, 1], [2, 2, 0]])
    out = check_masks(masks, 3, alphabet_size=3)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, masks)
    for bad in (np.array([[0, 3, 1]]), np.array([[0, -1, 1]]), np.array([[0.5, 1, 1]])):
        with pytest.raises(ValueError, match="0..2"):
            check_masks(bad, 3, alphabet_size=3)


# ---------------------------------------------------------------------------- outputs
@pytest.mark.parametrize(
    "values",
    [
        [1.0, 2.0, 3.0],
        np.array([1, 2, 3]),
        np.array([[1.0], [2.0], [3.0]]),  # (N, 1)
        np.array([1.0, 2.0, 3.0], dtype=np.float32),
        np.array([1.0, 2.0, 3.0], dtype=object),
        np.array([1 + 0j, 2, 3]),  # complex with zero imaginary part
        (np.float64(1.0), 2, 3.0),
    ],
)
def test_check_outputs_accepts(values):
    out = check_outputs(values, 3)
    assert out.dtype == np.float64 and out.shape == (3,)
    np.testing.assert_array_equal(out, [1.0, 2.0, 3.0])


def test_check_outputs_accepts_number_objects():
    """Objects that are numbers (Fraction, Decimal, anything with __float__) are converted."""
    from decimal import Decimal
    from fractions import Fraction

    out = check_outputs([Fraction(1, 2), Decimal("2.5"), 3], 3)
    np.testing.assert_array_equal(out, [0.5, 2.5, 3.0])


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ([1.0, 2.0], r"shape \(2,\) for 3 masks"),
        (np.ones((3, 2)), r"shape \(3, 2\) for 3 masks"),
        (np.ones((1, 3)), r"shape \(1, 3\) for 3 masks"),
        (5.0, r"shape \(\) for 3 masks"),
        ([[1.0, 2.0], [3.0], []], "ragged"),
    ],
)
def test_check_outputs_rejects_wrong_shapes(values, match):
    with pytest.raises(ValueError, match=match):
        check_outputs(values, 3)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (["a", "b", "c"], "non-numeric"),
        (["1.0", "2.0", "3.0"], "non-numeric"),  # numeric strings are still strings
        ([b"1", b"2", b"3"], "non-numeric"),
        ([1.0, None, 3.0], r"non-numeric values for 1 of 3 masks \(rows 1 of"),
        ([1.0, "x", object()], r"non-numeric values for 2 of 3 masks \(rows 1, 2 of"),
        (np.array([1.0, 2.0 + 1.0j, 3.0]), r"complex values for 1 of 3 masks \(rows 1 of"),
        (np.array(["2020-01-01"] * 3, dtype="datetime64[D]"), "non-numeric"),
    ],
)
def test_check_outputs_rejects_non_numeric(values, match):
    with pytest.raises(ValueError, match=match):
        check_outputs(values, 3)


def test_check_outputs_names_nan_and_inf_rows():
    with pytest.raises(ValueError, match=r"NaN values for 2 of 5 masks \(rows 1, 4 of"):
        check_outputs([0.0, np.nan, 1.0, 2.0, np.nan], 5)
    with pytest.raises(ValueError, match=r"non-finite \(NaN or inf\) values for 2 of 4 masks"):
        check_outputs([np.inf, 1.0, -np.inf, 0.0], 4)
    with pytest.raises(ValueError, match=r"rows 0, 2 of"):
        check_outputs([np.inf, 1.0, np.nan, 0.0], 4)


def test_check_outputs_abbreviates_long_row_lists():
    values = np.full(25, np.nan)
    with pytest.raises(ValueError, match=r"rows 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 15 more"):
        check_outputs(values, 25)


# ------------------------------------------------------------------ CheckedValueFunction
def test_checked_function_evaluates_and_counts():
    f = CheckedValueFunction(_linear, 4)
    assert isinstance(f, ValueFunction)
    masks = np.array([[1, 0, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0]])
    np.testing.assert_array_equal(f(masks), [5.0, 10.0, 0.0])
    assert f.n_queries == 3
    f(np.ones((7, 4), dtype=bool))
    assert f.n_queries == 10
    # an empty batch is answered without calling the function
    calls = []
    g = CheckedValueFunction(lambda m: calls.append(m) or np.zeros(len(m)), 4)
    assert g(np.zeros((0, 4), dtype=bool)).shape == (0,)
    assert calls == [] and g.n_queries == 0
    assert "n_features=4" in repr(f)


def test_checked_function_hands_over_bool_masks():
    seen = []

    def spy(masks):
        seen.append(masks)
        return np.zeros(masks.shape[0])

    CheckedValueFunction(spy, 3)([[0, 1, 1]])
    assert seen[0].dtype == bool and seen[0].shape == (1, 3)


@pytest.mark.parametrize(
    ("function", "match"),
    [
        (lambda m: np.full(m.shape[0], np.nan), "NaN values for 2 of 2 masks"),
        (lambda m: np.array([1.0, np.inf]), r"rows 1 of this batch"),
        (lambda m: np.zeros((m.shape[0], 2)), r"shape \(2, 2\) for 2 masks"),
        (lambda m: ["a"] * m.shape[0], "non-numeric"),
        (lambda m: None, "returned None for 2 masks"),
    ],
)
def test_checked_function_rejects_bad_outputs(function, match):
    f = CheckedValueFunction(function, 3)
    with pytest.raises(ValueError, match=match):
        f(np.ones((2, 3), dtype=bool))
    assert f.n_queries == 2  # the rows were sent (and paid for) all the same


def test_checked_function_rejects_bad_masks_before_calling():
    calls = []
    f = CheckedValueFunction(lambda m: calls.append(1) or np.zeros(len(m)), 3)
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        f(np.ones((2, 4), dtype=bool))
    with pytest.raises(ValueError, match="boolean"):
        f(np.full((2, 3), 7))
    assert calls == [] and f.n_queries == 0


def test_checked_function_constructor_errors():
    with pytest.raises(TypeError, match="callable"):
        CheckedValueFunction(np.zeros(3), 3)
    with pytest.raises(ValueError, match="positive"):
        CheckedValueFunction(_linear, 0)
    with pytest.raises(ValueError, match="alphabet_size"):
        CheckedValueFunction(_linear, 3, alphabet_size=1)


def test_as_value_function():
    f = as_value_function(_linear, 3)
    assert isinstance(f, CheckedValueFunction)
    assert as_value_function(f, 3) is f  # no double wrapping, one counter
    with pytest.raises(ValueError, match="3 features but n=4"):
        as_value_function(f, 4)
    with pytest.raises(ValueError, match="q=3"):
        as_value_function(f, 3, alphabet_size=3)
