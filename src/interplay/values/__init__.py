"""Value functions: a mask matrix in, one number per mask out.

The heavy ones live in their own modules and are imported from there:
``interplay.values.text`` (prompts), ``interplay.values.heads`` (attention heads),
``interplay.values.data`` (training examples), ``interplay.values.qary`` (q-ary inputs),
``interplay.values.rna`` (RNA folding energy), ``interplay.values.planted`` (known sparse
functions for tests and benchmarks).
"""

from interplay.values.base import CheckedValueFunction, ValueFunction, as_value_function

__all__ = [
    "CheckedValueFunction",
    "ValueFunction",
    "as_value_function",
]
