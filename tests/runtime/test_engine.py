"""QueryEngine: deduplication, batching and order, the cache-hit path, fingerprints, errors."""

from __future__ import annotations

import io
import itertools
import sqlite3
import sys
import time

import numpy as np
import pytest
from runtime_support import (
    REAL_METHOD,
    FailingModel,
    RecordingModel,
    explain_lsq,
    planted,
)

import interplay
import interplay.solvers
from interplay.runtime import (
    EngineOptions,
    ModelOutputError,
    ModelQueryError,
    ProgressBar,
    QueryEngine,
)

N_FEATURES = 12


def _masks(rng: np.random.Generator, n_rows: int, n: int = N_FEATURES) -> np.ndarray:
    return rng.random((n_rows, n)) < 0.5


def _with_duplicates(rng: np.random.Generator, n_rows: int) -> np.ndarray:
    base = _masks(rng, n_rows)
    masks = np.vstack([base, base[rng.integers(0, n_rows, size=n_rows // 2)]])
    return masks[rng.permutation(masks.shape[0])]


def _distinct(masks: np.ndarray) -> int:
    return np.unique(masks, axis=0).shape[0]


# ------------------------------------------------------------ dedup, batching and order
def test_values_in_order_and_each_distinct_mask_sent_once(rng):
    f = planted()
    model = RecordingModel(f)
    engine = QueryEngine(model, N_FEATURES, batch_size=16)
    masks = _with_duplicates(rng, 150)
    values = engine(masks)
    np.testing.assert_array_equal(values, f.truth.predict(masks))
    sent = np.vstack(model.batches)
    assert sent.shape[0] == _distinct(masks) == _distinct(sent)  # no mask twice
    assert all(b.shape[0] <= 16 for b in model.batches)
    assert len(model.batches) == -(-_distinct(masks) // 16)
    s = engine.stats
    assert (s.n_asked, s.n_unique, s.n_evaluated) == (
        masks.shape[0],
        _distinct(masks),
        sent.shape[0],
    )
    assert s.n_cache_hits == 0 and s.n_model_calls == len(model.batches)


def test_memory_hits_on_second_call_and_mixed_calls(rng):
    f = planted()
    model = RecordingModel(f)
    engine = QueryEngine(model, N_FEATURES, batch_size=8)
    first = _masks(rng, 40)
    engine(first)
    sent_before = sum(b.shape[0] for b in model.batches)
    fresh = _masks(rng, 30)
    mixed = np.vstack([first[:20], fresh, first[5:10]])
    values = engine(mixed)
    np.testing.assert_array_equal(values, f.truth.predict(mixed))
    new_rows = sum(b.shape[0] for b in model.batches) - sent_before
    assert new_rows == _distinct(np.vstack([first, fresh])) - _distinct(first)
    assert engine.stats.n_cache_hits == _distinct(mixed) - new_rows


def test_cost_sorted_batches_results_in_original_order(rng):
    f = planted()
    model = RecordingModel(f, with_cost=True)
    engine = QueryEngine(model, N_FEATURES, batch_size=10)
    masks = np.unique(_masks(rng, 95), axis=0)[rng.permutation(90)]
    values = engine(masks)
    np.testing.assert_array_equal(values, f.truth.predict(masks))
    costs = [b.sum(axis=1) for b in model.batches]
    for left, right in itertools.pairwise(costs):
        assert left.max() <= right.min()  # batches are ranges of sorted cost
    assert np.all(np.diff(np.concatenate(costs)) >= 0)


def test_empty_call_and_bad_input():
    engine = QueryEngine(planted(), N_FEATURES)
    assert engine(np.zeros((0, N_FEATURES), bool)).shape == (0,)
    with pytest.raises(ValueError, match="shape"):
        engine(np.zeros((3, N_FEATURES + 1), bool))
    with pytest.raises(ValueError, match="exactly one"):
        QueryEngine(None, N_FEATURES)
    with pytest.raises(ValueError, match="backend"):
        QueryEngine(planted(), N_FEATURES, backend="dask")
    with pytest.raises(ValueError, match="batch_size"):
        QueryEngine(planted(), N_FEATURES, batch_size=0)
    with pytest.raises(ValueError, match="n_features"):
        QueryEngine(planted())


def test_engine_is_a_value_function_for_solvers(rng):
    f = planted()
    direct = explain_lsq(f, N_FEATURES, seed=3)
    engine = QueryEngine(f, N_FEATURES, batch_size=7)
    through = explain_lsq(engine, N_FEATURES, seed=3)
    assert through.allclose(direct, atol=0.0)
    assert through.n_queries == direct.n_queries == engine.stats.n_unique


# --------------------------------------------------------------------- on-disk cache
def test_cache_hit_path_queries_nothing_and_is_bit_identical(rng, tmp_path):
    f = planted()
    masks = _with_duplicates(rng, 120)
    first = QueryEngine(f, N_FEATURES, cache_dir=tmp_path, batch_size=16)
    values = first(masks)
    first.close()
    model = RecordingModel(f)
    second = QueryEngine(model, N_FEATURES, cache_dir=tmp_path, batch_size=16)
    again = second(masks[::-1])
    assert model.batches == []
    np.testing.assert_array_equal(again, values[::-1])
    assert second.stats.n_disk_hits == second.stats.n_unique == _distinct(masks)
    cache = second.cache
    assert cache is not None and len(cache) == _distinct(masks)
    stored_masks, stored_values = cache.load_all()
    np.testing.assert_array_equal(stored_values, f.truth.predict(stored_masks))


def test_cache_is_sqlite_wal_keyed_by_fingerprint_and_n(rng, tmp_path):
    f = planted()
    masks = _masks(rng, 50)
    QueryEngine(f, N_FEATURES, cache_dir=tmp_path / "c.sqlite")(masks)
    conn = sqlite3.connect(tmp_path / "c.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    other = planted(seed=1)  # another model: same masks, other fingerprint
    model = RecordingModel(other)
    values = QueryEngine(model, N_FEATURES, cache_dir=tmp_path / "c.sqlite")(masks)
    np.testing.assert_array_equal(values, other.truth.predict(masks))
    assert sum(b.shape[0] for b in model.batches) == _distinct(masks)
    # an explicit fingerprint overrides the model's own
    model2 = RecordingModel(f)
    QueryEngine(model2, N_FEATURES, cache_dir=tmp_path / "c.sqlite", fingerprint="run-7")(masks)
    assert sum(b.shape[0] for b in model2.batches) == _distinct(masks)


def test_cache_without_fingerprint_refuses(tmp_path):
    def anonymous(masks):
        return masks.sum(axis=1).astype(float)

    with pytest.raises(ValueError, match="fingerprint"):
        QueryEngine(anonymous, 4, cache_dir=tmp_path)
    engine = QueryEngine(anonymous, 4, cache_dir=tmp_path, fingerprint="sum-of-kept")
    np.testing.assert_array_equal(engine(np.eye(4, dtype=bool)), np.ones(4))
    with pytest.raises(ValueError, match="fingerprint"):
        QueryEngine(model_factory=lambda: anonymous, n_features=4, cache_dir=tmp_path)(
            np.eye(4, dtype=bool)
        )
    assert QueryEngine(anonymous, 4)(np.eye(4, dtype=bool)).tolist() == [1.0] * 4  # no cache: ok


def test_model_factory_is_called_once_locally(rng):
    built = []

    def factory():
        built.append(1)
        return planted()

    engine = QueryEngine(model_factory=factory, n_features=N_FEATURES, batch_size=5)
    masks = _masks(rng, 20)
    engine(masks)
    engine(_masks(rng, 20))
    assert len(built) == 1
    np.testing.assert_array_equal(engine(masks), planted().truth.predict(masks))
    assert engine.fingerprint() == planted().fingerprint()


# ------------------------------------------------------------------------- failures
def test_failed_rows_are_named_and_the_rest_is_kept(rng, tmp_path):
    f = planted()
    masks = _with_duplicates(rng, 100)
    poisoned = masks[[3, 40]]
    nan_mask = masks[[77]]
    model = FailingModel(f, poisoned=poisoned, nan_masks=nan_mask)
    engine = QueryEngine(model, N_FEATURES, cache_dir=tmp_path, batch_size=16, retry_backoff=0.0)
    with pytest.raises(ModelQueryError) as info:
        engine(masks)
    err = info.value
    bad = np.vstack([poisoned, nan_mask])
    expected_rows = np.flatnonzero((masks[:, None, :] == bad[None]).all(axis=2).any(axis=1))
    np.testing.assert_array_equal(np.sort(err.rows), expected_rows)
    np.testing.assert_array_equal(err.masks, masks[err.rows])
    assert "rows" in str(err) and str(int(expected_rows[0])) in str(err)
    assert any("out of memory" in e for e in err.errors)
    assert any("NaN" in e for e in err.errors)
    # every other distinct mask is in the cache; a new engine asks the model for the 3 bad only
    assert len(engine.cache) == _distinct(masks) - 3
    healed = RecordingModel(f)
    values = QueryEngine(healed, N_FEATURES, cache_dir=tmp_path, fingerprint=model.fingerprint())(
        masks
    )
    np.testing.assert_array_equal(values, f.truth.predict(masks))
    assert sum(b.shape[0] for b in healed.batches) == 3


def test_transient_errors_are_retried_with_backoff(rng):
    f = planted()
    model = FailingModel(f, transient=2)
    engine = QueryEngine(model, N_FEATURES, batch_size=50, max_retries=2, retry_backoff=0.01)
    masks = _masks(rng, 40)
    np.testing.assert_array_equal(engine(masks), f.truth.predict(masks))
    assert engine.stats.n_retries == 2 and model.calls == 3


def test_broken_model_fails_fast(rng):
    model = FailingModel(planted(), transient=10**9)
    engine = QueryEngine(model, N_FEATURES, batch_size=32, max_retries=1, retry_backoff=0.0)
    with pytest.raises(ModelQueryError, match="broken"):
        engine(_masks(rng, 64))
    assert model.calls <= 8  # no bisection down to single masks


def test_wrong_output_shape_is_a_bug_not_retried(rng):
    calls = []

    def bad(masks):
        calls.append(1)
        return np.zeros(masks.shape[0] + 1)

    engine = QueryEngine(bad, N_FEATURES, max_retries=3)
    with pytest.raises(ModelOutputError, match="expected"):
        engine(_masks(rng, 10))
    assert len(calls) == 1


# ------------------------------------------------------------------- progress, options
def test_progress_bar_reports_rate_and_eta(rng, capsys):
    engine = QueryEngine(planted(), N_FEATURES, batch_size=10, progress=True)
    masks = _masks(rng, 50)
    engine(masks)
    err = capsys.readouterr().err
    assert "q/s" in err and "ETA" in err
    assert f"{_distinct(masks)}/{_distinct(masks)}" in err and err.rstrip().endswith("ETA 0:00")
    stream = io.StringIO()
    bar = ProgressBar(4, stream=stream, min_interval=0.0, interactive=True)
    bar.update(1)
    bar.update(3)
    bar.close()
    assert "\r" in stream.getvalue()
    assert "1/4" in stream.getvalue() and "4/4" in stream.getvalue()


def test_progress_bar_writes_plain_lines_when_not_a_terminal(rng, capsys):
    stream = io.StringIO()  # not a terminal
    bar = ProgressBar(1000, stream=stream, min_interval=0.0, plain_interval=0.05)
    for _ in range(10):
        bar.update(100)
        time.sleep(0.01)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and stream.getvalue().endswith("\n")
    assert 1 <= len(lines) <= 4 and lines[-1].startswith("queries [") and "1000/1000" in lines[-1]
    # the engine's bar on a captured (non-terminal) stderr: no carriage returns either
    QueryEngine(planted(), N_FEATURES, batch_size=10, progress=True)(_masks(rng, 50))
    err = capsys.readouterr().err
    assert "\r" not in err and 1 <= err.count("\n") <= 2 and "ETA 0:00" in err


def test_engine_options_coerce():
    assert EngineOptions.coerce({"batch_size": 8}).batch_size == 8
    with pytest.raises(ValueError, match="unknown engine option"):
        EngineOptions.coerce({"batchsize": 8})


def test_ray_backend_without_ray_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"pip install 'interplay\[ray\]'"):
        QueryEngine(planted(), N_FEATURES, backend="ray")


def test_explain_with_engine_options_equals_plain_explain(tmp_path):
    method = REAL_METHOD
    f = planted()
    kw = {"method": method, "budget": 300, "max_order": 2, "random_state": 5}
    plain = interplay.explain(f, N_FEATURES, **kw)
    cached = interplay.explain(
        f, N_FEATURES, engine=EngineOptions(cache_dir=tmp_path, batch_size=32), **kw
    )
    assert cached.allclose(plain, atol=1e-12)
    assert cached.metadata["engine"]["n_evaluated"] > 0
    model = RecordingModel(f)
    again = interplay.explain(model, N_FEATURES, engine={"cache_dir": tmp_path}, **kw)
    assert again.allclose(plain, atol=1e-12) and model.batches == []


# ----------------------------------------------------------------------- q-ary masks
class _QaryTable:
    """f(x) = sum_i table[i, x_i] + x_0 * x_1: a q-ary function with an interaction."""

    def __init__(self, n: int, q: int, seed: int = 0) -> None:
        self.table = np.round(np.random.default_rng(seed).normal(size=(n, q)) * 64) / 64
        self.calls = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        x = np.asarray(x)
        return self.table[np.arange(x.shape[1]), x].sum(axis=1) + x[:, 0] * x[:, 1]

    def fingerprint(self) -> str:
        return f"qary-table:{self.table.shape}"


@pytest.mark.parametrize("q", [3, 4, 300])
def test_qary_masks_dedup_and_cache(rng, tmp_path, q):
    n = 6
    f = _QaryTable(n, q)
    x = rng.integers(0, q, size=(120, n))
    x = np.vstack([x, x[:40]])
    engine = QueryEngine(f, n, alphabet_size=q, cache_dir=tmp_path, batch_size=32)
    np.testing.assert_array_equal(engine(x), f(x))
    assert engine.stats.n_evaluated == np.unique(x, axis=0).shape[0]
    stored, values = engine.cache.load_all()
    assert stored.dtype == np.int64
    np.testing.assert_array_equal(values, f(stored))
    engine.close()
    again = QueryEngine(f, n, alphabet_size=q, cache_dir=tmp_path)
    calls = f.calls
    np.testing.assert_array_equal(again(x[::-1]), f(x[::-1]))
    assert f.calls == calls + 1  # only the direct call above: the engine used its cache
    with pytest.raises(ValueError, match="0..2"):
        QueryEngine(f, n, alphabet_size=3)(np.full((1, n), 3))
    # the same masks as booleans live in another key space
    binary = QueryEngine(f, n, cache_dir=tmp_path)
    assert len(binary.cache) == 0


def test_explain_qsft_with_engine_equals_plain(tmp_path):
    n, q = 5, 3
    f = _QaryTable(n, q)
    kw = {"method": "qsft", "q": q, "max_order": 2, "random_state": 1}
    plain = interplay.explain(f, n, **kw)
    cached = interplay.explain(f, n, engine={"cache_dir": tmp_path}, **kw)
    x = np.random.default_rng(0).integers(0, q, size=(50, n))
    np.testing.assert_allclose(cached.predict(x), plain.predict(x), atol=1e-12)
    assert cached.metadata["engine"]["n_evaluated"] == cached.n_queries


class _DiesAfter:
    """A server that answers ``alive`` calls, then fails every call (after ``delay`` s)."""

    def __init__(self, function, alive: int, delay: float = 0.02) -> None:
        self.function, self.alive, self.delay, self.calls = function, alive, delay, 0

    def __call__(self, masks):
        self.calls += 1
        if self.calls > self.alive:
            time.sleep(self.delay)
            raise ConnectionError("connection refused")
        return self.function(masks)


def test_a_model_that_dies_mid_run_is_given_up_on_within_max_retry_time(rng):
    f = planted()
    dead = _DiesAfter(f, alive=2)
    engine = QueryEngine(dead, N_FEATURES, batch_size=8, max_retries=2, retry_backoff=0.01,
                         max_retry_time=0.5)
    start = time.perf_counter()
    with pytest.raises(ModelQueryError, match=r"failed on every call for .*connection refused"):
        engine(_masks(rng, 400))
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, elapsed
    # without the bound the engine would isolate rows one by one: hundreds of failing calls
    assert dead.calls < 60
    with pytest.raises(ValueError, match="max_retry_time"):
        QueryEngine(f, N_FEATURES, max_retry_time=-1)
