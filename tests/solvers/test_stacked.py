"""The stacked solver: shared uniform masks, held-out stacking, SPEX for exact sparsity."""

from __future__ import annotations

import numpy as np
import pytest

import interplay
from interplay.metrics import faithfulness, top_removal
from interplay.solvers import BudgetError
from interplay.solvers.near_full import near_full_design
from interplay.solvers.stacked import (
    PATH_MAX_BUDGET,
    PATH_MAX_MASKS,
    PATH_MIN_BUDGET,
    PATH_SHARE,
    Stacked,
    SurrogateFit,
    fit_candidates,
    refit_stack,
    shrink_to_linear,
    uniform_design,
)
from interplay.spectral.interactions import Interactions
from interplay.values.planted import PlantedFunction, random_hierarchical, random_sparse_fourier


class Recorder:
    def __init__(self, f):
        self.f = f
        self.seen: list[np.ndarray] = []

    def __call__(self, masks):
        self.seen.append(np.asarray(masks, dtype=bool).copy())
        return self.f(np.asarray(masks, dtype=bool))

    def masks(self) -> np.ndarray:
        return np.concatenate(self.seen)


def test_a_smaller_budget_draws_a_prefix_of_a_larger_ones_masks():
    small, _ = uniform_design(7, 100, 30)
    large, _ = uniform_design(7, 300, 30)
    np.testing.assert_array_equal(small, large[:100])


def test_queries_the_same_masks_as_proxyspex_with_the_same_seed():
    truth = random_hierarchical(40, 6, max_degree=2, random_state=0)
    ours, theirs = Recorder(PlantedFunction(truth)), Recorder(PlantedFunction(truth))
    interplay.explain(ours, 40, method=Stacked(budget=200, random_state=3, near_share=0.0))
    interplay.explain(theirs, 40, method="proxyspex", budget=200, random_state=3)
    a = np.unique(ours.masks(), axis=0)
    b = np.unique(theirs.masks(), axis=0)
    np.testing.assert_array_equal(a, b)


def test_its_uniform_masks_are_a_prefix_of_proxyspexs_and_the_rest_are_near_full():
    truth = random_hierarchical(40, 6, max_degree=2, random_state=0)
    f = Recorder(PlantedFunction(truth))
    result = interplay.explain(f, 40, method=Stacked(budget=200, random_state=3,
                                                    near_share=0.1))
    queried = np.unique(f.masks(), axis=0)
    assert queried.shape[0] == result.n_queries == 200
    uniform, _ = uniform_design(3, 200, 40)
    seen = {bytes(r) for r in np.packbits(uniform[:180], axis=1)}
    is_uniform = np.array([bytes(np.packbits(m)) in seen for m in queried])
    assert is_uniform.sum() == 180
    near = queried[~is_uniform]  # 1 to max(4, min(16, 40 // 4)) = 10 features removed
    assert near.shape[0] == result.metadata["diagnostics"]["near_full"] == 20
    assert (near.sum(axis=1) >= 30).all() and (near.sum(axis=1) <= 39).all()


def test_recovers_an_additive_function_exactly():
    rng = np.random.default_rng(1)
    weights = rng.normal(size=50) * (rng.random(50) < 0.3)
    truth = Interactions([(), *[(i,) for i in range(50)]], [0.5, *weights], n_features=50,
                         basis="mobius")
    f = PlantedFunction(truth)
    result = interplay.explain(f, 50, method="stacked", budget=300, random_state=0)
    assert faithfulness(result, f, random_state=1).r2 > 0.999


def test_beats_the_first_order_fit_on_hierarchical_interactions():
    truth = random_hierarchical(60, 8, max_degree=3, random_state=4)
    f = PlantedFunction(truth)
    ours = interplay.explain(f, 60, method="stacked", budget=400, max_order=3, random_state=0)
    linear = Stacked(budget=400, max_order=1, random_state=0, candidates=("linear",),
                     exact_sparse=False).fit(interplay.as_value_function(f, 60), 60)
    r2_ours = faithfulness(ours, f, random_state=2).r2
    r2_linear = faithfulness(linear, f, random_state=2).r2
    assert r2_ours > 0.95
    assert r2_ours > r2_linear + 0.02


