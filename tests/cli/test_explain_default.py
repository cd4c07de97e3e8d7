"""``interplay explain`` without ``--method``: the library's default, stacked, end to end."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from cli_support import one_error_line, run_explain

from interplay.spectral.interactions import Interactions

WORDS = " ".join(f"w{i}" for i in range(12))


def test_no_method_runs_stacked_and_says_so(tiny_bert, tmp_path, capsys):
    code, out, err = run_explain(["--model", tiny_bert, "--text", WORDS, "--budget", 64,
                                  "--max-order", 2, "--heldout", 8, "--out", tmp_path], capsys)
    assert code == 0, err
    assert "method stacked, budget 64, max order 2" in err
    assert out.startswith("\nExplained: ") and "64 queries" in out
    result = Interactions.load(tmp_path / "interactions.json")
    assert result.method == "stacked" and result.n_queries == 64
    assert "chosen" in result.metadata["diagnostics"]
    assert "<b>method</b> stacked" in (tmp_path / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("budget", [1, 10, 19])
def test_a_budget_below_the_default_design_is_one_line_before_the_model_loads(
        budget, tmp_path, capsys, no_model_load):
    code, out, err = run_explain(["--text", WORDS, "--budget", budget, "--out", tmp_path],
                                 capsys)
    assert code == 2 and out == ""
    line = one_error_line(err)
    assert "stacked needs at least 20 distinct random masks" in line
    assert "2^12 = 4096" in line
