"""Attention heads as features: a mask switches heads off, the value is a task score.

Every attention layer of a GPT-2/Llama-style transformer ends in an output projection
(``attn.c_proj`` in GPT-2, ``self_attn.o_proj`` in Llama, Mistral, Qwen, SmolLM; ``out_proj`` or
``dense`` elsewhere) whose input is the concatenation of the per-head outputs, a
(batch, seq, n_heads·head_dim) tensor. A forward pre-hook on that projection multiplies the
tensor by a per-row head gate of shape (batch, 1, n_heads·head_dim): a gate of 0 removes that
head's contribution to the residual stream and a gate of 1 leaves the computation bit-for-bit
unchanged. Because the gate is per row, a batch of different masks runs in one forward pass
(the evaluation set is repeated once per mask).

The value of a mask is a score over a small evaluation set of (prompt, answer) pairs:
``"logprob"``, the mean over examples of log p(answer | prompt) (summed over answer tokens);
``"accuracy"``, the fraction of examples whose every answer token is the model's greedy
prediction (teacher forced); or ``"margin"``, the mean over examples of the smallest logit
margin ``z_answer − max_{other} z`` among the answer tokens (positive exactly when the example
is answered correctly). :meth:`AttentionHeadValue.example_scores` returns all three per
example from the same forward passes.

The module also provides the pruning study of the issue: removal orders from an interaction
surrogate (:func:`surrogate_removal_order`) or from marginal scores
(:func:`marginal_removal_order`), and :func:`pruning_curve` to measure the true task score as
heads are removed in that order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np

from interplay.spectral.interactions import Interactions
from interplay.values.base import check_masks

__all__ = [
    "SCORES",
    "AttentionHeadValue",
    "HeadSite",
    "find_attention_heads",
    "marginal_removal_order",
    "pruning_curve",
    "surrogate_removal_order",
]

Score = Literal["logprob", "accuracy", "margin"]
#: Valid ``score=`` names.
SCORES: tuple[str, ...] = get_args(Score)

#: Attribute names tried, in order, for a layer's attention block and its output projection.
_ATTENTION_NAMES = ("self_attn", "attn", "attention", "self_attention")
_PROJECTION_NAMES = ("o_proj", "c_proj", "out_proj", "dense")


@dataclass(frozen=True)
class HeadSite:
    """The output projection of one attention layer, where its heads are gated.

    Attributes
    ----------
    layer : int
        Index of the transformer layer.
    module : torch.nn.Module
        The projection whose input is the concatenation of the head outputs.
    n_heads : int
        Number of (query) heads of the layer.
    head_dim : int
        Width of each head's output; the projection input has ``n_heads * head_dim`` channels.
    """

    layer: int
    module: Any
    n_heads: int
    head_dim: int


def _config_value(config: Any, names: Sequence[str]) -> int | None:
    for name in names:
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def _layer_list(model: Any, n_layers: int | None) -> Any:
    from torch import nn

    for path in (
        "transformer.h",
        "model.layers",
        "gpt_neox.layers",
        "model.decoder.layers",
        "layers",
        "h",
    ):
        obj = model
        for part in path.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                break
        if isinstance(obj, nn.ModuleList) and len(obj) > 0:
            return obj
    for _, module in model.named_modules():
        if (
            isinstance(module, nn.ModuleList)
            and len(module) > 0
            and (n_layers is None or len(module) == n_layers)
        ):
            return module
    raise ValueError(
        f"could not find the transformer layers of {type(model).__name__}; "
        "pass sites=[HeadSite(...)] explicitly"
    )


def _in_width(module: Any) -> int | None:
    in_features = getattr(module, "in_features", None)
    if isinstance(in_features, int):
        return in_features
    weight = getattr(module, "weight", None)
    if weight is not None and weight.ndim == 2 and type(module).__name__ == "Conv1D":
        return int(weight.shape[0])  # GPT-2's Conv1D stores weight as (in, out)
    return None


def find_attention_heads(model: Any, layers: Sequence[int] | None = None) -> list[HeadSite]:
    """Locate the attention output projections of a Hugging Face transformer.

    Works for GPT-2 (``transformer.h[i].attn.c_proj``), Llama-style models
    (``model.layers[i].self_attn.o_proj``: Llama, Mistral, Qwen2, SmolLM, Gemma), GPT-NeoX
    (``attention.dense``) and other models that follow these names.

    Parameters
    ----------
    model : torch.nn.Module
        A transformer (a ``*ForCausalLM`` or its base model).
    layers : sequence of int, optional
        Layers to include (negative indices count from the end); default all.

    Returns
    -------
    list of HeadSite
        One per selected layer, in layer order.
    """
    config = getattr(model, "config", None)
    n_heads = _config_value(config, ("num_attention_heads", "n_head", "num_heads"))
    n_layers = _config_value(config, ("num_hidden_layers", "n_layer", "num_layers"))
    blocks = _layer_list(model, n_layers)
    total = len(blocks)
    if layers is None:
        chosen = list(range(total))
    else:
        chosen = []
        for layer in layers:
            i = int(layer)
            if not -total <= i < total:
                raise ValueError(f"layer {layer} outside the model's {total} layers")
            chosen.append(i % total)
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"layers {list(layers)} contain duplicates")
        chosen.sort()
        if not chosen:
            raise ValueError("layers must name at least one layer")
    sites = []
    for i in chosen:
        block = blocks[i]
        attn = next((getattr(block, a) for a in _ATTENTION_NAMES if hasattr(block, a)), None)
        proj = None
        if attn is not None:
            proj = next((getattr(attn, p) for p in _PROJECTION_NAMES if hasattr(attn, p)), None)
        if proj is None:
            raise ValueError(
                f"layer {i} of {type(model).__name__} has no recognised attention output "
                f"projection ({'/'.join(_PROJECTION_NAMES)}); pass sites= explicitly"
            )
        heads = getattr(attn, "num_heads", None) or getattr(attn, "num_attention_heads", None)
        heads = int(heads) if isinstance(heads, int) and heads > 0 else n_heads
        width = _in_width(proj)
        head_dim = getattr(attn, "head_dim", None)
        if heads is None and width is not None and isinstance(head_dim, int):
            heads = width // head_dim
        if heads is None:
            raise ValueError(f"cannot tell the number of heads of layer {i}; pass sites=")
        if not isinstance(head_dim, int) or head_dim <= 0:
            if width is None or width % heads:
                raise ValueError(f"cannot tell the head width of layer {i}; pass sites=")
            head_dim = width // heads
        if width is not None and width != heads * head_dim:
            raise ValueError(
                f"layer {i}: projection input width {width} != {heads} heads × {head_dim}"
            )
        sites.append(HeadSite(layer=i, module=proj, n_heads=int(heads), head_dim=int(head_dim)))
    return sites


def _encode_examples(
    examples: Sequence[tuple[Any, Any]], tokenizer: Any
) -> list[tuple[list[int], list[int]]]:
    if len(examples) == 0:
        raise ValueError("the evaluation set is empty")
    out = []
    for row, example in enumerate(examples):
        try:
            prompt, answer = example
        except (TypeError, ValueError):
            raise ValueError(f"example {row} is not a (prompt, answer) pair") from None
        if (isinstance(prompt, str) or isinstance(answer, str)) and tokenizer is None:
            raise ValueError("text examples need a tokenizer (or pass token-id lists)")
        if isinstance(prompt, str):
            prompt = tokenizer(prompt, add_special_tokens=True)["input_ids"]
        if isinstance(answer, str):
            answer = tokenizer(answer, add_special_tokens=False)["input_ids"]
        prompt = [int(t) for t in prompt]
        answer = [int(t) for t in answer]
        if not prompt or not answer:
            raise ValueError(f"example {row} has an empty prompt or answer")
        out.append((prompt, answer))
    return out


class AttentionHeadValue:
    """Value function over the attention heads of a transformer.

    Feature ``j`` is one head; masks (N, n) bool keep the heads that are True. The value is a
    task score over a fixed evaluation set, computed with the other heads zeroed.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A causal language model (GPT-2 or Llama-style), already loaded; it is put in eval
        mode and never modified (hooks live only during a call).
    examples : sequence of (prompt, answer)
        The evaluation set. Each element is a string (needs ``tokenizer``) or a list of token
        ids. The answer is scored given the prompt; give it its leading space (``" Paris"``).
    tokenizer : transformers tokenizer, optional
        Needed for text examples.
    layers : sequence of int, optional
        Layers whose heads are features (default: all layers).
    score : {"logprob", "accuracy", "margin"}
        ``"logprob"``: mean over examples of the summed log-probabilities of the answer
        tokens. ``"accuracy"``: fraction of examples whose answer tokens are all greedy
        predictions. ``"margin"``: mean over examples of the smallest logit margin
        ``z_answer − max_{other} z`` among the answer tokens.
    batch_size : int
        Sequences per forward pass (masks × examples).
    sites : list of HeadSite, optional
        Explicit gate points, for models :func:`find_attention_heads` does not know.

    Attributes
    ----------
    n_features : int
        Number of heads n (Σ heads of the chosen layers).
    heads : (n, 2) int array
        (layer, head) of each feature.
    feature_names : list of str
        ``"L{layer}.H{head}"``.
    n_calls, n_rows : int
        Calls received and masks evaluated.
    """

    def __init__(
        self,
        model: Any,
        examples: Sequence[tuple[Any, Any]],
        *,
        tokenizer: Any = None,
        layers: Sequence[int] | None = None,
        score: Score = "logprob",
        batch_size: int = 64,
        sites: Sequence[HeadSite] | None = None,
    ) -> None:
        import torch

        if score not in SCORES:
            raise ValueError(f"score must be one of {SCORES}, got {score!r}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.model = model.eval()
        self.score = score
        self.batch_size = int(batch_size)
        self.sites = list(sites) if sites is not None else find_attention_heads(model, layers)
        if not self.sites:
            raise ValueError("no attention heads selected")
        self.heads = np.array(
            [(s.layer, h) for s in self.sites for h in range(s.n_heads)], dtype=np.int64
        )
        self.n_features = int(self.heads.shape[0])
        self.feature_names = [f"L{layer}.H{head}" for layer, head in self.heads]
        self._offsets = np.cumsum([0] + [s.n_heads for s in self.sites])
        self.device = next(model.parameters()).device

        encoded = _encode_examples(examples, tokenizer)
        lengths = [len(p) + len(a) for p, a in encoded]
        n_ex, width = len(encoded), max(lengths)
        ids = torch.zeros((n_ex, width), dtype=torch.long)
        attention = torch.zeros((n_ex, width), dtype=torch.long)
        ex_idx, pos_idx, targets = [], [], []
        for e, (prompt, answer) in enumerate(encoded):
            seq = prompt + answer
            ids[e, : len(seq)] = torch.tensor(seq)
            attention[e, : len(seq)] = 1
            for t, token in enumerate(answer):
                ex_idx.append(e)
                pos_idx.append(len(prompt) + t - 1)  # the position that predicts this token
                targets.append(token)
        self.n_examples = n_ex
        self._ids = ids.to(self.device)
        self._attention = attention.to(self.device)
        self._ex_idx = torch.tensor(ex_idx, device=self.device)
        self._pos_idx = torch.tensor(pos_idx, device=self.device)
        self._targets = torch.tensor(targets, device=self.device)
        self._token_hash = hashlib.sha256(
            repr((encoded, score, [(s.layer, s.n_heads, s.head_dim) for s in self.sites])).encode()
        ).hexdigest()[:16]
        self._weight_hash: str | None = None
        self.n_calls = 0
        self.n_rows = 0

    # --------------------------------------------------------------- internals
    def _hooks(self, gate_holder: list) -> list:
        handles = []
        for s, site in enumerate(self.sites):
            lo, hi, hd = int(self._offsets[s]), int(self._offsets[s + 1]), site.head_dim

            def pre_hook(module: Any, args: tuple, lo: int = lo, hi: int = hi, hd: int = hd):
                gate = gate_holder[0]
                if gate is None:
                    return None
                x = args[0]
                g = gate[:, lo:hi].repeat_interleave(hd, dim=1).to(x.dtype)
                shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (x.shape[-1],)
                return (x * g.view(shape),) + tuple(args[1:])

            handles.append(site.module.register_forward_pre_hook(pre_hook))
        return handles

    def _answer_logits(self, ids: Any, attention: Any, rows: Any, positions: Any) -> Any:
        """Logits (P, vocab) at the answer-predicting positions only."""
        head = (
            self.model.get_output_embeddings()
            if hasattr(self.model, "get_output_embeddings")
            else None
        )
        base = getattr(self.model, "base_model", None)
        config = getattr(self.model, "config", None)
        # Families that post-process the LM head's output (soft-capping, scaling) take the
        # plain path: full logits from the model's own forward.
        plain_head = not any(
            getattr(config, name, None) not in (None, 1.0)
            for name in ("final_logit_softcapping", "logit_scale", "output_multiplier_scale")
        )
        if head is not None and base is not None and base is not self.model and plain_head:
            hidden = base(input_ids=ids, attention_mask=attention).last_hidden_state
            return head(hidden[rows, positions])
        logits = self.model(input_ids=ids, attention_mask=attention).logits
        return logits[rows, positions]

    def _example_scores(self, n_masks: int) -> dict[str, Any]:
        """Every score, per example, of the evaluation set repeated n_masks times.

        The gates are already set. Returns ``{score: (n_masks, n_examples) tensor}``.
        """
        import torch

        n_ex = self.n_examples
        ids = self._ids.repeat(n_masks, 1)
        attention = self._attention.repeat(n_masks, 1)
        copies = torch.arange(n_masks, device=self.device).repeat_interleave(self._ex_idx.numel())
        rows = copies * n_ex + self._ex_idx.repeat(n_masks)
        positions = self._pos_idx.repeat(n_masks)
        targets = self._targets.repeat(n_masks)
        logits = self._answer_logits(ids, attention, rows, positions).float()
        token_score = torch.log_softmax(logits, dim=-1).gather(1, targets[:, None])[:, 0]
        logprob = torch.zeros(n_masks * n_ex, device=self.device)
        logprob.index_add_(0, rows, token_score)
        answer_logit = logits.gather(1, targets[:, None])[:, 0]
        others = logits.scatter(1, targets[:, None], float("-inf"))
        token_margin = answer_logit - others.max(dim=1).values
        margin = torch.full((n_masks * n_ex,), float("inf"), device=self.device)
        margin.scatter_reduce_(0, rows, token_margin, reduce="amin")
        scores = {"logprob": logprob, "accuracy": (margin > 0).float(), "margin": margin}
        return {name: value.view(n_masks, n_ex) for name, value in scores.items()}

    # ------------------------------------------------------------------- public
    def __call__(self, masks: Any) -> np.ndarray:
        """Task score (N,) of (N, n) bool masks (True keeps a head): the mean over examples
        of ``example_scores(masks)[self.score]``."""
        return self.example_scores(masks)[self.score].mean(axis=1)

    def example_scores(self, masks: Any) -> dict[str, np.ndarray]:
        """Every score of every example with only the kept heads on (one forward per batch).

        Parameters
        ----------
        masks : (N, n) bool array
            True keeps a head.

        Returns
        -------
        dict of str to (N, n_examples) float array
            ``"logprob"``, ``"accuracy"`` and ``"margin"`` (see the class docstring) of each
            example; ``self(masks)`` is the row mean of the entry named by ``self.score``.
        """
        import torch

        masks = check_masks(masks, self.n_features)
        self.n_calls += 1
        self.n_rows += masks.shape[0]
        out = {name: np.empty((masks.shape[0], self.n_examples)) for name in SCORES}
        per_chunk = max(1, self.batch_size // self.n_examples)
        gate_holder: list = [None]
        handles = self._hooks(gate_holder)
        try:
            with torch.inference_mode():
                for start in range(0, masks.shape[0], per_chunk):
                    chunk = masks[start : start + per_chunk]
                    gate = torch.as_tensor(chunk, device=self.device, dtype=torch.float32)
                    gate_holder[0] = gate.repeat_interleave(self.n_examples, dim=0)
                    scores = self._example_scores(chunk.shape[0])
                    for name, value in scores.items():
                        out[name][start : start + chunk.shape[0]] = value.cpu().numpy()
        finally:
            for handle in handles:
                handle.remove()
        return out

    def unmasked_score(self) -> float:
        """The score of the unmodified model (no hooks), for reference."""
        import torch

        with torch.inference_mode():
            per_example = self._example_scores(1)[self.score].cpu().numpy()
        return float(per_example.astype(np.float64).mean(axis=1)[0])

    def fingerprint(self) -> str:
        """Identity of this value function for query caches.

        Hashes the model's class, the sum and sum of squares of every parameter tensor (a
        cheap weight digest, computed once), the evaluation tokens, the score and the gate
        layout.
        """
        if self._weight_hash is None:
            import torch

            with torch.no_grad():
                stats = [
                    (name, float(p.double().sum()), float(p.double().square().sum()))
                    for name, p in self.model.named_parameters()
                ]
            digest = hashlib.sha256(repr((type(self.model).__name__, stats)).encode())
            self._weight_hash = digest.hexdigest()[:16]
        return f"heads:{self._weight_hash}:{self._token_hash}"

    def __repr__(self) -> str:
        return (
            f"AttentionHeadValue(n_features={self.n_features}, layers={len(self.sites)}, "
            f"n_examples={self.n_examples}, score={self.score!r})"
        )


# ----------------------------------------------------------------- pruning study
def surrogate_removal_order(
    surrogate: Interactions,
    *,
    start: Any = None,
    tie_break: Any = None,
    rtol: float = 1e-9,
) -> np.ndarray:
    """Greedy backward elimination of features on an interaction surrogate.

    At each step the feature whose removal lowers the surrogate's prediction least is
    removed; interactions make this differ from ranking features one at a time (two heads
    that only matter together are removed together or kept together).

    Parameters
    ----------
    surrogate : Interactions
        A Fourier or Möbius expansion of the value function (e.g. from ProxySPEX).
    start : (n,) bool array, optional
        Initial mask (default all features kept).
    tie_break : (n,) float array, optional
        Secondary scores (e.g. Banzhaf values): among features whose removal the surrogate
        predicts equally good (within ``rtol`` of the spread of predictions, e.g. features
        absent from a sparse surrogate), the one of smallest score goes first. Default: the
        lowest index.
    rtol : float
        Relative tolerance defining a tie.

    Returns
    -------
    (n_start,) int array
        The features of ``start`` in the order they are removed (first removed first).
    """
    n = surrogate.n_features
    mask = np.ones(n, dtype=bool) if start is None else np.asarray(start, dtype=bool).copy()
    if mask.shape != (n,):
        raise ValueError(f"start must have shape ({n},), got {mask.shape}")
    secondary = np.zeros(n) if tie_break is None else np.asarray(tie_break, dtype=np.float64)
    if secondary.shape != (n,):
        raise ValueError(f"tie_break must have shape ({n},), got {secondary.shape}")
    order = []
    for _ in range(int(mask.sum())):
        alive = np.flatnonzero(mask)
        candidates = np.repeat(mask[None, :], alive.size, axis=0)
        candidates[np.arange(alive.size), alive] = False
        predicted = np.atleast_1d(surrogate.predict(candidates))
        best = predicted.max()
        spread = max(float(np.abs(predicted).max()), 1e-300)
        tied = alive[predicted >= best - rtol * spread]
        j = tied[int(np.argmin(secondary[tied]))]
        order.append(j)
        mask[j] = False
    return np.array(order, dtype=np.int64)


def marginal_removal_order(scores: Any) -> np.ndarray:
    """Removal order from one score per feature: smallest score removed first.

    Parameters
    ----------
    scores : (n,) float array
        Banzhaf or Shapley values (larger = more useful to keep).

    Returns
    -------
    (n,) int array
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 1:
        raise ValueError(f"scores must be a (n,) array, got shape {scores.shape}")
    return np.argsort(scores, kind="stable")


