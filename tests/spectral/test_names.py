"""Feature and state names: unique non-blank strings, and generated names made unique."""

from __future__ import annotations

import numpy as np
import pytest

import interplay
from interplay.spectral.interactions import Interactions, check_feature_names
from interplay.spectral.names import check_names, unique_names
from interplay.values.text import TextFeatures


@pytest.mark.parametrize(
    ("names", "match"),
    [
        (["a", "b", "a"], "feature_names repeats 'a' at positions 0, 2; names must be unique"),
        (["x", "x", "x"], "feature_names repeats 'x' at positions 0, 1, 2"),
        (["a", "", "c"], r"feature_names\[1\] is blank"),
        (["a", "\t ", "c"], r"feature_names\[1\] is blank"),
        (["a", None, "c"], r"feature_names\[1\] is None \(NoneType\); names must be strings"),
        (["a", 2.5, "c"], r"feature_names\[1\] is 2.5 \(float\)"),
        ([0, 1, 2], r"feature_names\[0\] is 0 \(int\)"),
        (["a", "b"], "2 feature names given for 3 features"),
    ],
)
def test_bad_feature_names_are_refused(names, match):
    with pytest.raises(ValueError, match=match):
        check_feature_names(names, 3)
    with pytest.raises(ValueError, match=match):
        Interactions([(0,)], [1.0], n_features=3, feature_names=names)


def test_duplicate_names_used_to_shadow_a_feature():
    """With ["a", "b", "a"] the lookup result["a"] silently returned feature 0's term."""
    with pytest.raises(ValueError, match="repeats 'a'"):
        Interactions([(0,), (2,)], [1.0, 5.0], n_features=3, feature_names=["a", "b", "a"])
    with pytest.raises(ValueError, match="repeats 'a'"):
        interplay.explain(lambda m: m.sum(axis=1), 3, feature_names=["a", "b", "a"], budget=8)


def test_names_keep_numpy_strings_and_defaults():
    assert check_feature_names(np.array(["a", "b"]), 2) == ["a", "b"]
    assert check_feature_names(None, 3) == ["x0", "x1", "x2"]
    assert check_names("ACGU", 4, argument="state_names", of="states") == list("ACGU")


def test_state_names_must_be_unique():
    with pytest.raises(ValueError, match="state_names repeats 'A' at positions 0, 1"):
        Interactions([[1, 0]], [1.0], n_features=2, q=3, state_names=["A", "A", "C"])


def test_unique_names_suffix_repeats_with_their_position():
    assert unique_names(["the", "cat", "the"]) == ["the[0]", "cat", "the[2]"]
    assert unique_names(["a", "b"]) == ["a", "b"]
    # a word that already looks like a suffixed name cannot collide
    names = unique_names(["a", "a", "a[1]"])
    assert names == ["a[0]", "a[1]'", "a[1]"]


def test_text_with_repeated_words_gets_unique_names():
    features = TextFeatures.from_text("a a a[1] b b b[0] b[0]", "word")
    names = features.names()
    assert len(set(names)) == len(names) == 7
    check_feature_names(names, 7)


def test_explain_on_repeated_words_reads_by_name():
    """explain() on text features whose words repeat: names are unique and look up terms."""
    features = TextFeatures.from_text("good good bad good", "word")
    weights = np.array([1.0, 2.0, -4.0, 8.0])

    def score(masks):
        return masks @ weights

    result = interplay.explain(
        score, features.n_features, feature_names=features.names(), budget=600, random_state=0
    )
    assert result.feature_names == ["good[0]", "good[1]", "bad", "good[3]"]
    mobius = result.to_mobius()
    assert mobius["good[3]"] == pytest.approx(8.0)
    assert mobius["good[1]"] == pytest.approx(2.0)
    assert mobius["bad"] == pytest.approx(-4.0)
