"""Attention-head value functions on tiny random GPT-2 and Llama models built here."""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from interplay.spectral.interactions import Interactions
from interplay.values.heads import (
    AttentionHeadValue,
    find_attention_heads,
    marginal_removal_order,
    pruning_curve,
    surrogate_removal_order,
)

VOCAB = 40
EXAMPLES = [([1, 2, 3], [4, 5]), ([7, 8, 9, 10, 11], [12]), ([3], [2, 6, 2])]


def _build(family: str, path) -> torch.nn.Module:
    torch.manual_seed(0)
    if family == "gpt2":
        config = transformers.GPT2Config(
            n_layer=2,
            n_head=2,
            n_embd=16,
            vocab_size=VOCAB,
            n_positions=32,
            bos_token_id=0,
            eos_token_id=0,
        )
        model = transformers.GPT2LMHeadModel(config)
    else:
        config = transformers.LlamaConfig(
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            hidden_size=32,
            intermediate_size=48,
            vocab_size=VOCAB,
            max_position_embeddings=32,
            bos_token_id=0,
            eos_token_id=0,
        )
        model = transformers.LlamaForCausalLM(config)
    model.save_pretrained(path)
    return transformers.AutoModelForCausalLM.from_pretrained(path).eval()


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def model(request, tmp_path_factory):
    return _build(request.param, tmp_path_factory.mktemp(request.param))


def _oracle_score(model, examples, score="logprob") -> float:
    """Each example on its own, through the plain model, full logits."""
    out = []
    with torch.inference_mode():
        for prompt, answer in examples:
            ids = torch.tensor([prompt + answer])
            logits = model(input_ids=ids).logits[0].float()
            pos = torch.arange(len(prompt) - 1, len(prompt) + len(answer) - 1)
            target = torch.tensor(answer)
            if score == "logprob":
                out.append(
                    float(
                        torch.log_softmax(logits[pos], -1)[torch.arange(len(answer)), target].sum()
                    )
                )
            elif score == "accuracy":
                out.append(float((logits[pos].argmax(-1) == target).all()))
            else:  # margin: the smallest (answer logit - best other logit) over answer tokens
                rows = logits[pos]
                answer_logit = rows[torch.arange(len(answer)), target]
                rows[torch.arange(len(answer)), target] = -float("inf")
                out.append(float((answer_logit - rows.max(-1).values).min()))
    return float(np.mean(out))


def _zero_heads(model, heads: list[tuple[int, int]]):
    """A copy of the model whose output projections ignore the given heads (weights zeroed)."""
    clone = copy.deepcopy(model)
    sites = {s.layer: s for s in find_attention_heads(clone)}
    with torch.no_grad():
        for layer, head in heads:
            site = sites[layer]
            cols = slice(head * site.head_dim, (head + 1) * site.head_dim)
            weight = site.module.weight
            if type(site.module).__name__ == "Conv1D":
                weight[cols, :] = 0.0  # GPT-2 Conv1D weight is (in, out)
            else:
                weight[:, cols] = 0.0
    return clone


def test_sites_found(model):
    sites = find_attention_heads(model)
    assert [s.layer for s in sites] == [0, 1]
    expected_heads = model.config.num_attention_heads
    assert all(s.n_heads == expected_heads for s in sites)
    value = AttentionHeadValue(model, EXAMPLES)
    assert value.n_features == 2 * expected_heads
    assert value.feature_names[expected_heads] == "L1.H0"
    only_last = AttentionHeadValue(model, EXAMPLES, layers=[-1])
    assert only_last.n_features == expected_heads
    assert only_last.feature_names[0] == "L1.H0"


def test_no_mask_reproduces_unmasked_model_exactly(model):
    value = AttentionHeadValue(model, EXAMPLES)
    ones = np.ones((1, value.n_features), dtype=bool)
    assert value(ones)[0] == value.unmasked_score()  # bit-for-bit: a gate of 1 is exact
    # and agrees with scoring each example alone through the plain model
    assert value(ones)[0] == pytest.approx(_oracle_score(model, EXAMPLES), abs=1e-5)
    # the hooks are removed after the call
    assert all(not s.module._forward_pre_hooks for s in value.sites)