def test_exactly_sparse_parities_are_solved_by_the_spex_round():
    truth = random_sparse_fourier(60, 6, min_degree=2, max_degree=3, random_state=5)
    f = Recorder(PlantedFunction(truth))
    result = interplay.explain(f, 60, method="stacked", budget=2000, max_order=3,
                               random_state=0)
    assert result.metadata["diagnostics"]["chosen"] == "spex"
    assert result.n_queries <= 2000
    assert faithfulness(result, PlantedFunction(truth), random_state=3).r2 > 0.999


def test_a_dense_function_never_pays_for_the_spex_round():
    truth = random_hierarchical(60, 8, max_degree=2, random_state=6)
    result = interplay.explain(PlantedFunction(truth), 60, method="stacked", budget=1500,
                               max_order=2, random_state=0)
    assert result.metadata["diagnostics"]["spex"] is None
    assert result.n_queries == 1500


def test_held_out_scores_and_weights_are_reported():
    masks, _ = uniform_design(0, 200, 20)
    values = masks[:, 0] * 2.0 + masks[:, 1] * masks[:, 2]
    stack, held_out_r2 = fit_candidates(masks, values.astype(float), max_order=2)
    assert set(held_out_r2) == {"linear", "ridge", "pairs", "orders", "hierarchical", "trees",
                                "proxy"}
    assert stack.cv_r2 > 0.99
    # at most a few per cent of the weight moves to the Lasso when the stack's gain is clear
    assert np.allclose(stack.expansion.predict(masks), values, atol=0.05)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"candidates": ("linear", "magic")}, "candidates"), ({"folds": 1}, "folds"),
     ({"budget": 10}, "at least 20"), ({"near_share": 0.6}, "near_share"),
     ({"near_share": -0.1}, "near_share"), ({"near_share": "some"}, "near_share"),
     ({"path_gate": -0.1}, "path_gate"), ({"path_gate": float("nan")}, "path_gate"),
     ({"path_gate": True}, "path_gate"), ({"path_share": "auto"}, "path_share")],
)
def test_bad_parameters_fail_before_any_query(kwargs, match):
    f = Recorder(PlantedFunction(random_hierarchical(30, 3, random_state=0)))
    with pytest.raises(ValueError, match=match):
        Stacked(**{"budget": 100, **kwargs}).fit(interplay.as_value_function(f, 30), 30)
    assert not f.seen


def test_budget_error_is_a_budget_error():
    with pytest.raises(BudgetError):
        Stacked(budget=5).planned_queries(30)


@pytest.mark.parametrize(("near", "path", "uniform"), [(0.0, 0.0, 800), (0.25, 0.0, 600),
                                                      (0.1, 0.1, 640)])
def test_above_500_masks_the_proxy_candidate_is_proxyspex_alone_on_the_uniform_masks(
        near, path, uniform):
    # the near-full and path masks pooled with the uniform ones must not take its design away
    truth = random_hierarchical(40, 6, max_degree=3, random_state=2)
    f = PlantedFunction(truth)
    ours = Stacked(budget=800, max_order=3, random_state=3, candidates=("proxy",),
                   exact_sparse=False, near_share=near, path_share=path).fit(
        interplay.as_value_function(f, 40), 40)
    assert ours.n_queries == 800
    theirs = interplay.explain(f, 40, method="proxyspex", budget=uniform, max_order=3,
                               random_state=3)
    masks, _ = uniform_design(11, 300, 40)
    np.testing.assert_allclose(ours.predict(masks), theirs.predict(masks), atol=1e-9)


def test_a_function_nothing_explains_gets_its_mean_not_noise():
    # parities on 200 features, far too few masks for SPEX's design: no surrogate beats the mean
    truth = random_sparse_fourier(200, 10, min_degree=3, max_degree=4, random_state=7)
    f = PlantedFunction(truth)
    result = interplay.explain(f, 200, method=Stacked(budget=128, random_state=0,
                                                     near_share=0.0))
    assert result.metadata["diagnostics"]["chosen"] == "mean"
    assert faithfulness(result, f, random_state=4).r2 > -0.02


