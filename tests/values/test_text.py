"""Text features, masking and the text value functions (real tiny models as the scorer)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from interplay.models.base import FunctionClassifier, FunctionLanguageModel
from interplay.values.text import ClassifierValue, GenerativeValue, TextFeatures, split_text


# ---------------------------------------------------------------- splitting
@pytest.mark.parametrize(
    "text, unit, pieces",
    [
        ("  Hello,  big\tworld! ", "word", ["Hello,", "big", "world!"]),
        ("One. Two! Three? Four", "sentence", ["One.", "Two!", "Three?", "Four"]),
        ('He said "hi." Then left.', "sentence", ['He said "hi."', "Then left."]),
        ("Line one\nline two. Three.", "sentence", ["Line one", "line two.", "Three."]),
        ("Para one.\nstill one.\n\n  Para two.\n \nThree", "paragraph",
         ["Para one.\nstill one.", "Para two.", "Three"]),
    ],
)
def test_split_text_pieces_and_round_trip(text, unit, pieces):
    got, seps = split_text(text, unit)
    assert got == pieces
    assert len(seps) == len(got) + 1
    assert "".join(s + p for s, p in zip(seps, got)) + seps[-1] == text


def test_split_text_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown unit"):
        split_text("a b", "token")
    with pytest.raises(TypeError):
        split_text(["a"], "word")
    with pytest.raises(ValueError, match="empty"):
        TextFeatures.from_text("   \n ", "word")


def test_render_remove_and_replace_brute_force():
    feats = TextFeatures.from_text("the cat  sat\non mats", "word", prefix="Q: ", suffix=" END")
    n = feats.n_features
    assert n == 5 and feats.text == "Q: the cat  sat\non mats END"
    masks = np.array(list(itertools.product([0, 1], repeat=n)), dtype=bool)
    removed = feats.render(masks)
    replaced = feats.render(masks, "[M]")
    for mask, rem, rep in zip(masks, removed, replaced):
        kept = [p for p, k in zip(feats.pieces, mask) if k]
        # removal keeps the original separators between the surviving words
        assert rem.split() == ["Q:"] + kept + ["END"]
        idx = np.flatnonzero(mask)
        body = "".join(
            (feats.separators[i] if j else "") + feats.pieces[i] for j, i in enumerate(idx)
        )
        assert rem == "Q: " + body + " END"
        assert rep.split() == ["Q:"] + [p if k else "[M]" for p, k in zip(feats.pieces, mask)] + [
            "END"
        ]
    assert removed[-1] == feats.text
    assert removed[0] == "Q:  END"
    # the separator of a removed word goes with it: "the sat" keeps the original spacing
    only = feats.render(np.array([[1, 0, 1, 0, 0]], bool))[0]
    assert only == "Q: the  sat END"


def test_documents_features():
    feats = TextFeatures.from_documents(["Doc A.", "Doc B.", "Doc C."], separator="\n---\n")
    assert feats.unit == "document" and feats.n_features == 3
    assert feats.render(np.array([[1, 0, 1]], bool)) == ["Doc A.\n---\nDoc C."]
    with pytest.raises(TypeError):
        TextFeatures.from_documents("one string")
    with pytest.raises(ValueError, match="empty"):
        TextFeatures.from_documents(["a", "  "])


# -------------------------------------------------------- value functions
def _counting_classifier(word: str = "good") -> FunctionClassifier:
    def logits(texts):
        z = np.array([t.split().count(word) - 0.5 * t.split().count("not") for t in texts])
        return np.stack([-z, z], axis=1)

    return FunctionClassifier(logits, labels=["neg", "pos"], name=f"count-{word}")


def test_classifier_value_matches_direct_model_calls():
    model = _counting_classifier()
    value = ClassifierValue(model, "good film , not good acting , good music", unit="word")
    assert value.target_label == "pos" and value.n_features == 9
    rng = np.random.default_rng(0)
    masks = rng.random((20, value.n_features)) < 0.5
    expected = model.predict_logits(value.render(masks))[:, 1]
    np.testing.assert_allclose(value(masks), expected)
    prob = ClassifierValue(model, value.features, output="probability")(masks)
    np.testing.assert_allclose(prob, 1 / (1 + np.exp(-2 * expected)))
    neg = ClassifierValue(model, value.features, target="neg", output="log_probability")
    assert neg.target == 0
    np.testing.assert_allclose(np.exp(neg(masks)) + prob, 1.0)


def test_classifier_value_bad_arguments():
    model = _counting_classifier()
    with pytest.raises(ValueError, match="unknown class"):
        ClassifierValue(model, "good", target="maybe")
    with pytest.raises(ValueError, match="outside"):
        ClassifierValue(model, "good", target=5)
    with pytest.raises(ValueError, match="unknown output"):
        ClassifierValue(model, "good", output="odds")
    with pytest.raises(ValueError, match="mask_mode"):
        ClassifierValue(model, "good", mask_mode="blank")
    with pytest.raises(ValueError, match="mask_string"):
        ClassifierValue(model, "good", mask_mode="remove", mask_string="X")
    with pytest.raises(ValueError, match="shape"):
        ClassifierValue(model, "good bad")(np.ones((2, 3), bool))


def test_mask_mode_defaults_follow_the_model():
    plain = ClassifierValue(_counting_classifier(), "good film")
    assert plain.mask_mode == "remove"
    masked_lm = FunctionClassifier(lambda t: np.zeros(len(t)), mask_token="[MASK]", name="m")
    value = ClassifierValue(masked_lm, "good film")
    assert value.mask_mode == "replace" and value.render(np.array([[0, 1]], bool)) == [
        "[MASK] film"
    ]
    forced = ClassifierValue(masked_lm, "good film", mask_mode="replace", mask_string="_")
    assert forced.render(np.array([[0, 1]], bool)) == ["_ film"]


def test_fingerprint_and_cost():
    model = _counting_classifier()
    a = ClassifierValue(model, "good film here")
    assert a.fingerprint() == ClassifierValue(model, "good film here").fingerprint()
    different = [
        ClassifierValue(model, "good film there"),
        ClassifierValue(model, "good film here", mask_mode="replace", mask_string="_"),
        ClassifierValue(model, "good film here", output="probability"),
        ClassifierValue(_counting_classifier("film"), "good film here"),
        ClassifierValue(model, "good film here", unit="sentence"),
    ]
    prints = {a.fingerprint()} | {v.fingerprint() for v in different}
    assert len(prints) == len(different) + 1
    masks = np.array([[1, 1, 1], [0, 0, 0], [1, 0, 1]], bool)
    cost = a.cost(masks)
    lengths = np.array([len(p) for p in a.render(masks)])
    assert cost.shape == (3,)
    np.testing.assert_array_equal(np.argsort(cost), np.argsort(lengths))
    assert cost[0] == len(a.features.text)


def test_generative_value_generates_once_and_scores_by_answer():
    calls = {"generate": 0}

    def generate(prompt):
        calls["generate"] += 1
        return "Warsaw"

    def logprobs(prompts, answer):
        return np.array([-1.0 if "Warsaw" in p else -5.0 for p in prompts]) * len(answer)

    lm = FunctionLanguageModel(generate, logprobs, name="toy")
    value = GenerativeValue(lm, "Curie was born in Warsaw .")
    assert value.answer == "Warsaw" and calls["generate"] == 1
    assert value.full_value == -6.0
    masks = np.eye(6, dtype=bool)
    np.testing.assert_allclose(value(masks), [-30, -30, -30, -30, -6, -30])
    assert calls["generate"] == 1
    other = GenerativeValue(lm, "Curie was born in Warsaw .", answer="Paris")
    assert other.fingerprint() != value.fingerprint() and calls["generate"] == 1
    with pytest.raises(ValueError, match="empty"):
        GenerativeValue(FunctionLanguageModel(lambda p: "  ", logprobs), "a b")


def test_a_given_answer_led_by_whitespace_is_checked_against_the_answer_without_it():
    calls = {"scored": []}

    def logprobs(prompts, answer):
        calls["scored"].append(answer)
        base = -1.0 if "Warsaw" in prompts[0] else -5.0
        return np.full(len(prompts), base - (9.0 if answer.startswith(" ") else 0.0))

    lm = FunctionLanguageModel(lambda p: "Warsaw", logprobs, name="toy")
    with pytest.warns(UserWarning, match=r"' Warsaw' starts with whitespace.*-10\.0.*'Warsaw' "
                                         r"\(-1\.0\); pass answer='Warsaw' \(CLI: --answer 'Warsaw'\)"):
        value = GenerativeValue(lm, "Curie was born in Warsaw .", answer=" Warsaw")
    assert value.answer == " Warsaw" and value.full_value == -10.0  # kept as given
    assert calls["scored"] == [" Warsaw", "Warsaw"]

    def spaced(prompts, answer):  # a prompt that ends in "Answer:" wants the space
        return np.full(len(prompts), -1.0 if answer.startswith(" ") else -4.0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GenerativeValue(FunctionLanguageModel(lambda p: "x", spaced), "Answer:", answer=" Warsaw")
        calls["scored"].clear()
        GenerativeValue(lm, "Curie was born in Warsaw .", answer="Warsaw")
        assert calls["scored"] == ["Warsaw"]  # no extra query without the whitespace
        GenerativeValue(FunctionLanguageModel(lambda p: " Warsaw", logprobs), "Curie .")


def test_feature_names_are_unique_and_short():
    feats = TextFeatures.from_text("the cat saw the " + "x" * 60 + " cat", "word")
    names = feats.names(width=10)
    assert names == ["the[0]", "cat[1]", "saw", "the[3]", "xxxxxxxxx…", "cat[5]"]
    assert len(set(names)) == len(names)


# ------------------------------------------------------------------ input limits
class WordLimitedSentiment(FunctionClassifier):
    """Counts 'good' minus 'bad' words, reading at most ``limit`` words (one token per word,
    plus a start token), and cuts the rest silently, as real encoders do."""

    def __init__(self, limit: int) -> None:
        super().__init__(self._score, labels=["negative", "positive"], name=f"words<{limit}")
        self.limit = limit
        self.calls = 0

    def _score(self, texts):
        self.calls += 1
        out = []
        for text in texts:
            words = text.split()[: self.limit - 1]  # silent truncation
            out.append(sum(w.startswith("good") for w in words) - sum(w.startswith("bad")
                                                                     for w in words))
        return np.array(out, float)

    def context_limit(self) -> int:
        return self.limit

    def count_tokens(self, text: str) -> int:
        return 1 + len(text.split())


LONG = " ".join(["fine"] * 30 + ["bad", "bad", "good"])  # 33 words: the verdict is at the end


def test_a_prompt_past_the_context_is_an_error_before_any_query():
    model = WordLimitedSentiment(limit=20)
    with pytest.raises(ValueError, match=r"34 tokens.*limit of 20 by 14.*first 19 of 33"):
        ClassifierValue(model, LONG)
    assert model.calls == 0
    # replacing masked words with a longer mask string is measured too
    fits = " ".join(["fine"] * 10)
    ClassifierValue(WordLimitedSentiment(limit=12), fits, mask_mode="replace", mask_string="X")
    with pytest.raises(ValueError, match="limit of 12"):
        ClassifierValue(WordLimitedSentiment(limit=12), fits, mask_mode="replace",
                        mask_string="X Y")


def test_truncate_cuts_and_names_the_features_that_do_not_fit():
    model = WordLimitedSentiment(limit=20)
    with pytest.warns(UserWarning, match=r"last 14 of 33 features are cut.*'bad\[31\]', 'good'$"):
        value = ClassifierValue(model, LONG, truncate=True)
    assert value.n_features == 19 and len(value.features_cut) == 14
    assert value.features_cut[-1] == "good"
    assert model.count_tokens(value.features.text) <= model.context_limit()
    # every mask of the kept features is read in full by the model: the value is exact
    masks = np.array(list(itertools.product([False, True], repeat=19)))[::997]
    expected = [sum(w.startswith("good") for w in t.split()) - sum(w.startswith("bad")
                                                                  for w in t.split())
                for t in value.render(masks)]
    np.testing.assert_array_equal(value(masks), expected)
    # an LM's answer needs room too; the fixed text alone may leave none
    lm = FunctionLanguageModel(lambda p: "yes", lambda ps, a: np.zeros(len(ps)), name="x")
    lm.context_limit, lm.count_tokens = (lambda: 20), (lambda t: 1 + len(t.split()))
    with pytest.raises(ValueError, match=r"21 tokens \(4 for the text \+ 17 for the answer\)"
                       r".* by 1;.*first 2 of 3"):
        GenerativeValue(lm, "a b c", max_new_tokens=17)
    with pytest.raises(ValueError, match="even its first feature"):
        GenerativeValue(lm, "a b c", max_new_tokens=24, truncate=True)
