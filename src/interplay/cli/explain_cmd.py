"""``interplay explain``: explain a model's output on a text, write JSON and an HTML report.

Examples::

    interplay explain --text "Marie Curie was born in Warsaw. Where was she born?"
    interplay explain --model sentiment --text "The plot was not good, but the cast was great."
    interplay explain --model ./my-hf-model --file prompt.txt --unit sentence --budget 2000
    interplay explain --model ./SmolLM2.Q4_1.gguf --text "..."
    interplay explain --endpoint http://127.0.0.1:8000/v1 --api-model qwen --file doc.txt
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from interplay.explain import DEFAULT_BUDGET, DEFAULT_METHOD

__all__ = ["default_method", "load_model", "register", "run"]

EMBEDDED_LM = "smollm2"
EMBEDDED_CLASSIFIER = "sentiment"


def default_method() -> str:
    """The library's default method, the same as :func:`interplay.explain`'s."""
    return DEFAULT_METHOD


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``explain`` subcommand."""
    p = subparsers.add_parser(
        "explain",
        help="explain an LLM's answer (or a classifier's label) on a text",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = p.add_argument_group("input")
    text = src.add_mutually_exclusive_group(required=True)
    text.add_argument("--text", help="the prompt to explain")
    text.add_argument("--file", type=Path, help="read the prompt from a file ('-': stdin)")
    src.add_argument("--unit", choices=["word", "sentence", "paragraph"], default="word",
                     help="feature unit (default: word)")
    src.add_argument("--mask", choices=["auto", "remove", "replace"], default="auto",
                     help="how a masked feature is hidden (default: the model's choice)")
    src.add_argument("--mask-string", default=None, help="replacement text for --mask replace")

    mod = p.add_argument_group("model")
    mod.add_argument("--model", default=EMBEDDED_LM,
                     help=f"'{EMBEDDED_LM}' (embedded SmolLM2-135M-Instruct, default), "
                     f"'{EMBEDDED_CLASSIFIER}' (embedded MiniLM sentiment classifier), a local "
                     "Hugging Face model directory, or a .gguf file")
    mod.add_argument("--endpoint", help="OpenAI-compatible base URL (e.g. http://host:8000/v1)")
    mod.add_argument("--api-model", help="model name served at --endpoint")
    mod.add_argument("--api-mode", choices=["completions", "chat"], default="completions",
                     help="endpoint scoring: completions (exact, echo+logprobs) or chat")
    mod.add_argument("--api-key", default=None, help="default: $OPENAI_API_KEY")
    mod.add_argument("--answer", default=None,
                     help="the answer to explain (default: generated greedily once)")
    mod.add_argument("--max-new-tokens", type=int, default=24)
    mod.add_argument("--target", default=None,
                     help="classifier: class to explain (default: the predicted one)")
    mod.add_argument("--system-prompt", default=None)
    mod.add_argument("--device", default=None, help="cpu, cuda, ... (default: auto)")
    mod.add_argument("--batch-size", type=int, default=16)
    mod.add_argument("--threads", type=int, default=None,
                     help="torch CPU threads (default: all cores)")

    alg = p.add_argument_group("explanation")
    alg.add_argument("--method", default=None,
                     help=f"solver (default: {DEFAULT_METHOD})")
    alg.add_argument("--budget", type=int, default=None,
                     help=f"model queries to spend (default: {DEFAULT_BUDGET})")
    alg.add_argument("--max-order", type=int, default=4)
    alg.add_argument("--seed", type=int, default=0)
    alg.add_argument("--heldout", type=int, default=64,
                     help="held-out random masks for the faithfulness R² (0: skip)")
    alg.add_argument("--top", type=int, default=15, help="interactions printed")

    out = p.add_argument_group("output")
    out.add_argument("--cache", type=Path, default=None,
                     help="on-disk query cache directory (resume an interrupted run)")
    out.add_argument("--out", type=Path, default=Path("interplay-out"),
                     help="directory for interactions.json and report.html")
    out.add_argument("--no-progress", action="store_true")

    run_grp = p.add_argument_group("where the queries run")
    run_grp.add_argument("--backend", choices=["local", "ray"], default="local",
                         help="ray: a pool of Ray actors, each with a copy of the model")
    run_grp.add_argument("--ray-address", default=None,
                         help="an existing Ray cluster ('auto', 'ray://host:10001'); "
                              "default: start a local one")
    run_grp.add_argument("--num-actors", type=int, default=None,
                         help="Ray actors (default: one per GPU, else one per CPU)")
    p.set_defaults(func=run)
    return p


# ---------------------------------------------------------------- building
def _is_classifier_dir(path: Path) -> bool:
    import json

    config = path / "config.json"
    if not config.is_file():
        return False
    archs = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
    return any(a.endswith("ForSequenceClassification") for a in archs)


def load_model(args: argparse.Namespace):
    """The model adapter the arguments name."""
    common = {"device": args.device, "batch_size": args.batch_size}
    if args.endpoint:
        if not args.api_model:
            raise ValueError("--endpoint needs --api-model NAME")
        from interplay.models.openai_compat import OpenAICompatLM

        return OpenAICompatLM(args.endpoint, args.api_model, api_key=args.api_key,
                              mode=args.api_mode, system_prompt=args.system_prompt)
    name = str(args.model)
    if name == EMBEDDED_LM:
        from interplay.models.embedded import load_smollm2

        return load_smollm2(system_prompt=args.system_prompt, **common)
    if name == EMBEDDED_CLASSIFIER:
        from interplay.models.embedded import MiniLMSentiment

        return MiniLMSentiment(device=args.device, batch_size=max(args.batch_size, 32))
    path = Path(name).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(f"no GGUF file at {name!r}")
        from interplay.models.gguf import GGUFCausalLM

        return GGUFCausalLM(path, system_prompt=args.system_prompt, **common)
    if not path.exists():
        raise FileNotFoundError(
            f"--model {name!r} is neither '{EMBEDDED_LM}', '{EMBEDDED_CLASSIFIER}', a local "
            "model directory nor a .gguf file (interplay never downloads models)"
        )
    if _is_classifier_dir(path):
        from interplay.models.hf import HFClassifier

        return HFClassifier(path, **common)
    from interplay.models.hf import HFCausalLM

    return HFCausalLM(path, system_prompt=args.system_prompt, **common)


def _read_text(args: argparse.Namespace) -> str:
    if args.text is not None:
        return args.text
    if str(args.file) == "-":
        return sys.stdin.read()
    return Path(args.file).read_text(encoding="utf-8")


def _quiet_transformers() -> None:
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def _print_table(result: Any, top: int, file: Any) -> None:
    mobius = result.to_mobius()
    terms = mobius.top(top)
    print(f"\nTop {len(terms)} interactions (Möbius coefficients; order = features "
          "involved):", file=file)
    print(f"  {'value':>10}  {'order':>5}  features", file=file)
    for t in terms:
        print(f"  {t.value:>+10.4f}  {len(t.features):>5}  {' × '.join(t.names)}", file=file)


# --------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> int:
    """Execute ``interplay explain`` with parsed arguments; return the exit code."""
    import interplay
    from interplay.metrics import faithfulness
    from interplay.report import write_report
    from interplay.values.text import ClassifierValue, GenerativeValue, TextFeatures

    log = sys.stderr
    _quiet_transformers()
    try:
        import torch

        torch.set_num_threads(args.threads or max(1, os.cpu_count() or 1))
    except ImportError:  # pragma: no cover
        pass
    try:
        text = _read_text(args)
        features = TextFeatures.from_text(text, args.unit)
    except (OSError, ValueError) as exc:
        print(f"interplay explain: {exc}", file=log)
        return 2
    n = features.n_features
    method = args.method or default_method()
    budget = args.budget if args.budget is not None else DEFAULT_BUDGET
    print(f"{n} features ({args.unit}s); method {method}, budget {budget}, "
          f"max order {args.max_order}", file=log)

    start = time.perf_counter()
    try:
        model = load_model(args)
    except (FileNotFoundError, ImportError, ValueError) as exc:
        print(f"interplay explain: {exc}", file=log)
        return 2
    t_load = time.perf_counter() - start
    print(f"model loaded in {t_load:.1f} s: {model.identity()}", file=log)

    mask_string = args.mask_string
    mask_mode = "replace" if (mask_string is not None and args.mask == "auto") else args.mask
    try:
        if model.kind == "classifier":
            value = ClassifierValue(model, features, target=args.target, mask_mode=mask_mode,
                                    mask_string=mask_string)
            logit = value.full_logits[value.target]
            explained = f"class {value.target_label!r} (logit {logit:+.3f})"
        else:
            value = GenerativeValue(model, features, answer=args.answer,
                                    max_new_tokens=args.max_new_tokens, mask_mode=mask_mode,
                                    mask_string=mask_string)
            explained = value.answer
            print(f"answer: {value.answer!r}  (log p = {value.full_value:.3f})", file=log)
    except ValueError as exc:
        print(f"interplay explain: {exc}", file=log)
        return 2

    query_fn: Any = value
    engine = None
    try:
        from interplay.runtime import QueryEngine

        engine = QueryEngine(value, n, cache_dir=args.cache, batch_size=args.batch_size,
                             progress=not args.no_progress, backend=args.backend,
                             ray_address=args.ray_address, num_actors=args.num_actors)
        query_fn = engine
    except ImportError:  # pragma: no cover - the runtime ships with interplay
        if args.cache is not None:
            print("interplay explain: --cache needs interplay.runtime", file=log)
            return 2

    t0 = time.perf_counter()
    try:
        result = interplay.explain(query_fn, n, method=method, budget=budget,
                                   max_order=args.max_order, random_state=args.seed,
                                   feature_names=features.names())
        t_explain = time.perf_counter() - t0
        fit = None
        if args.heldout > 0:
            fit = faithfulness(result, query_fn, n_masks=args.heldout,
                               random_state=args.seed + 7919)
    finally:
        if engine is not None:
            engine.close()
    total = time.perf_counter() - start

    result.metadata.update({
        "model": model.identity(),
        "kind": model.kind,
        "explained": explained,
        "features": features.to_dict(),
        "mask_mode": value.mask_mode,
        "heldout_r2": None if fit is None or fit.kind != "held-out" else fit.r2,
        "n_heldout": 0 if fit is None else fit.n_masks,
        "faithfulness": None if fit is None else fit.to_dict(),
        "seconds": {"load": round(t_load, 2), "explain": round(t_explain, 2),
                    "total": round(total, 2)},
    })
    if engine is not None:
        result.metadata["engine"] = {**engine.stats.as_dict(), "backend": args.backend}
    args.out.mkdir(parents=True, exist_ok=True)
    json_path = result.save(args.out / "interactions.json")
    details = {
        "model": model.identity(),
        "mask": value.mask_mode + (f" ({value.mask_string!r})" if value.mask_string else ""),
        "budget": budget,
        "max order": args.max_order,
        "seconds": f"{total:.1f} (model load {t_load:.1f}, explanation {t_explain:.1f})",
    }
    if engine is not None:
        details["model evaluations"] = engine.stats.n_evaluated
    kind = "answer" if model.kind == "generative" else "classification"
    report_path = write_report(
        args.out / "report.html", result, features=features, r2=fit,
        answer=explained, details=details, title=f"interplay: what drives the model's {kind}",
    )

    out = sys.stdout
    print(f"\nExplained: {explained}", file=out)
    print(f"{result.n_queries} queries, {len(result)} terms, {total:.1f} s", end="", file=out)
    print(f"; faithfulness: {fit.note}" if fit is not None else "", file=out)
    _print_table(result, args.top, out)
    effects = result.banzhaf_values()
    order = np.argsort(-np.abs(effects))[: min(8, n)]
    print("\nStrongest single features (Banzhaf value):", file=out)
    for i in order:
        print(f"  {effects[i]:>+10.4f}  {features.names()[i]}", file=out)
    print(f"\nwrote {json_path}\nwrote {report_path}", file=out)
    return 0