@pytest.mark.parametrize("candidates", [("orders",), ("pairs", "trees")])
def test_candidates_outside_the_first_rounds_check_still_get_it(candidates):
    # the check of the first round (is there smooth structure, or should SPEX's design run?)
    # fits the given candidates among linear, ridge and proxy: with none of them it fitted
    # nothing, and scipy's nnls on zero columns aborted the interpreter (scipy 1.17)
    truth = random_hierarchical(10, 6, max_degree=3, random_state=0)
    f = PlantedFunction(truth)
    solver = Stacked(budget=750, max_order=4, random_state=0, candidates=candidates)
    if candidates == ("orders",):  # a kernel candidate takes at most 500 masks
        with pytest.warns(UserWarning, match=r"\('orders',\) can be fitted here \(the kernel "
                                             r"ones take at most 500 masks.*the first-order "
                                             r"Lasso stands in"):
            result = interplay.explain(f, 10, method=solver)
        assert result.metadata["diagnostics"]["chosen"] == "1.00·linear"
    else:
        result = interplay.explain(f, 10, method=solver)
    assert result.metadata["diagnostics"]["spex"] is None  # the check ran and found structure
    assert faithfulness(result, f, random_state=4).r2 > 0.85
    with pytest.raises(ValueError, match="at least one"):
        fit_candidates(np.ones((8, 3), dtype=bool), np.arange(8.0), candidates=())


def test_when_no_fold_beats_the_mean_the_lasso_on_all_masks_can():
    # 1 000 features, 48 of them first order, 64 masks: no candidate fitted to 48 of them
    # predicts the other 16, while LassoCV on all 64 finds part of the first-order signal
    from interplay.solvers import stacked

    f = PlantedFunction(random_hierarchical(1000, 20, max_degree=4, random_state=1))

    def fit():
        return interplay.explain(f, 1000, method=Stacked(budget=64, random_state=2))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stacked, "FALLBACK", ("pairs",))
        assert fit().metadata["diagnostics"]["chosen"] == "mean"
    result = fit()
    assert result.metadata["diagnostics"]["chosen"] == "linear"
    assert faithfulness(result, f, random_state=4).r2 > 0.05


def test_on_a_function_uniform_masks_cannot_explain_the_near_full_fit_costs_little():
    # near the full input, removing a feature flips the parities that hold it: a first-order
    # fit explains the near-full masks there, and must not add much noise on uniform ones
    truth = random_sparse_fourier(200, 10, min_degree=3, max_degree=4, random_state=7)
    f = PlantedFunction(truth)
    result = interplay.explain(f, 200, method=Stacked(budget=128, random_state=0,
                                                     near_share=0.1))
    assert result.metadata["diagnostics"]["near_full"] == 13
    assert faithfulness(result, f, random_state=4).r2 > -0.02


@pytest.mark.parametrize("seed", range(6))
def test_a_dense_function_with_a_weak_first_order_part_skips_the_spex_round(seed):
    # 75 features (a review's words), first order ~half the variance, the rest high-order
    # parities: 136 first-round masks must show the smooth part, else SPEX's design is paid
    rng = np.random.default_rng(seed)
    linear = PlantedFunction(Interactions([(), *[(i,) for i in range(75)]],
                                          [0.0, *(0.45 * rng.normal(size=75))],
                                          n_features=75, basis="fourier"))
    parities = PlantedFunction(random_sparse_fourier(75, 40, min_degree=3, max_degree=6,
                                                     random_state=seed))
    result = interplay.explain(lambda m: linear(m) + 0.6 * parities(m), 75, method="stacked",
                               budget=1000, random_state=0)
    assert result.metadata["diagnostics"]["spex"] is None
    assert result.n_queries == 1000


