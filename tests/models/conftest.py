"""Tiny random transformers saved to disk once per session, loaded back by path."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory):
    from interplay.models.tiny import build_tiny_causal_lm

    return build_tiny_causal_lm(tmp_path_factory.mktemp("gpt2"), arch="gpt2")


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory):
    from interplay.models.tiny import build_tiny_causal_lm

    return build_tiny_causal_lm(tmp_path_factory.mktemp("llama"), arch="llama")


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    from interplay.models.tiny import build_tiny_classifier

    return build_tiny_classifier(tmp_path_factory.mktemp("bert"))
