"""Loading saved results is safe: hostile or damaged files get one ValueError naming the field.

Every case starts from a valid document and changes one thing. The file is untrusted input:
nothing may be allocated beyond what its own length justifies, nothing but ValueError (or
FileNotFoundError for a missing file) may escape, and saving never leaves a half-written file.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import tracemalloc

import numpy as np
import pytest
from saved_documents import binary_document, legacy_qary_document, qary_document

import interplay.atomic
from interplay.spectral.interactions import Interactions


def _changed(document: dict, key: str, value) -> dict:
    out = copy.deepcopy(document)
    if value is _DELETE:
        del out[key]
    else:
        out[key] = value
    return out


_DELETE = object()

BINARY_CASES = [
    ("format", _DELETE, "not an interplay interactions document"),
    ("version", 3, r"unsupported interactions format version 3 \(this version reads 1 and 2\)"),
    ("version", 2, "field 'q' is missing"),
    ("version", True, "unsupported interactions format version True"),
    ("n_features", _DELETE, "field 'n_features' is missing"),
    ("n_features", 1e18, r"n_features must be an integer, got 1e\+18"),
    ("n_features", 10**18, "3 feature names given for 1000000000000000000 features"),
    ("n_features", "3", "n_features must be an integer, got '3'"),
    ("n_features", True, "n_features must be an integer, got True"),
    ("n_features", 3.0, "n_features must be an integer, got 3.0"),
    ("n_features", 0, "n_features must be at least 1, got 0"),
    ("feature_names", _DELETE, "field 'feature_names' is missing"),
    ("feature_names", "abc", "feature_names must be a list, got 'abc'"),
    ("feature_names", ["a", "b"], "2 feature names given for 3 features"),
    ("feature_names", ["a", "b", "a"], "feature_names repeats 'a' at positions 0, 2"),
    ("feature_names", ["a", 1, "c"], r"feature_names\[1\] is 1 \(int\); names must be strings"),
    ("feature_names", ["a", " ", "c"], r"feature_names\[1\] is blank"),
    ("basis", _DELETE, "field 'basis' is missing"),
    ("basis", "wavelet", "basis must be one of"),
    ("terms", _DELETE, "field 'terms' is missing"),
    ("terms", "abc", "terms must be a list, got 'abc'"),
    ("terms", {"0": 1}, "terms must be a list"),
    ("terms", [[[0], 1.0, 2.0]], r"terms\[0\] must be a \[subset, coefficient\] pair"),
    ("terms", [7], r"terms\[0\] must be a \[subset, coefficient\] pair, got 7"),
    ("terms", [["0", 1.0]], r"terms\[0\]\[0\] must be a list, got '0'"),
    ("terms", [[[0.0], 1.0]], r"terms\[0\]\[0\]: feature must be an integer, got 0.0"),
    ("terms", [[[True], 1.0]], r"terms\[0\]\[0\]: feature must be an integer, got True"),
    ("terms", [[[0, 0], 1.0]], r"terms\[0\]\[0\]: feature 0 appears twice"),
    ("terms", [[[1], 1.0], [[2, 3], 1.0]], r"terms\[1\]\[0\]: feature must be in 0..2, got 3"),
    ("terms", [[[-1], 1.0]], r"terms\[0\]\[0\]: feature must be in 0..2, got -1"),
    ("terms", [[[0], "1.5"]], r"terms\[0\]\[1\] must be a number, got '1.5'"),
    ("terms", [[[0], True]], r"terms\[0\]\[1\] must be a number, got True"),
    ("terms", [[[0], None]], r"terms\[0\]\[1\] must be a number, got None"),
    ("terms", [[[0], float("nan")]], r"terms\[0\]\[1\] must be a finite number, got nan"),
    ("terms", [[[0], float("inf")]], r"terms\[0\]\[1\] must be a finite number, got inf"),
    ("terms", [[[0], 10**400]], r"terms\[0\]\[1\] must be a finite number"),
    ("terms", [[[0, 1], 1.0], [[1, 0], 2.0]], r"terms\[1\] repeats the subset of terms\[0\]"),
    ("metadata", [1, 2], "metadata must be an object"),
    ("metadata", "x", "metadata must be an object"),
    ("method", 5, "method must be a string or null, got 5"),
    ("n_queries", -1, "n_queries must be at least 0, got -1"),
    ("n_queries", 2.5, "n_queries must be an integer, got 2.5"),
    ("order", 0, "order must be at least 1, got 0"),
    ("order", "2", "order must be an integer"),
]

QARY_CASES = [
    ("version", 3, "format version 3"),
    ("q", _DELETE, "field 'q' is missing"),
    ("q", 1, "q must be in 2..32768, got 1"),
    ("q", 4.0, "q must be an integer, got 4.0"),
    ("q", "4", "q must be an integer"),
    ("q", 10**18, "q must be in 2..32768"),
    ("q", 5, r"4 state names given for 5 states \(q=5\)"),
    ("n_features", 10**18, "3 feature names given for 1000000000000000000 features"),
    ("state_names", _DELETE, "field 'state_names' is missing"),
    ("state_names", ["A", "C", "A", "U"], "state_names repeats 'A' at positions 0, 2"),
    ("state_names", None, "state_names must be a list, got None"),
    ("terms", [[[], 1.0]], r"terms\[0\] must be \[\[\[feature, k\], ...\], re, im\]"),
    ("terms", [["x", 1.0, 0.0]], r"terms\[0\]\[0\] must be a list, got 'x'"),
    ("terms", [[[[0]], 1.0, 0.0]], r"terms\[0\]\[0\]\[0\] must be a \[feature, k\] pair"),
    ("terms", [[[[3, 1]], 1.0, 0.0]], r"terms\[0\]\[0\]: feature must be in 0..2, got 3"),
    ("terms", [[[[0, 1], [0, 2]], 1.0, 0.0]], r"terms\[0\]\[0\]: feature 0 appears twice"),
    ("terms", [[[[0, 4]], 1.0, 0.0]], r"terms\[0\]\[0\]: frequency must be in 0..3, got 4"),
    ("terms", [[[[0, -1]], 1.0, 0.0]], r"terms\[0\]\[0\]: frequency must be in 0..3, got -1"),
    ("terms", [[[[0, 1.0]], 1.0, 0.0]], r"terms\[0\]\[0\]: frequency must be an integer"),
    ("terms", [[[[0, 1]], "1", 0.0]], r"terms\[0\]\[1\] must be a number, got '1'"),
    ("terms", [[[[0, 1]], 1.0, float("nan")]], r"terms\[0\]\[2\] must be a finite number"),
    (
        "terms",
        [[[[0, 1], [1, 2]], 1.0, 0.0], [[[1, 2], [0, 1]], 1.0, 0.0]],
        r"terms\[1\] repeats the frequency vector of terms\[0\]",
    ),
    ("metadata", [], "metadata must be an object"),
]


@pytest.mark.parametrize(
    ("cls", "document", "key", "value", "match"),
    [(Interactions, binary_document, *case) for case in BINARY_CASES]
    + [(Interactions, document, *case) for case in QARY_CASES
       for document in (qary_document, legacy_qary_document)],
)
def test_document_errors_name_the_file_and_field(tmp_path, cls, document, key, value, match):
    path = tmp_path / "result.json"
    path.write_text(json.dumps(_changed(document(), key, value)), encoding="utf-8")
    with pytest.raises(ValueError, match=match) as info:
        cls.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_valid_documents_load():
    loaded = Interactions.from_dict(binary_document())
    assert loaded.feature_names == ["a", "b", "c"] and loaded[("b", "c")] == 2.0
    qary = Interactions.from_dict(qary_document())
    assert qary.state_names == list("ACGU") and qary[{1: 2, 2: 1}] == 2.0
    assert qary.q == 4 and qary[{0: 3}] == 0.5 - 0.25j
    # a q-ary file saved by the release before the one result type loads as the same result
    legacy = Interactions.from_dict(legacy_qary_document())
    assert legacy.allclose(qary, atol=0) and legacy.to_json() == qary.to_json()
    # integers are numbers too (a hand-written file may say 1 for 1.0)
    document = binary_document()
    document["terms"] = [[[0], 1], [[1, 2], -3]]
    assert Interactions.from_dict(document)[(1, 2)] == -3.0
    # a dict built in memory may hold numpy scalars
    document["n_features"] = np.int64(3)
    document["terms"] = [[[np.int64(0)], np.float32(0.5)], [[1, np.int32(2)], np.float64(-3)]]
    loaded = Interactions.from_dict(document)
    assert loaded[(0,)] == 0.5 and loaded[(1, 2)] == -3.0


def test_repeated_terms_that_sum_beyond_the_float_range_are_refused():
    """Each coefficient is finite, their sum is not: it used to be stored as inf (and the
    saved file could not be loaded back)."""
    with pytest.raises(ValueError, match="add up beyond the float range"):
        Interactions([(0,), (0,)], [1e308, 1e308], n_features=2)
    with pytest.raises(ValueError, match="add up beyond the float range"):
        Interactions([[1, 0], [1, 0]], [1e308, 1e308], n_features=2, q=3)


def _peak_bytes(action) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            action()
        return tracemalloc.get_traced_memory()[1], str(info.value)
    finally:
        tracemalloc.stop()


def test_huge_sizes_are_refused_without_allocating(tmp_path):
    """A 200-byte file with n_features = 1e18 used to be OOM-killed at 22 GB."""
    path = tmp_path / "huge.json"
    document = _changed(binary_document(), "n_features", 10**18)
    del document["feature_names"]
    path.write_text(json.dumps(document))
    peak, message = _peak_bytes(lambda: Interactions.load(path))
    assert "feature_names" in message and peak < 1_000_000
    document = _changed(qary_document(), "q", 10**18)
    document["state_names"] = None
    path.write_text(json.dumps(document))
    peak, message = _peak_bytes(lambda: Interactions.load(path))
    assert "q must be in 2..32768" in message and peak < 1_000_000


def test_padded_tables_are_bounded_by_the_file(tmp_path):
    """Sizes that the file holds can still multiply: one long subset and many empty terms
    would pad to a terms × length table; q-ary terms are stored the same way."""
    n = 40_000
    document = binary_document()
    document["n_features"] = n
    document["feature_names"] = [f"f{i}" for i in range(n)]
    document["terms"] = [[list(range(n)), 1.0]] + [[[], 0.0]] * 60_000
    path = tmp_path / "padded.json"
    path.write_text(json.dumps(document, separators=(",", ":")))
    peak, message = _peak_bytes(lambda: Interactions.load(path))
    assert "terms would need a 60001 × 40000 table" in message
    assert peak < 60 * path.stat().st_size  # the parsed JSON itself, nothing quadratic

    for document in (qary_document(), legacy_qary_document()):
        document["n_features"] = n
        document["feature_names"] = [f"f{i}" for i in range(n)]
        document["terms"] = [[[[i, 1] for i in range(n)], 1.0, 0.0]] + [[[], 0.0, 0.0]] * 60_000
        path.write_text(json.dumps(document, separators=(",", ":")))
        peak, message = _peak_bytes(lambda: Interactions.load(path))
        assert "terms would need a 60001 × 40000 table" in message
        assert peak < 60 * path.stat().st_size


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"", "not valid JSON"),
        (b"hello", "not valid JSON"),
        (b"[" * 100_000, "not valid JSON|nested too deeply"),
        (b"\xff\xfe\x00binary", "not UTF-8 text"),
        (b"[1, 2]", "not an interplay interactions document"),
        (b"null", "not an interplay interactions document"),
    ],
)
def test_files_that_are_not_results(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        Interactions.load(path)


def test_truncated_files_are_refused_at_every_length(tmp_path):
    text = Interactions([(0,), (1, 2)], [1.0, 2.0], n_features=3, metadata={"a": [1, 2]}).to_json(
        indent=1
    )
    path = tmp_path / "cut.json"
    for cut in range(len(text)):
        path.write_text(text[:cut])
        with pytest.raises(ValueError, match=f"{path}: "):
            Interactions.load(path)


def test_missing_file_directory_and_device(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file to load"):
        Interactions.load(tmp_path / "absent.json")
    with pytest.raises(ValueError, match="is a directory, not a saved result"):
        Interactions.load(tmp_path)
    with pytest.raises(ValueError, match="not a regular file"):
        Interactions.load(os.devnull)


# ------------------------------------------------------------------------------ saving
def test_save_replaces_the_file_atomically(tmp_path):
    path = tmp_path / "result.json"
    first = Interactions([(0,)], [1.0], n_features=2)
    first.save(path)
    second = Interactions([(1,)], [2.0], n_features=2)
    second.save(path)
    assert Interactions.load(path).allclose(second)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_failed_save_keeps_the_original(tmp_path, monkeypatch):
    path = tmp_path / "result.json"
    original = Interactions([(0,)], [1.0], n_features=2)
    original.save(path)
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(interplay.atomic.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        Interactions([(1,)], [5.0], n_features=2).save(path)
    monkeypatch.undo()
    # metadata that JSON cannot hold fails before anything is written
    with pytest.raises(TypeError, match="not JSON serialisable"):
        Interactions([(1,)], [5.0], n_features=2, metadata={"x": object()}).save(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json"]


def test_integers_too_long_to_print_are_named_not_printed():
    """A dict built in memory can hold an int with more digits than Python prints."""
    document = qary_document()
    document["q"] = 10**5000
    with pytest.raises(ValueError, match="q must be in 2..32768, got an integer of 16610 bits"):
        Interactions.from_dict(document)