def test_masking_a_layer_changes_output_and_matches_zeroed_weights(model):
    value = AttentionHeadValue(model, EXAMPLES)
    h = model.config.num_attention_heads
    masks = np.ones((3, value.n_features), dtype=bool)
    masks[0, :h] = False  # all heads of layer 0
    masks[1, h:] = False  # all heads of layer 1
    masks[2, [0, h + 1]] = False  # one head in each layer
    got = value(masks)
    base = value.unmasked_score()
    assert abs(got[0] - base) > 1e-4
    assert abs(got[1] - base) > 1e-4
    oracles = [
        [(0, j) for j in range(h)],
        [(1, j) for j in range(h)],
        [(0, 0), (1, 1)],
    ]
    for row, heads in enumerate(oracles):
        expected = _oracle_score(_zero_heads(model, heads), EXAMPLES)
        assert got[row] == pytest.approx(expected, abs=1e-5)


def test_batched_masks_match_one_at_a_time(model):
    rng = np.random.default_rng(1)
    value = AttentionHeadValue(model, EXAMPLES, batch_size=7)  # 2 masks per forward pass
    masks = rng.random((9, value.n_features)) < 0.5
    together = value(masks)
    alone = np.array([value(m[None, :])[0] for m in masks])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert np.unique(np.round(together, 6)).size > 1


@pytest.mark.parametrize("score", ["accuracy", "margin"])
def test_other_scores_match_the_plain_model(model, score):
    value = AttentionHeadValue(model, EXAMPLES, score=score)
    h = model.config.num_attention_heads
    masks = np.ones((2, value.n_features), dtype=bool)
    masks[1, :h] = False
    got = value(masks)
    zeroed = _zero_heads(model, [(0, j) for j in range(h)])
    assert got[0] == pytest.approx(_oracle_score(model, EXAMPLES, score), abs=1e-5)
    assert got[1] == pytest.approx(_oracle_score(zeroed, EXAMPLES, score), abs=1e-5)
    if score == "accuracy":
        assert set(np.round(got * 3).tolist()) <= {0.0, 1.0, 2.0, 3.0}


def test_example_scores_come_from_one_forward_and_average_to_the_value(model):
    rng = np.random.default_rng(3)
    value = AttentionHeadValue(model, EXAMPLES, score="margin")
    masks = rng.random((4, value.n_features)) < 0.5
    masks[0] = True
    per_example = value.example_scores(masks)
    assert set(per_example) == {"logprob", "accuracy", "margin"}
    assert all(a.shape == (4, len(EXAMPLES)) for a in per_example.values())
    np.testing.assert_allclose(per_example["margin"].mean(axis=1), value(masks))
    np.testing.assert_array_equal(per_example["accuracy"], per_example["margin"] > 0)
    for name in ("logprob", "accuracy"):
        other = AttentionHeadValue(model, EXAMPLES, score=name)
        np.testing.assert_allclose(per_example[name].mean(axis=1), other(masks), atol=1e-6)
        assert per_example[name][0].mean() == pytest.approx(
            _oracle_score(model, EXAMPLES, name), abs=1e-5
        )


def test_bad_input(model):
    with pytest.raises(ValueError, match="tokenizer"):
        AttentionHeadValue(model, [("a prompt", " answer")])
    with pytest.raises(ValueError, match="score"):
        AttentionHeadValue(model, EXAMPLES, score="loss")
    with pytest.raises(ValueError, match="layer"):
        AttentionHeadValue(model, EXAMPLES, layers=[5])
    with pytest.raises(ValueError, match="empty"):
        AttentionHeadValue(model, [([1, 2], [])])
    value = AttentionHeadValue(model, EXAMPLES)
    with pytest.raises(ValueError, match="shape"):
        value(np.ones((2, value.n_features + 1), dtype=bool))


def test_fingerprint_depends_on_eval_set(model):
    a = AttentionHeadValue(model, EXAMPLES)
    b = AttentionHeadValue(model, EXAMPLES[:2])
    assert a.fingerprint() == AttentionHeadValue(model, EXAMPLES).fingerprint()
    assert a.fingerprint() != b.fingerprint()