def two_fits(seed: int, size: int, lasso_noise: float, stack_noise: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Held-out predictions (size, 2) of a Lasso and a stack with the given noise, and target."""
    rng = np.random.default_rng(seed)
    target = rng.normal(size=size)
    noise = rng.normal(size=(size, 2)) * [lasso_noise, stack_noise]
    return target[:, None] + noise, target


@pytest.mark.parametrize(("stack_noise", "lasso_weight"), [(0.6, 1.0), (0.05, 0.0)])
def test_a_stack_worse_than_the_lasso_becomes_it_a_much_better_one_stays(stack_noise,
                                                                         lasso_weight):
    preds, target = two_fits(0, 200, 0.5, stack_noise)
    weights = shrink_to_linear(preds, target, np.array([0.0, 1.0]), 0)
    np.testing.assert_allclose(weights[0], lasso_weight, atol=0.15)


def test_a_gain_within_its_standard_error_moves_weight_to_the_lasso():
    rng = np.random.default_rng(1)
    target = rng.normal(size=64)
    errors = rng.normal(scale=0.5, size=(64, 2))  # two equally good fits, independent errors
    gap = errors[:, 0] ** 2 - errors[:, 1] ** 2
    if gap.mean() < 0:  # the stack (column 1) is the one that did better on these masks
        errors, gap = errors[:, ::-1], -gap
    preds = target[:, None] + errors
    t = gap.mean() / (gap.std(ddof=1) / np.sqrt(64))
    weights = shrink_to_linear(preds, target, np.array([0.0, 1.0]), 0)
    np.testing.assert_allclose(weights, [min(1.0, 1 / t), 1 - min(1.0, 1 / t)])
    assert weights[0] > 0.3


def test_at_small_budgets_stacked_is_never_far_below_the_lasso():
    # the benchmark's misses: at 64-250 masks the stack's held-out weights favoured candidates
    # that generalised worse than the plain Lasso on a mostly first-order function
    truth = random_hierarchical(300, 20, max_degree=3, random_state=11)
    f = PlantedFunction(truth)
    for budget in (64, 128):
        ours = interplay.explain(f, 300, method="stacked", budget=budget, random_state=0)
        lasso = Stacked(budget=budget, max_order=1, random_state=0, candidates=("linear",),
                        exact_sparse=False).fit(interplay.as_value_function(f, 300), 300)
        r2_ours = faithfulness(ours, f, random_state=5).r2
        r2_lasso = faithfulness(lasso, f, random_state=5).r2
        assert r2_ours >= r2_lasso - 0.01, (budget, r2_ours, r2_lasso)


def test_the_orders_candidate_is_fitted_only_where_its_terms_are_few():
    rng = np.random.default_rng(8)
    small = rng.random((120, 8)) < 0.5
    large = rng.random((120, 40)) < 0.5

    def f(m: np.ndarray) -> np.ndarray:
        return 2.0 * m[:, :4].all(axis=1) + m[:, 4]

    _, held_small = fit_candidates(small, f(small), candidates=("linear", "orders"), max_order=4)
    _, held_large = fit_candidates(large, f(large), candidates=("linear", "orders"), max_order=4)
    assert held_small["orders"] > held_small["linear"] + 0.1
    assert "orders" not in held_large  # 101 270 terms up to order 4


def test_near_full_masks_find_what_removing_one_feature_does_where_uniform_ones_cannot():
    # six features matter only together (all six kept: +3), a seventh alone (+0.8): uniform
    # masks keep all six once in 64, so a fit to them removes the seventh (-0.8); masks with
    # a few features removed show that removing any one of the six costs 3
    def f(masks):
        masks = np.asarray(masks, dtype=bool)
        return 0.8 * masks[:, 0] + 3.0 * masks[:, 1:7].all(axis=1) + 0.1 * masks[:, 7:].sum(1)

    changes = {}
    for share in (0.0, 0.2):
        result = Stacked(budget=200, max_order=3, random_state=0, near_share=share).fit(
            interplay.as_value_function(f, 30), 30)
        changes[share] = top_removal(result, f, 1).true_change
    assert changes[0.0] == pytest.approx(-0.8)
    assert changes[0.2] == pytest.approx(-3.0)



def test_by_default_no_near_full_masks_and_path_masks_only_from_500_to_1999_queries():
    f = PlantedFunction(random_hierarchical(80, 3, random_state=0))
    for budget in (200, 499, 500, 1000, 1999, 2000):
        solver = Stacked(budget=budget, candidates=("linear",), random_state=0,
                         exact_sparse=False, path_gate=float("inf"))
        result = solver.fit(interplay.as_value_function(f, 80), 80)
        diagnostics = result.metadata["diagnostics"]
        assert diagnostics["near_full"] == 0 and result.n_queries == budget
        planned = (min(round(PATH_SHARE * budget), PATH_MAX_MASKS)
                   if PATH_MIN_BUDGET <= budget < PATH_MAX_BUDGET else 0)
        assert diagnostics["path"] == planned
        assert (diagnostics["path_r2"] is None) == (planned == 0)
        assert (diagnostics["path_gain"] is None) == (planned == 0)


def test_the_default_path_share_gives_way_to_a_large_near_share():
    f = PlantedFunction(random_hierarchical(80, 3, random_state=0))
    diagnostics = Stacked(budget=600, candidates=("linear",), random_state=0, exact_sparse=False,
                          near_share=0.45, path_gate=float("inf")).fit(
        interplay.as_value_function(f, 80), 80).metadata["diagnostics"]
    assert (diagnostics["near_full"], diagnostics["path"]) == (270, 30)


def test_while_uniform_r2_climbs_steeply_the_gate_queries_the_path_masks_uniformly():
    # 200 features, a first-order part the Lasso needs most of 500 masks to find: held-out
    # R² on the first half of the first round is far below that on all of it
    f = PlantedFunction(random_hierarchical(200, 60, max_degree=1, random_state=1))
    runs = {}
    for gate in (0.0, float("inf")):
        recorder = Recorder(f)
        result = Stacked(budget=500, candidates=("linear",), random_state=0,
                         exact_sparse=False, path_gate=gate).fit(
            interplay.as_value_function(recorder, 200), 200)
        runs[gate] = (result, np.unique(recorder.masks(), axis=0))
    gated, kept = runs[0.0][0].metadata["diagnostics"], runs[float("inf")][0].metadata[
        "diagnostics"]
    assert gated["path_gain"] == pytest.approx(kept["path_gain"]) and gated["path_gain"] > 0
    assert gated["path"] == 0 and kept["path"] == 75
    uniform, _ = uniform_design(0, 500, 200)
    np.testing.assert_array_equal(np.unique(uniform, axis=0), runs[0.0][1])
    assert runs[0.0][0].n_queries == runs[float("inf")][0].n_queries == 500


def test_path_masks_in_three_rounds_spend_their_share_exactly_beside_near_full_ones():
    f = PlantedFunction(random_hierarchical(80, 3, random_state=0))
    result = Stacked(budget=1000, candidates=("linear",), random_state=0, exact_sparse=False,
                     near_share=0.35, path_share=0.15).fit(interplay.as_value_function(f, 80), 80)
    diagnostics = result.metadata["diagnostics"]
    assert (diagnostics["near_full"], diagnostics["path"]) == (350, 150)
    assert result.n_queries == 1000 and -1.0 < diagnostics["path_r2"] <= 1.0


def test_each_round_of_path_masks_follows_the_removal_path_of_the_fit_before_it():
    # six features matter only together (all six kept: +3), a seventh alone (+0.8): uniform
    # masks keep all six once in 64, so the fit to them removes the seventh first; its path
    # holds some of the six, and masks around it show that removing any one of them costs 3
    def f(masks):
        masks = np.asarray(masks, dtype=bool)
        return 0.8 * masks[:, 0] + 3.0 * masks[:, 1:7].all(axis=1) + 0.1 * masks[:, 7:].sum(1)

    for seed in (0, 2):
        changes = {}
        for rounds in (None, 1, 3):
            solver = Stacked(budget=500, max_order=3, random_state=seed,
                             **({"path_share": 0.0} if rounds is None else
                                {"path_share": 0.15, "path_rounds": rounds}))
            recorder = Recorder(f)
            result = solver.fit(interplay.as_value_function(recorder, 30), 30)
            changes[rounds] = top_removal(result, f, 1).true_change
            if rounds == 3:  # the last round's masks remove features of one path only
                last = recorder.seen[-1]
                assert last.shape[0] == 21 and (~last).any(axis=0).sum() <= 30 // 4
        assert changes[None] == pytest.approx(-0.8)
        assert changes[1] == changes[3] == pytest.approx(-3.0)


def test_path_masks_spend_the_budget_exactly_reproducibly_and_remove_path_features_only():
    truth = random_hierarchical(40, 6, max_degree=2, random_state=0)
    results, queried = [], []
    for _ in range(2):
        f = Recorder(PlantedFunction(truth))
        results.append(Stacked(budget=300, max_order=2, random_state=3, near_share=0.1,
                               path_share=0.1, exact_sparse=False).fit(
            interplay.as_value_function(f, 40), 40))
        queried.append(np.unique(f.masks(), axis=0))
    first, second = results
    np.testing.assert_array_equal(queried[0], queried[1])
    np.testing.assert_allclose(first.predict(queried[0]), second.predict(queried[0]))
    diagnostics = first.metadata["diagnostics"]
    assert queried[0].shape[0] == first.n_queries == 300
    assert diagnostics["near_full"] == 30 and diagnostics["path"] == 30
    uniform, _ = uniform_design(3, 300, 40)
    near = near_full_design(3, 30, 40, exclude=uniform[:240])
    known = {bytes(r) for r in np.packbits(np.vstack([uniform[:240], near]), axis=1)}
    path = np.array([m for m in queried[0] if bytes(np.packbits(m)) not in known])
    assert path.shape[0] == 30  # the rest: each removes some of the same min(16, 40 // 4)
    assert 1 <= (~path).sum(axis=1).min() and (~path).any(axis=0).sum() <= 10


@pytest.mark.parametrize(("near", "path"), [(0.3, 0.3), (0.0, 0.6), (0.0, -0.1)])
def test_shares_over_half_the_budget_are_refused_before_any_query(near, path):
    calls = []
    solver = Stacked(budget=200, near_share=near, path_share=path)
    with pytest.raises(ValueError, match="share"):
        solver.fit(interplay.as_value_function(lambda m: calls.append(1) or np.zeros(len(m)),
                                               20), 20)
    assert not calls


@pytest.mark.parametrize(("n", "budget", "path"),
                         [(80, 500, 50), (80, 1000, 100), (30, 1000, 64), (12, 1500, 2)])
def test_a_tenth_on_the_removal_path_is_spent_exactly_even_when_few_path_masks_exist(
        n, budget, path):
    # n = 30 (12): a path of 30 // 4 = 7 (3) features has 127 (7) non-empty subsets; at most
    # half are asked for (n = 12: 2 of those 3 not already among the 1 496 uniform masks),
    # and the rest of the budget stays with the uniform masks
    f = PlantedFunction(random_hierarchical(n, 3, random_state=0))
    result = Stacked(budget=budget, candidates=("linear",), random_state=0, path_share=0.1,
                     exact_sparse=False).fit(interplay.as_value_function(f, n), n)
    assert result.metadata["diagnostics"]["path"] == path
    assert result.n_queries == budget


def test_a_stack_refitted_keeps_its_weights_and_to_its_own_masks_is_itself():
    truth = random_hierarchical(20, 6, max_degree=2, random_state=1)
    masks, _ = uniform_design(0, 300, 20)
    values = PlantedFunction(truth)(masks)
    stack, _ = fit_candidates(masks[:200], values[:200], max_order=2, random_state=0)
    again = refit_stack(masks[:200], values[:200], stack, max_order=2, random_state=0)
    test, _ = uniform_design(9, 100, 20)
    np.testing.assert_allclose(again.expansion.predict(test), stack.expansion.predict(test))
    more = refit_stack(masks, values, stack, max_order=2, random_state=0)
    assert more.weights == stack.weights and more.cv_r2 == stack.cv_r2
    assert not np.allclose(more.expansion.predict(test), stack.expansion.predict(test))
    mean = SurrogateFit("mean", stack.expansion, 0.0)
    assert refit_stack(masks, values, mean).expansion.predict(test) == pytest.approx(
        np.full(100, values.mean()))
