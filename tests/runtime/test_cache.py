"""MaskCache and mask keys: exact round trips, locations, atomic batches, concurrent engines."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from runtime_support import RecordingModel, planted

from interplay.runtime import QueryEngine
from interplay.runtime.cache import MaskCache, mask_keys, resolve_cache_path


@pytest.mark.parametrize("n", [1, 7, 8, 9, 100, 1000])
def test_mask_keys_are_injective_and_packed(rng, n):
    masks = rng.random((300, n)) < 0.5
    masks = np.vstack([masks, np.zeros((1, n), bool), np.ones((1, n), bool)])
    keys = mask_keys(masks)
    assert all(len(k) == (n + 7) // 8 for k in keys)
    distinct_rows = np.unique(masks, axis=0).shape[0]
    assert len(set(keys)) == distinct_rows
    unpacked = np.unpackbits(
        np.frombuffer(b"".join(keys), np.uint8).reshape(len(keys), -1), axis=1, count=n
    ).astype(bool)
    np.testing.assert_array_equal(unpacked, masks)
    assert mask_keys(np.zeros((0, n), bool)) == []


def test_store_lookup_round_trip_is_bit_exact(rng, tmp_path):
    n = 30
    masks = np.unique(rng.random((2500, n)) < 0.5, axis=0)
    values = rng.normal(size=masks.shape[0]) * 10.0 ** rng.integers(-300, 300, masks.shape[0])
    cache = MaskCache(tmp_path / "c.sqlite", "model-a", n)
    keys = mask_keys(masks)
    cache.store(keys[:1000], values[:1000])
    cache.store(keys[1000:], values[1000:])
    assert len(cache) == masks.shape[0]
    found = cache.lookup(keys[::-1] + [b"\x00\x00\x00\x01"])
    assert len(found) == masks.shape[0]
    np.testing.assert_array_equal(np.array([found[k] for k in keys]), values)
    loaded_masks, loaded_values = cache.load_all()
    order = {k: i for i, k in enumerate(mask_keys(loaded_masks))}
    np.testing.assert_array_equal(loaded_values[[order[k] for k in keys]], values)
    assert cache.snapshot() == dict(zip(keys, values.tolist()))
    # other fingerprint, other n: nothing shared
    assert MaskCache(cache.path, "model-b", n).lookup(keys) == {}
    assert len(MaskCache(cache.path, "model-a", n + 1)) == 0
    cache.close()


def test_cache_locations(tmp_path):
    assert resolve_cache_path(tmp_path / "runs" / "x.db") == tmp_path / "runs" / "x.db"
    assert resolve_cache_path(tmp_path / "dir").name == "interplay-queries.sqlite"
    assert (tmp_path / "dir").is_dir()
    (tmp_path / "plain").write_text("not a cache")
    with pytest.raises(ValueError, match="directory or a .sqlite"):
        resolve_cache_path(tmp_path / "plain")
    with pytest.raises(ValueError, match="fingerprint"):
        MaskCache(tmp_path / "c.sqlite", "", 3)


def test_a_failed_store_commits_nothing(rng, tmp_path):
    cache = MaskCache(tmp_path / "w.sqlite", "m", 10)
    keys = mask_keys(np.unique(rng.random((40, 10)) < 0.5, axis=0))
    cache.store(keys[:20], np.arange(20.0))
    with pytest.raises(sqlite3.Error):
        cache.store([*keys[20:30], object()], np.arange(11.0))  # SQLite cannot bind object()
    assert len(cache) == 20  # the whole failed batch was rolled back
    cache.store(keys[20:], np.arange(len(keys) - 20.0))  # and the connection still works
    assert len(cache) == len(keys)


def test_engine_sees_values_another_engine_wrote_after_it_started(rng, tmp_path):
    f = planted()
    a = QueryEngine(f, 12, cache_dir=tmp_path)
    model_b = RecordingModel(f)
    b = QueryEngine(model_b, 12, cache_dir=tmp_path)
    first = rng.random((20, 12)) < 0.5
    a(first)
    b(first)  # b reads its snapshot now: all 20 from disk
    assert model_b.batches == [] and b.stats.n_disk_hits == np.unique(first, axis=0).shape[0]
    later = rng.random((30, 12)) < 0.5
    expected = a(later)  # written after b's snapshot
    np.testing.assert_array_equal(b(later), expected)
    assert model_b.batches == []  # found in SQLite, not recomputed
    a.close()
    b.close()