# ------------------------------------------------------------------ pruning study
def _and_pair_function() -> Interactions:
    # f(m) = 3·[m0 and m1] + 1.0·m2 + 0.5·m3: heads 0 and 1 only matter together.
    return Interactions([(0, 1), (2,), (3,)], [3.0, 1.0, 0.5], n_features=5, basis="mobius")


def test_surrogate_order_keeps_the_interacting_pair():
    truth = _and_pair_function()
    order = surrogate_removal_order(truth)
    assert sorted(order.tolist()) == list(range(5))
    assert order[0] == 4  # the useless feature goes first
    assert set(order[-2:].tolist()) == {0, 1}  # the pair is the last thing removed
    # marginal scores (Banzhaf: 1.5, 1.5, 1, 0.5, 0) also keep the pair longest here,
    # but a surrogate removal order is by construction optimal step by step on its surrogate:
    curve = pruning_curve(truth.predict, order, np.arange(6))
    np.testing.assert_allclose(curve, [0.0, 0.0, 3.0, 4.0, 4.5, 4.5])


def test_surrogate_beats_marginal_when_pair_is_redundant():
    # f = [m0 or m1]·4 + 1.5·m2 + 1.4·m3: redundant pair; each alone has Banzhaf value 1.
    # Marginal removal drops 0 and 1 first (lowest scores) and loses 4; the surrogate keeps one.
    truth = Interactions(
        [(0,), (1,), (0, 1), (2,), (3,)], [4.0, 4.0, -4.0, 1.5, 1.4], n_features=4, basis="mobius"
    )
    banzhaf = truth.banzhaf_values()
    np.testing.assert_allclose(banzhaf, [2.0, 2.0, 1.5, 1.4])
    marginal = marginal_removal_order(banzhaf)
    greedy = surrogate_removal_order(truth)
    kept = np.array([2])
    assert pruning_curve(truth.predict, greedy, kept)[0] == pytest.approx(5.5)
    assert pruning_curve(truth.predict, marginal, kept)[0] == pytest.approx(4.0)


def test_pruning_curve_masks_and_errors():
    seen = []

    def f(masks):
        seen.append(masks.copy())
        return masks.sum(axis=1).astype(float)

    order = np.array([2, 0, 1])
    assert pruning_curve(f, order, [3, 2, 0]).tolist() == [3.0, 2.0, 0.0]
    np.testing.assert_array_equal(seen[0], [[1, 1, 1], [1, 1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="permutation"):
        pruning_curve(f, [0, 0, 1], [1])
    with pytest.raises(ValueError, match="n_kept"):
        pruning_curve(f, order, [4])
    with pytest.raises(ValueError, match="scores"):
        marginal_removal_order(np.zeros((2, 2)))


def test_surrogate_ties_broken_by_secondary_scores():
    # Only features 0 and 1 appear in the surrogate; 2, 3, 4 tie, and the secondary scores
    # decide their order (smallest first), before the surrogate's own choice among 0 and 1.
    truth = Interactions([(0,), (1,)], [2.0, 1.0], n_features=5, basis="mobius")
    assert surrogate_removal_order(truth).tolist() == [2, 3, 4, 1, 0]
    order = surrogate_removal_order(truth, tie_break=[0.0, 0.0, 5.0, -1.0, 3.0])
    assert order.tolist() == [3, 4, 2, 1, 0]
    with pytest.raises(ValueError, match="tie_break"):
        surrogate_removal_order(truth, tie_break=[1.0])


def test_plain_logits_path_agrees(model):
    """Models that post-process logits take the full-forward path; same numbers here."""
    fast = AttentionHeadValue(model, EXAMPLES)
    masks = np.ones((2, fast.n_features), dtype=bool)
    masks[1, 0] = False
    expected = fast(masks)
    model.config.final_logit_softcapping = 50.0  # ignored by GPT-2/Llama forwards
    try:
        plain = AttentionHeadValue(model, EXAMPLES)(masks)
    finally:
        model.config.final_logit_softcapping = None
    np.testing.assert_allclose(plain, expected, atol=1e-5)


def test_fingerprint_depends_on_weights(model):
    value = AttentionHeadValue(model, EXAMPLES)
    changed = _zero_heads(model, [(0, 0)])
    assert value.fingerprint() != AttentionHeadValue(changed, EXAMPLES).fingerprint()
