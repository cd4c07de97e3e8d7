"""Property tests (hypothesis) of saving and loading results.

* Round trip: ``load(save(x))`` gives back x exactly — subsets or frequency vectors,
  coefficients bit for bit, names, metadata and the other fields — for random
  :class:`Interactions` over binary and q-ary features.
* Fuzzing: random truncations, byte edits and JSON-level mutations of a valid file never raise
  anything but ValueError, and never allocate more than a small multiple of the file.
"""

from __future__ import annotations

import json
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from saved_documents import binary_document, legacy_qary_document, qary_document

from interplay.spectral.indices import BASES
from interplay.spectral.interactions import Interactions

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# coefficients of repeated subsets are summed: keep sums of a dozen within the float range
COEFFICIENTS = st.floats(min_value=-1e300, max_value=1e300)
JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)
METADATA = st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4)


def names(count: int) -> st.SearchStrategy:
    name = st.text(min_size=1, max_size=8).filter(lambda s: s.strip())
    return st.lists(name, min_size=count, max_size=count, unique=True)


@st.composite
def interactions(draw) -> Interactions:
    n = draw(st.integers(1, 8))
    subset = st.sets(st.integers(0, n - 1), max_size=n).map(sorted)
    subsets = draw(st.lists(subset, max_size=12))
    coefficients = draw(st.lists(COEFFICIENTS, min_size=len(subsets), max_size=len(subsets)))
    return Interactions(
        subsets,
        coefficients,
        n_features=n,
        basis=draw(st.sampled_from(BASES)),
        feature_names=draw(st.none() | names(n)),
        n_queries=draw(st.none() | st.integers(0, 10**9)),
        method=draw(st.none() | st.text(max_size=10)),
        order=draw(st.none() | st.integers(1, 5)),
        metadata=draw(METADATA),
    )


@st.composite
def qary_interactions(draw) -> Interactions:
    n = draw(st.integers(1, 5))
    q = draw(st.integers(2, 6))
    k = draw(st.integers(0, 8))
    frequencies = draw(hnp.arrays(np.int64, (k, n), elements=st.integers(0, q - 1)))
    real = draw(st.lists(COEFFICIENTS, min_size=k, max_size=k))
    imag = draw(st.lists(COEFFICIENTS, min_size=k, max_size=k))
    coefficients = np.array(real, dtype=np.float64)
    if q > 2:  # binary expansions have real coefficients
        coefficients = coefficients + 1j * np.array(imag, dtype=np.float64)
    return Interactions(
        frequencies.astype(bool) if q == 2 else frequencies,
        coefficients,
        n_features=n,
        q=q,
        feature_names=draw(st.none() | names(n)),
        state_names=draw(st.none() | names(q)),
        n_queries=draw(st.none() | st.integers(0, 10**9)),
        method=draw(st.none() | st.text(max_size=10)),
        metadata=draw(METADATA),
    )


def _same_fields(a, b, fields) -> None:
    for name in fields:
        assert getattr(a, name) == getattr(b, name), name
    assert json.dumps(a.metadata, sort_keys=True) == json.dumps(b.metadata, sort_keys=True)


@SETTINGS
@given(interactions())
def test_interactions_round_trip(result):
    with tempfile.TemporaryDirectory() as folder:
        loaded = Interactions.load(result.save(Path(folder) / "r.json"))
    assert loaded.subsets == result.subsets
    np.testing.assert_array_equal(loaded.coefficients, result.coefficients)
    assert np.array_equal(np.signbit(loaded.coefficients), np.signbit(result.coefficients))
    _same_fields(
        loaded, result, ("n_features", "basis", "feature_names", "n_queries", "method", "order")
    )
    again = Interactions.from_json(loaded.to_json())
    assert again.to_json() == result.to_json()


@SETTINGS
@given(qary_interactions())
def test_qary_round_trip(result):
    with tempfile.TemporaryDirectory() as folder:
        loaded = Interactions.load(result.save(Path(folder) / "r.json"))
    np.testing.assert_array_equal(loaded.frequencies, result.frequencies)
    np.testing.assert_array_equal(loaded.coefficients, result.coefficients)
    _same_fields(
        loaded, result,
        ("n_features", "q", "basis", "feature_names", "state_names", "n_queries", "method"),
    )
    assert Interactions.from_json(loaded.to_json()).to_json() == result.to_json()


# ----------------------------------------------------------------------------- fuzzing
_BINARY = json.dumps(binary_document(), indent=1)
_QARY = json.dumps(qary_document(), indent=1)
_LEGACY_QARY = json.dumps(legacy_qary_document(), indent=1)

# values that hostile files use: sizes far beyond the file, wrong types, non-finite numbers
HOSTILE = st.one_of(
    JSON_VALUES,
    st.sampled_from(
        [
            10**18,
            1e18,
            -1,
            0,
            2**63,
            10**400,
            "3",
            True,
            None,
            [],
            {},
            [[0, 0]],
            float("nan"),
            float("inf"),
            [[[0, 1]], 1.0, 0.0],
            "abc",
        ]
    ),
)


def _paths(node, path=()):
    """Every path (sequence of keys and indices) into a JSON tree."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


@st.composite
def json_mutation(draw, text: str) -> str:
    """Replace, or delete, one node anywhere in the document."""
    document = json.loads(text)
    paths = list(_paths(document))[1:]
    path = draw(st.sampled_from(paths))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(HOSTILE)
    return json.dumps(document)


@st.composite
def text_mutation(draw, text: str) -> bytes:
    """Cut, splice or overwrite the bytes of the file."""
    raw = text.encode()
    kind = draw(st.sampled_from(["truncate", "replace", "insert", "delete"]))
    at = draw(st.integers(0, len(raw)))
    if kind == "truncate":
        return raw[:at]
    if kind == "delete":
        return raw[:at] + raw[at + draw(st.integers(1, 40)) :]
    chunk = draw(
        st.binary(min_size=1, max_size=8)
        | st.sampled_from(
            [b"1e18", b"999999999999999999999", b"NaN", b"-", b"[", b"]", b"{", b'"', b"true"]
        )
    )
    end = at + (len(chunk) if kind == "replace" else 0)
    return raw[:at] + chunk + raw[end:]


def _load_only_valueerror(cls, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.json"
        path.write_bytes(content)
        tracemalloc.start()
        try:
            result = cls.load(path)
        except ValueError as exc:
            assert str(path) in str(exc) and "\n" not in str(exc)
            result = None
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    # the parsed JSON and the result: a small multiple of the file, never a huge table
    assert peak < 2_000_000 + 200 * len(content), peak
    if result is not None:  # a mutation that kept the document valid: it round-trips
        assert cls.from_json(result.to_json()).to_json() == result.to_json()


@SETTINGS
@given(st.data())
def test_fuzzed_interactions_files_give_valueerror_only(data):
    mutate = data.draw(st.sampled_from([json_mutation, text_mutation]))
    content = data.draw(mutate(_BINARY))
    _load_only_valueerror(Interactions, content if isinstance(content, bytes) else content.encode())


@SETTINGS
@given(st.data())
def test_fuzzed_qary_files_give_valueerror_only(data):
    mutate = data.draw(st.sampled_from([json_mutation, text_mutation]))
    content = data.draw(mutate(data.draw(st.sampled_from([_QARY, _LEGACY_QARY]))))
    _load_only_valueerror(
        Interactions, content if isinstance(content, bytes) else content.encode()
    )
