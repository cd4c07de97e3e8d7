"""``interplay explain`` on a text whose words repeat: unique names, a loadable result."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from interplay.cli import main
from interplay.spectral.interactions import Interactions


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    from interplay.models.tiny import build_tiny_classifier

    return build_tiny_classifier(tmp_path_factory.mktemp("bert"))


def test_repeated_words_get_unique_names_and_the_result_loads(tiny_bert, tmp_path, capsys):
    text = "good good movie, good[1] good"
    code = main(["explain", "--no-progress", "--threads", "1", "--model", str(tiny_bert),
                 "--text", text, "--budget", "64", "--max-order", "2", "--heldout", "0",
                 "--method", "proxyspex", "--out", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 0, err
    result = Interactions.load(tmp_path / "interactions.json")
    names = result.feature_names
    assert len(names) == 5 and len(set(names)) == 5
    assert names == ["good[0]", "good[1]'", "movie,", "good[1]", "good[4]"]
    # every name looks up its own feature
    for i, name in enumerate(names):
        assert result[name] == result[i]
    assert (tmp_path / "report.html").exists()
