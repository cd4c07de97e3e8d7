"""The default method of explain(), explain_text() and ``interplay explain``: stacked.

Whatever the default must handle, checked on the default itself (no ``method=``): the exact
path at tiny n (brute force is the oracle), budgets below its smallest design, ``budget=None``,
q-ary requests (stacked is binary), the query engine's cache, and the displays.
"""

from __future__ import annotations

import numpy as np
import pytest

import interplay
from interplay import BudgetError
from interplay.cli import build_parser
from interplay.cli.explain_cmd import default_method
from interplay.solvers import DEFAULT_BUDGET, DEFAULT_METHOD, get_solver
from interplay.spectral.transforms import fwht
from interplay.values.planted import random_sparse_fourier


class CountingTable:
    """f(mask) = table[code(mask)], counting the masks it is asked for."""

    def __init__(self, table: np.ndarray) -> None:
        self.table = table
        self.queries = 0

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        self.queries += len(masks)
        codes = masks.astype(np.int64) @ (1 << np.arange(masks.shape[1]))
        return self.table[codes]


def test_the_default_is_stacked_everywhere(capsys):
    assert DEFAULT_METHOD == "stacked" == default_method()
    truth = random_sparse_fourier(30, 4, max_degree=2, random_state=0)
    result = interplay.explain(truth.predict, 30, budget=200, random_state=0)
    assert result.method == "stacked" and result.n_queries == 200
    assert "chosen" in result.metadata["diagnostics"]
    parser = build_parser()
    args = parser.parse_args(["explain", "--text", "a b"])
    assert (args.method or default_method()) == "stacked"
    with pytest.raises(SystemExit):
        parser.parse_args(["explain", "--help"])
    assert "solver (default: stacked)" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_n_is_exact_with_the_default_budget(n):
    table = np.random.default_rng(n).normal(size=2**n)
    f = CountingTable(table)
    result = interplay.explain(f, n)
    assert result.metadata["exact"] and result.method == "stacked"
    assert f.queries == result.n_queries == 2**n
    dense = np.zeros(2**n)
    codes = result.support_matrix().astype(np.int64) @ (1 << np.arange(n))
    dense[codes] = result.coefficients
    np.testing.assert_allclose(dense, fwht(table), atol=1e-12)


@pytest.mark.parametrize(("n", "budget"), [(3, 8), (4, 16), (3, 19)])
def test_a_budget_below_the_design_that_covers_every_mask_is_exact(n, budget):
    table = np.random.default_rng(0).normal(size=2**n)
    result = interplay.explain(CountingTable(table), n, budget=budget)
    assert result.metadata["exact"] and result.n_queries == 2**n


@pytest.mark.parametrize(("n", "budget"), [(3, 5), (10, 10), (10, 19)])
def test_a_budget_below_the_design_is_refused_before_any_query(n, budget):
    f = CountingTable(np.zeros(2**n))
    with pytest.raises(BudgetError, match="stacked needs at least 20 distinct random masks") \
            as info:
        interplay.explain(f, n, budget=budget)
    assert f"2^{n} = {2**n}" in str(info.value)
    assert f.queries == 0


def test_no_budget_means_the_default_budget():
    truth = random_sparse_fourier(12, 4, max_degree=2, random_state=1)
    result = interplay.explain(truth.predict, 12, budget=None, random_state=0)
    assert result.n_queries == DEFAULT_BUDGET < 2**12
    assert "exact" not in result.metadata


def test_qary_features_are_refused_in_one_line_naming_qsft():
    f = CountingTable(np.zeros(2**6))
    with pytest.raises(ValueError, match=r"^method 'stacked' works on binary features "
                                         r"\(q=2\), got q=3; for features with q > 2 "
                                         r"states use method='qsft'$") as info:
        interplay.explain(f, 6, q=3)
    assert "\n" not in str(info.value) and f.queries == 0
    assert get_solver("stacked")().alphabet_size() == 2


def test_q_equal_two_is_the_binary_default():
    truth = random_sparse_fourier(8, 3, max_degree=2, random_state=2)
    result = interplay.explain(truth.predict, 8, q=2, budget=256)
    assert result.metadata["exact"] and result.allclose(truth, atol=1e-9)


def test_explain_text_shares_the_default():
    from interplay.models.base import FunctionClassifier

    def logits(texts):
        return np.array([[0.0, 2.0 * ("good" in t) - 1.0 * ("bad" in t)] for t in texts])

    clf = FunctionClassifier(logits, labels=["negative", "positive"], name="toy")
    result = interplay.explain_text(clf, "good film. bad end. long.", budget=8)
    assert result.method == DEFAULT_METHOD


def test_the_engine_cache_serves_a_rerun_of_the_default(tmp_path):
    truth = random_sparse_fourier(40, 6, max_degree=2, random_state=4)
    options = {"cache_dir": str(tmp_path / "cache"), "fingerprint": "planted-40"}
    first = interplay.explain(truth.predict, 40, budget=300, random_state=0, engine=options)
    again = interplay.explain(truth.predict, 40, budget=300, random_state=0, engine=options)
    assert first.metadata["engine"]["n_evaluated"] == 300
    assert again.metadata["engine"]["n_evaluated"] == 0
    assert again.allclose(first, atol=0.0)


def test_the_default_result_displays_and_saves(tmp_path):
    truth = random_sparse_fourier(16, 4, max_degree=2, random_state=5)
    result = interplay.explain(truth.predict, 16, budget=120, random_state=0)
    assert "method stacked" in result._repr_html_()
    loaded = interplay.Interactions.load(result.save(tmp_path / "r.json"))
    assert loaded.method == "stacked" and loaded.allclose(result, atol=0.0)
