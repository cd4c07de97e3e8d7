"""``interplay explain --context-file F --query Q`` and ``--documents DIR|JSONL``."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("transformers")

from cli_support import one_error_line, run_explain

from interplay.spectral.interactions import Interactions

CONTEXT = "Marie Curie was born in Warsaw. She moved to Paris in 1891. She won two Nobel prizes."
QUERY = "Where was Marie Curie born?"


def test_context_file_with_a_query_masks_the_context_only(tiny_llama, tmp_path, capsys,
                                                          monkeypatch):
    from interplay.models.hf import HFCausalLM

    prompts: list[str] = []
    original = HFCausalLM.answer_logprobs

    def recording(self, batch, answer):
        prompts.extend(batch)
        return original(self, batch, answer)

    monkeypatch.setattr(HFCausalLM, "answer_logprobs", recording)
    context = tmp_path / "context.txt"
    context.write_text(CONTEXT, encoding="utf-8")
    code, out, err = run_explain(
        ["--model", tiny_llama, "--context-file", context, "--query", QUERY, "--budget", 16,
         "--max-order", 2, "--heldout", 0, "--max-new-tokens", 3, "--out", tmp_path / "o"],
        capsys)
    assert code == 0, err
    result = Interactions.load(tmp_path / "o" / "interactions.json")
    meta = result.metadata
    # three sentences are the features (the --context-file default unit); the query is not one
    assert result.n_features == 3 and meta["features"]["unit"] == "sentence"
    assert meta["query"] == QUERY and meta["features"]["suffix"].endswith(QUERY)
    assert not any(QUERY in name for name in result.feature_names)
    # every prompt the model scored holds the query, whatever was masked (8 masks: all of them)
    assert len(prompts) >= 2 ** 3 and all(QUERY in p for p in prompts)
    assert any("Warsaw" not in p for p in prompts)  # while the context was masked
    # the output is named in words, and the model as the user gave it
    assert meta["output"].startswith("log-probability of ") and "given the prompt" in meta["output"]
    assert meta["model_name"] == str(tiny_llama)
    assert f"Explained: {meta['output']}" in out
    page = (tmp_path / "o" / "report.html").read_text(encoding="utf-8")
    assert f'<span class="fixed" title="never masked">\n\n{QUERY}</span>' in page
    assert "log-probability of" in page


def test_unit_applies_to_the_context(tiny_bert, tmp_path, capsys):
    context = tmp_path / "context.txt"
    context.write_text("a good movie. a bad plot.", encoding="utf-8")
    code, _, err = run_explain(
        ["--model", tiny_bert, "--context-file", context, "--query", "Overall?", "--unit",
         "word", "--budget", 64, "--max-order", 2, "--heldout", 0, "--out", tmp_path], capsys)
    assert code == 0, err
    result = Interactions.load(tmp_path / "interactions.json")
    assert result.feature_names == ["a[0]", "good", "movie.", "a[3]", "bad", "plot."]
    assert result.metadata["output"].startswith("logit of class ")


def _write_documents(folder):
    folder.mkdir()
    (folder / "b-second.txt").write_text("The plot was dull.", encoding="utf-8")
    (folder / "a-first.md").write_text("The cast was great.", encoding="utf-8")
    (folder / "c-third.txt").write_text("I would not watch it again.", encoding="utf-8")
    (folder / "notes.json").write_text("{}", encoding="utf-8")  # not a document
    return folder


def test_documents_directory_one_feature_per_file_sorted_by_name(tiny_bert, tmp_path, capsys):
    docs = _write_documents(tmp_path / "docs")
    code, _, err = run_explain(
        ["--model", tiny_bert, "--documents", docs, "--query", "Is the review positive?",
         "--budget", 64, "--max-order", 2, "--heldout", 0, "--out", tmp_path / "o"], capsys)
    assert code == 0, err
    result = Interactions.load(tmp_path / "o" / "interactions.json")
    assert result.feature_names == ["a-first.md", "b-second.txt", "c-third.txt"]
    assert result.metadata["features"]["pieces"] == [
        "The cast was great.", "The plot was dull.", "I would not watch it again."]
    assert result.metadata["features"]["unit"] == "document"
    assert result.metadata["features"]["suffix"].endswith("Is the review positive?")
    assert result.metadata.get("exact")  # 2^3 masks fit in the budget: the exact expansion


def test_documents_jsonl_titles_ids_and_a_unit_inside_documents(tiny_bert, tmp_path, capsys):
    path = tmp_path / "docs.jsonl"
    records = [{"title": "Review", "text": "Great cast."}, {"id": 7, "text": "Dull plot."},
               {"title": "Review", "text": "Not again."}]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\n", encoding="utf-8")
    args = ["--model", tiny_bert, "--documents", path, "--budget", 64, "--max-order", 2,
            "--heldout", 0]
    code, _, err = run_explain([*args, "--out", tmp_path / "a"], capsys)
    assert code == 0, err
    result = Interactions.load(tmp_path / "a" / "interactions.json")
    assert result.feature_names == ["Review[0]", "7", "Review[2]"]
    code, _, err = run_explain([*args, "--unit", "word", "--out", tmp_path / "b"], capsys)
    assert code == 0, err
    words = Interactions.load(tmp_path / "b" / "interactions.json")
    assert words.feature_names == ["Great", "cast.", "Dull", "plot.", "Not", "again."]


def _bad_inputs(tmp_path):
    context = tmp_path / "context.txt"
    context.write_text("Some context.", encoding="utf-8")
    (tmp_path / "blank.txt").write_text("  \n", encoding="utf-8")
    (tmp_path / "empty-dir").mkdir()
    (tmp_path / "dir-with-blank").mkdir()
    (tmp_path / "dir-with-blank" / "a.txt").write_text("", encoding="utf-8")
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\nnot json\n', encoding="utf-8")
    (tmp_path / "no-text.jsonl").write_text('{"title": "x"}\n', encoding="utf-8")
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    return [
        (["--context-file", tmp_path / "missing.txt"], "cannot read --context-file"),
        (["--context-file", tmp_path / "blank.txt"], "--context-file is empty"),
        (["--documents", tmp_path / "missing"], "does not exist"),
        (["--documents", tmp_path / "empty-dir"], "empty document set"),
        (["--documents", tmp_path / "dir-with-blank"], "is empty; remove it"),
        (["--documents", tmp_path / "bad.jsonl"], "line 2 is not JSON"),
        (["--documents", tmp_path / "no-text.jsonl"], 'line 1 has no "text"'),
        (["--documents", tmp_path / "empty.jsonl"], "empty document set"),
        (["--text", "a b c", "--query", "why?"], "--query needs a context"),
        (["--context-file", context, "--query", " "], "--query is empty"),
        (["--text", "a b c", "--unit", "document"], "--unit document needs --documents"),
        (["--text", " ".join(f"w{i}" for i in range(20)), "--method", "spex", "--budget", 50],
         "budget 50 is too small for SPEX"),
    ]


def test_bad_context_and_documents_are_one_line_before_the_model_loads(tmp_path, capsys,
                                                                       no_model_load):
    for extra, message in _bad_inputs(tmp_path):
        code, out, err = run_explain([*extra, "--out", tmp_path / "o"], capsys)
        assert code == 2 and out == "", (extra, err)
        assert message in one_error_line(err), (extra, err)
    assert not (tmp_path / "o" / "interactions.json").exists()


@pytest.mark.parametrize("other", [["--text", "a b"], ["--documents", "d"], ["--file", "f"]])
def test_two_inputs_are_one_line(other, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        run_explain(["--context-file", tmp_path / "c.txt", *other], capsys)
    assert info.value.code == 2
    assert "not allowed with argument --context-file" in one_error_line(capsys.readouterr().err)
