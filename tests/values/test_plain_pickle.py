"""Pickles of plain data are read without running code; anything else is refused first."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from interplay.values.plain_pickle import load_plain_pickle


class WritesAFile:
    """A ``__reduce__`` payload: unpickling it with ``pickle.load`` creates ``path``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


class RunsAShellCommand:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_plain_data_round_trips(tmp_path, protocol):
    data = {
        b"data": np.arange(24, dtype=np.uint8).reshape(4, 6),
        "labels": [1, 2, 3, 4],
        "scale": np.float32(0.5),
        "count": np.int64(7),
        "names": [b"cat", "dog"],
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "nested": {"t": (1, 2.5, None, True)},
    }
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    loaded = load_plain_pickle(path)
    assert loaded.keys() == data.keys()
    for key, value in data.items():
        if isinstance(value, np.ndarray):
            assert loaded[key].dtype == value.dtype
            np.testing.assert_array_equal(loaded[key], value)
        else:
            assert loaded[key] == value and type(loaded[key]) is type(value)


@pytest.mark.parametrize("payload", [WritesAFile, RunsAShellCommand])
def test_code_in_the_file_is_refused_before_it_runs(tmp_path, payload):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"data": [1, payload(marker)]}))
    with pytest.raises(ValueError, match="refused to read this batch: it names .*can run code"):
        load_plain_pickle(path, what="batch")
    assert not marker.exists()
    # the same file does run its payload through pickle.load: the test payload is real
    with path.open("rb") as handle:
        pickle.load(handle)
    assert marker.exists()


def test_object_arrays_and_other_codecs_are_refused(tmp_path):
    path = tmp_path / "objects.pkl"
    path.write_bytes(pickle.dumps(np.array([1, "a"], dtype=object)))
    with pytest.raises(ValueError, match="dtype 'O'"):
        load_plain_pickle(path)
    # protocol-2 bytes go through _codecs.encode; only latin-1 is accepted
    path.write_bytes(pickle.dumps(b"abc", protocol=2).replace(b"latin1", b"rot_13"))
    with pytest.raises(ValueError, match="latin-1"):
        load_plain_pickle(path)


def test_damaged_files(tmp_path):
    good = pickle.dumps({"data": np.arange(100, dtype=np.uint8)}, protocol=2)
    path = tmp_path / "cut.pkl"
    for cut in range(0, len(good), 7):
        path.write_bytes(good[:cut])
        with pytest.raises(ValueError, match="cut.pkl"):
            load_plain_pickle(path)
    path.write_bytes(b"hello, not a pickle")
    with pytest.raises(ValueError, match="not a readable file"):
        load_plain_pickle(path)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_plain_pickle(tmp_path / "absent.pkl")
