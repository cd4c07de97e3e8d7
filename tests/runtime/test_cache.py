"""MaskCache and mask keys: exact round trips, locations, atomic batches, concurrent engines."""

from __future__ import annotations

import os

import numpy as np
import pytest
from runtime_support import RecordingModel, planted, read_only

from interplay.runtime import QueryEngine
from interplay.runtime.cache import (
    CacheCorruptError,
    CacheError,
    CacheWarning,
    MaskCache,
    mask_keys,
    resolve_cache_path,
)


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
    with pytest.raises(CacheError, match="w.sqlite"):
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


# ------------------------------------------------------------------- real-life failures
def _filled_cache(path, rng, n=20, count=3000):
    keys = mask_keys(np.unique(rng.random((count, n)) < 0.5, axis=0))
    values = rng.normal(size=len(keys))
    cache = MaskCache(path, "model", n)
    for start in range(0, len(keys), 500):  # several commits: rows spread over many pages
        cache.store(keys[start : start + 500], values[start : start + 500])
    cache.close()
    return keys, values


def test_a_read_only_cache_serves_its_hits(rng, tmp_path):
    directory = tmp_path / "ro"
    directory.mkdir()
    path = directory / "c.sqlite"
    keys, values = _filled_cache(path, rng)
    f = planted(20)
    with read_only(path, directory):
        assert not os.access(directory, os.W_OK)
        cache = MaskCache(path, "model", 20)
        found = cache.lookup(keys)
        assert cache.read_only and len(found) == len(keys)
        np.testing.assert_array_equal([found[k] for k in keys], values)
        with pytest.raises(CacheError, match="read-only"):
            cache.store(keys[:1], [1.0])
        cache.close()
        # an engine on it: hits from disk, new values computed and kept in memory, a warning
        model = RecordingModel(f)
        masks = np.unpackbits(np.frombuffer(b"".join(keys[:50]), np.uint8).reshape(50, -1),
                              axis=1, count=20).astype(bool)
        with QueryEngine(model, 20, cache_dir=path, fingerprint="model") as engine:
            with pytest.warns(CacheWarning, match="read-only"):
                np.testing.assert_array_equal(engine(masks), values[:50])
            assert model.batches == []
            fresh = ~masks[:3]
            np.testing.assert_allclose(engine(fresh), f(fresh))
            assert engine.stats.n_unsaved == 3
        # another fingerprint on a read-only file: nothing cached, nothing breaks
        assert MaskCache(path, "other", 20).lookup(keys) == {}
        # a read-only directory where the file does not exist yet: a clear error
        with pytest.raises(CacheError, match="not writable"):
            MaskCache(directory / "new.sqlite", "model", 20).open()


def _corrupt_middle(path):
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8192] = b"\xa5" * 8192
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "not-sqlite"])
def test_a_damaged_cache_is_named_and_rebuilt_without_losing_rows(rng, tmp_path, damage):
    path = tmp_path / "c.sqlite"
    keys, values = _filled_cache(path, rng)
    if damage == "garbage":
        _corrupt_middle(path)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.write_text("this is not a cache\n" * 50)
    damaged = path.read_bytes()
    with pytest.raises(CacheCorruptError, match=r"c\.sqlite.*corrupted.*--rebuild-cache"):
        MaskCache(path, "model", 20).open()
    assert path.read_bytes() == damaged  # detecting changes nothing
    with pytest.raises(CacheCorruptError):
        QueryEngine(planted(20), 20, cache_dir=path, fingerprint="model")(np.ones((1, 20), bool))

    with pytest.warns(CacheWarning, match="moved to") as caught:
        cache = MaskCache(path, "model", 20, rebuild=True).open()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("c.sqlite.corrupt-")
             and not p.name.endswith(("-wal", "-shm"))]
    assert len(aside) == 1 and aside[0].read_bytes() == damaged  # kept, byte for byte
    assert str(aside[0]) in str(caught[0].message)
    found = cache.lookup(keys)
    # every row salvaged is a true row; a damaged middle page costs at most the rows after it
    np.testing.assert_array_equal([found[k] for k in found], values[[keys.index(k) for k in found]])
    # damaged pages are stepped over; a truncated file keeps the rows of its first half
    least = {"garbage": 3 * len(keys) // 4, "truncated": len(keys) // 4, "not-sqlite": 0}
    assert len(found) >= least[damage]
    cache.store(keys[:1], [0.5])  # the new file works
    cache.close()
    MaskCache(path, "model", 20).open().close()  # and is sound


def test_disk_full_is_a_clear_error_and_computed_values_are_kept(rng, tmp_path):
    path = tmp_path / "c.sqlite"
    cache = MaskCache(path, "m", 40).open()
    cache.connection.execute("PRAGMA max_page_count = 8")  # a disk with room for 8 pages
    keys = mask_keys(np.unique(rng.random((5000, 40)) < 0.5, axis=0))
    with pytest.raises(CacheError, match="full"):
        cache.store(keys, np.arange(len(keys), dtype=float))
    assert len(cache) == 0  # all or nothing
    cache.close()

    f = planted(40)
    engine = QueryEngine(f, 40, cache_dir=path, fingerprint="m", batch_size=2000)
    engine.cache.connection.execute("PRAGMA max_page_count = 8")
    masks = rng.random((5000, 40)) < 0.5
    with pytest.warns(CacheWarning, match="full.*kept in memory"):
        got = engine(masks)
    np.testing.assert_allclose(got, f(masks))
    assert engine.stats.n_unsaved > 0
    evaluated = engine.stats.n_evaluated
    np.testing.assert_array_equal(engine(masks), got)
    assert engine.stats.n_evaluated == evaluated  # what was computed is still there
    engine.close()