def pruning_curve(
    value_function: Callable[[np.ndarray], Any],
    removal_order: Any,
    n_kept: Any,
    *,
    n_features: int | None = None,
) -> np.ndarray:
    """True value after removing features in ``removal_order`` until ``n_kept`` remain.

    Parameters
    ----------
    value_function : callable
        ``f(masks (N, n) bool) -> (N,)``.
    removal_order : (n,) int array
        A permutation of the features, first removed first.
    n_kept : (R,) int array
        Numbers of features left, each in ``0..n``.
    n_features : int, optional
        n; defaults to ``len(removal_order)``.

    Returns
    -------
    (R,) float array
        ``f`` on the mask keeping the last ``n_kept[r]`` features of the order.
    """
    order = np.asarray(removal_order, dtype=np.int64)
    n = order.size if n_features is None else int(n_features)
    if (
        order.ndim != 1
        or order.size != n
        or np.unique(order).size != n
        or (n and (order.min() < 0 or order.max() >= n))
    ):
        raise ValueError(f"removal_order must be a permutation of range({n})")
    kept = np.asarray(n_kept, dtype=np.int64).ravel()
    if kept.size and (kept.min() < 0 or kept.max() > n):
        raise ValueError(f"n_kept values must lie in 0..{n}")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)  # rank[j] = step at which feature j is removed
    masks = rank[None, :] >= (n - kept)[:, None]
    return np.asarray(value_function(masks), dtype=np.float64)
