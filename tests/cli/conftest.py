"""Fixtures of the command-line tests: tiny models saved to disk, and a guard that fails a
test when the model is loaded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    pytest.importorskip("transformers")
    from interplay.models.tiny import build_tiny_causal_lm

    return build_tiny_causal_lm(tmp_path_factory.mktemp("llama"), arch="llama")


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    pytest.importorskip("transformers")
    from interplay.models.tiny import build_tiny_classifier

    return build_tiny_classifier(tmp_path_factory.mktemp("bert"))


@pytest.fixture()
def no_model_load(monkeypatch):
    """Fail the test if the model is loaded: these errors must come before."""
    from interplay.cli import explain_cmd

    def refuse(args):
        raise AssertionError("the model was loaded before the bad argument was found")

    monkeypatch.setattr(explain_cmd, "load_model", refuse)
