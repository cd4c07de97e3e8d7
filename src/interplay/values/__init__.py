"""Value functions: a mask matrix in, one number per mask out."""

from interplay.values.base import CheckedValueFunction, ValueFunction, as_value_function

__all__ = ["CheckedValueFunction", "ValueFunction", "as_value_function"]
