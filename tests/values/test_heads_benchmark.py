"""benchmarks/heads.py on the tiny random Llama: its tables, its figure and its query cache."""

from __future__ import annotations

import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from interplay.values.heads import AttentionHeadValue


def _load_benchmark() -> SimpleNamespace:
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "heads.py"
    return SimpleNamespace(**runpy.run_path(str(path)))


def test_tiny_study_prints_r2_and_pruning_tables_and_reuses_its_queries(tmp_path, capsys):
    bench = _load_benchmark()
    argv = ["--model", "tiny", "--methods", "proxyspex", "stacked", "--budgets", "40",
            "--test", "16", "--random", "2",
            "--points", "4", "--png", str(tmp_path / "curve.png"),
            "--cache", str(tmp_path / "queries.npz")]
    assert bench.main(argv) == 0
    out = capsys.readouterr().out
    assert "proxyspex R²" in out and "stacked R²" in out and "banzhaf R²" in out
    r2 = _r2_row(out)
    assert all(-1.0 < x <= 1.0 for x in r2)
    assert "proxyspex greedy above banzhaf at" in out
    assert (tmp_path / "curve.png").stat().st_size > 1000
    first = int(out.rsplit("model queries this run:", 1)[1].split()[0])
    assert first > 40
    # the same study again: every mask comes from the cache file, the numbers are identical
    assert bench.main(argv) == 0
    again = capsys.readouterr().out
    assert again.rsplit("model queries this run:", 1)[1].split()[0] == "0"
    assert _r2_row(again) == r2
    assert _pruning_rows(again) == _pruning_rows(out)
    assert len(_pruning_rows(out)) == 5  # 4 levels + the unpruned model


def _r2_row(out: str) -> list[float]:
    """R² of proxyspex, stacked and the Banzhaf regression in the budget-40 row."""
    row = next(line.split() for line in out.splitlines() if line.split()[:2] == ["budget", "40"])
    return [float(row[i]) for i in (2, 5, 8)]


def _pruning_rows(out: str) -> list[str]:
    table = out.split("random min..max", 1)[1].split("mean over", 1)[0]
    return [line for line in table.splitlines() if line.strip()]


def test_cache_scores_whole_layers_as_the_value_function_does(tmp_path):
    bench = _load_benchmark()
    model, tokenizer, examples = bench.load_model("tiny")
    value = AttentionHeadValue(model, examples, tokenizer=tokenizer, score="margin")
    layer_of_head = value.heads[:, 0]
    cache = bench.ExampleScoreCache(value, layer_of_head, tmp_path / "layers.npz")
    assert cache.n_features == 2
    masks = np.array([[True, True], [True, False], [False, True], [True, False]])
    got = cache.value_function("margin", 3)(masks)
    heads = masks[:, layer_of_head]  # a layer's mask switches all its heads
    expected = value.example_scores(heads)["margin"][:, :3].mean(axis=1)
    np.testing.assert_allclose(got, expected)
    assert cache.n_model_queries == 3  # the repeated mask is evaluated once
    reloaded = bench.ExampleScoreCache(value, layer_of_head, tmp_path / "layers.npz")
    np.testing.assert_array_equal(reloaded.value_function("margin", 3)(masks), got)
    assert reloaded.n_model_queries == 0
    # a file written for another feature layout is not reused
    other = bench.ExampleScoreCache(value, np.arange(value.n_features), tmp_path / "layers.npz")
    assert other.rows == {}
