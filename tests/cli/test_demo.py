"""``python -m interplay.demo`` dispatch: LLM demo by default, tabular with --tabular."""

from __future__ import annotations

from interplay import demo, demo_llm, demo_tabular


def test_demo_dispatch(monkeypatch):
    calls = []
    monkeypatch.setattr(demo_tabular, "main", lambda **kw: calls.append(("tabular", kw)))
    monkeypatch.setattr(demo_llm, "main", lambda argv: calls.append(("llm", argv)) or 0)
    assert demo.main(["--tabular", "--budget", "300"]) == 0
    assert demo.main(["--budget", "50"]) == 0
    assert demo.main(["--tabular"]) == 0
    assert calls == [("tabular", {"budget": 300}), ("llm", ["--budget", "50"]), ("tabular", {})]


def test_demo_llm_prompt_has_20_to_40_word_features():
    from interplay.values.text import TextFeatures

    assert 20 <= TextFeatures.from_text(demo_llm.PROMPT, "word").n_features <= 40
