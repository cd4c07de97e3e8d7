"""Property tests of the value-function contract (hypothesis).

Whatever a value function returns — any shape, dtype, NaN, inf, strings, huge integers,
objects — the checked wrapper either returns the right (N,) float64 array or raises the
documented ValueError, and counts the rows it forwarded either way.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from interplay.values.base import as_value_function

N_FEATURES = 3

# Python objects a value function might put in a list: numbers of every kind and non-numbers.
ELEMENTS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.booleans(),
    st.complex_numbers(allow_nan=True, allow_infinity=True),
    st.complex_numbers(max_magnitude=1e6).map(lambda z: complex(z.real, 0.0)),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.fractions(max_denominator=1000).map(Fraction),
    st.text(max_size=3),
    st.binary(max_size=3),
    st.none(),
    st.lists(st.floats(), max_size=2),
    st.sampled_from([np.float32(1.5), np.int8(-3), np.uint64(2**64 - 1), np.float16(np.inf)]),
)


def _shapes(n: int) -> st.SearchStrategy:
    return st.sampled_from([(n,), (n, 1), (1, n), (n, 2), (), (n + 1,), (0,), (n, 1, 1)])


ARRAY_DTYPES = st.one_of(
    hnp.scalar_dtypes(),
    hnp.unicode_string_dtypes(max_len=3),
    hnp.byte_string_dtypes(max_len=3),
    st.just(np.dtype(np.longdouble)),
)


@st.composite
def outputs(draw) -> tuple[int, object]:
    """(N, what the value function returns for N masks)."""
    n = draw(st.integers(1, 5))
    kind = draw(st.sampled_from(["numbers", "array", "list", "column", "scalar"]))
    if kind == "numbers":  # mostly valid: plain numeric arrays, a NaN or inf now and then
        dtype = draw(st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.bool_]))
        return n, draw(hnp.arrays(dtype, draw(st.sampled_from([(n,), (n, 1)]))))
    if kind == "array":
        return n, draw(hnp.arrays(draw(ARRAY_DTYPES), draw(_shapes(n))))
    if kind == "list":
        size = draw(st.sampled_from([n, n, n, n - 1, n + 1]))
        return n, draw(st.lists(ELEMENTS, min_size=size, max_size=size))
    if kind == "column":
        return n, [[draw(ELEMENTS)] for _ in range(n)]
    return n, draw(ELEMENTS)


def _real_value(value) -> float | None:
    """The float a single output element stands for, or None when it is not a finite real."""
    if isinstance(value, (str, bytes, list)) or value is None:
        return None
    try:
        z = complex(value)
    except (OverflowError, TypeError, ValueError):  # too large, or not a number
        return None
    return z.real if z.imag == 0 and math.isfinite(z.real) else None


def _expected(n: int, values) -> np.ndarray | None:
    """What the contract must return for these outputs, or None when it must refuse them."""
    if isinstance(values, np.ndarray):
        if values.shape not in ((n,), (n, 1)) or values.dtype.kind not in "biufc":
            return None
        flat = values.reshape(n)
        if values.dtype.kind == "c":
            if np.any(flat.imag != 0):
                return None
            flat = flat.real
        with np.errstate(over="ignore"):
            out = flat.astype(np.float64)
        return out if np.isfinite(out).all() else None
    if not isinstance(values, list) or len(values) != n:
        return None
    if all(isinstance(v, list) and len(v) == 1 for v in values):
        values = [v[0] for v in values]
    reals = [_real_value(v) for v in values]
    return None if any(r is None for r in reals) else np.array(reals)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(outputs())
def test_any_output_is_accepted_exactly_or_refused_with_valueerror(case):
    n, values = case
    checked = as_value_function(lambda masks: values, N_FEATURES)
    masks = np.zeros((n, N_FEATURES), dtype=bool)
    expected = _expected(n, values)
    try:
        result = checked(masks)
    except ValueError as exc:
        assert "value function returned" in str(exc)
        assert "\n" not in str(exc)
        assert expected is None, f"refused a valid output: {exc}"
    else:
        assert expected is not None, f"accepted an invalid output as {result!r}"
        assert result.shape == (n,) and result.dtype == np.float64
        np.testing.assert_array_equal(result, expected)
    assert checked.n_queries == n  # forwarded rows are counted even when refused


def test_the_oracle_sees_the_cases_that_matter():
    """The strategy above reaches the cases the contract is about (not a vacuous property)."""
    assert _expected(2, [1, Decimal("2.5")]).tolist() == [1.0, 2.5]
    assert _expected(2, [1.0, float("nan")]) is None
    assert _expected(1, [10**400]) is None
    assert _expected(2, np.array([[1.0], [2.0]])).tolist() == [1.0, 2.0]
    assert _expected(2, np.array([1.0 + 1j, 2.0])) is None
    assert _expected(2, ["1", 2.0]) is None


def test_huge_integers_and_long_doubles_are_refused_as_non_finite():
    for values in ([10**400, 1.0], [-(10**400), 1.0], np.array([1e4000, 1.0], np.longdouble)):
        checked = as_value_function(lambda masks, v=values: v, N_FEATURES)
        try:
            checked(np.zeros((2, N_FEATURES), dtype=bool))
        except ValueError as exc:
            assert "non-finite" in str(exc) and "rows 0" in str(exc)
        else:
            raise AssertionError("a value beyond the float range was accepted")


def test_masked_entries_are_refused():
    values = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])
    checked = as_value_function(lambda masks: values, N_FEATURES)
    try:
        checked(np.zeros((3, N_FEATURES), dtype=bool))
    except ValueError as exc:
        assert "masked (missing) values (rows 1 of this batch)" in str(exc)
    else:
        raise AssertionError("a masked entry was read as a number")
    unmasked = np.ma.masked_array([1.0, 2.0, 3.0], mask=False)
    checked = as_value_function(lambda masks: unmasked, N_FEATURES)
    assert checked(np.zeros((3, N_FEATURES), dtype=bool)).tolist() == [1.0, 2.0, 3.0]
