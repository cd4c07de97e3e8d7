"""``interplay explain``: explain a model's output on a text, write JSON and an HTML report.

Examples::

    interplay explain --text "Marie Curie was born in Warsaw. Where was she born?"
    interplay explain --model sentiment --text "The plot was not good, but the cast was great."
    interplay explain --model ./my-hf-model --file prompt.txt --unit sentence --budget 2000
    interplay explain --context-file report.txt --query "Who founded the company?"
    interplay explain --documents retrieved/ --query "When was the bridge built?"
    interplay explain --model ./SmolLM2.Q4_1.gguf --text "..."
    interplay explain --endpoint http://127.0.0.1:8000/v1 --api-model qwen --file doc.txt
    interplay explain --image photo.jpg --grid 4x6 --budget 300
    interplay explain --image photo.jpg --model ./my-vlm --text "What is in the picture?"

Every expected failure ends the command with one line on stderr, ``interplay explain: <cause>;
<what to do>``, and a non-zero exit status (2: a bad argument or input, 1: a failure while
working). Arguments, the input, the output directory, the cache and the Ray cluster are
checked before the model is loaded and before any query is spent.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from interplay.cli.text_input import TextInput, UsageError, parse_grid, read_image
from interplay.explain import DEFAULT_BUDGET, DEFAULT_METHOD
from interplay.models.resolve import EMBEDDED_CLASSIFIER, EMBEDDED_IMAGE_CLASSIFIER, EMBEDDED_LM

__all__ = [
    "UsageError",
    "check_arguments",
    "check_output_dir",
    "default_method",
    "load_model",
    "model_kind",
    "read_image_input",
    "read_input",
    "register",
    "run",
]


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
    src = p.add_argument_group("input (one of --text, --file, --context-file, --documents, "
                               "--image)")
    text = src.add_mutually_exclusive_group()
    text.add_argument("--text", help="the prompt to explain (all of it maskable)")
    text.add_argument("--file", type=Path, help="read the prompt from a file ('-': stdin)")
    text.add_argument("--context-file", type=Path,
                      help="a context whose parts are explained ('-': stdin); --query is "
                           "placed after it, never masked")
    text.add_argument("--documents", type=Path, metavar="DIR|JSONL",
                      help="documents, one feature each (RAG): a directory of .txt/.md files "
                           "(sorted by name) or a JSON Lines file of {\"text\": ..., "
                           "\"title\": ...} objects")
    src.add_argument("--query", default=None,
                     help="with --context-file or --documents: the question or instruction "
                          "after the context; never masked, like the system prompt and the "
                          "chat template")
    src.add_argument("--unit", choices=["word", "sentence", "paragraph", "document"],
                     default=None,
                     help="feature unit of the prompt or context (default: word for --text "
                          "and --file, sentence for --context-file, document for --documents)")
    src.add_argument("--mask", choices=["auto", "remove", "replace"], default="auto",
                     help="how a masked feature is hidden (default: the model's choice)")
    src.add_argument("--mask-string", default=None, help="replacement text for --mask replace")
    src.add_argument("--truncate", action="store_true",
                     help="when the text is longer than the model reads, explain only the "
                          "features that fit (listed in a warning) instead of stopping")

    img = p.add_argument_group("image input (--text, if given, is the question to a "
                               "vision-language --model)")
    img.add_argument("--image", type=Path, default=None,
                     help="a PNG or JPEG whose regions are explained")
    img.add_argument("--grid", default=None, metavar="RxC",
                     help="regions: a grid of R rows and C columns of patches (default 4x6)")
    img.add_argument("--superpixels", type=int, default=None, metavar="N",
                     help="regions: about N SLIC superpixels (instead of --grid)")
    img.add_argument("--baseline", choices=["blur", "mean", "zeros"], default=None,
                     help="what a removed region shows (default: blur)")
    img.add_argument("--max-side", type=int, default=512,
                     help="the image is shrunk so its longer side is at most this many "
                          "pixels (0: keep its size; default 512)")

    mod = p.add_argument_group("model")
    mod.add_argument("--model", default=None,
                     help=f"'{EMBEDDED_LM}' (embedded SmolLM2-135M-Instruct, default), "
                     f"'{EMBEDDED_CLASSIFIER}' (embedded MiniLM sentiment classifier), a local "
                     "Hugging Face model directory, or a .gguf file; with --image: "
                     f"'{EMBEDDED_IMAGE_CLASSIFIER}' (embedded EfficientNet-Lite0, ImageNet; "
                     "default), a local image-classification or vision-language directory")
    mod.add_argument("--endpoint", help="OpenAI-compatible base URL (e.g. http://host:8000/v1)")
    mod.add_argument("--api-model", help="model name served at --endpoint")
    mod.add_argument("--api-mode", choices=["completions", "chat"], default=None,
                     help="endpoint scoring: completions (exact, echo+logprobs; default) or chat")
    mod.add_argument("--api-key", default=None, help="default: $OPENAI_API_KEY")
    mod.add_argument("--timeout", type=float, default=None,
                     help="endpoint: seconds one request may take (default: 30)")
    mod.add_argument("--retry-time", type=float, default=None,
                     help="seconds a failing endpoint or model is retried before giving up "
                          "(default: 20 for an endpoint, 30 for a local model)")
    mod.add_argument("--answer", default=None,
                     help="language model: the answer to explain (default: generated greedily "
                          "once)")
    mod.add_argument("--max-new-tokens", type=int, default=24)
    mod.add_argument("--target", default=None,
                     help="classifier: class to explain (default: the predicted one)")
    mod.add_argument("--system-prompt", default=None)
    mod.add_argument("--device", default=None, help="cpu, cuda, ... (default: auto)")
    mod.add_argument("--batch-size", type=int, default=None,
                     help="masks per model call (default: language models choose it from "
                          "free memory, classifiers 32, image models 16; the engine sends 64 "
                          "masks per call)")
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
    out.add_argument("--rebuild-cache", action="store_true",
                     help="a corrupted --cache file is moved aside (kept, renamed) and a new "
                          "one is started with the rows that can still be read")
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
    p.error = _usage_error  # type: ignore[method-assign]
    return p


def _usage_error(message: str) -> NoReturn:
    """argparse's errors as one line (not the usage block), exit status 2."""
    print(f"interplay explain: {_one_line(message)}; see interplay explain --help",
          file=sys.stderr)
    sys.exit(2)


# ---------------------------------------------------------------- checking
def model_kind(args: argparse.Namespace) -> str:
    """``"generative"`` or ``"classifier"`` (with ``--image``: ``"classifier"`` or
    ``"vision-language"``): what the arguments name, found without loading."""
    from interplay.models.resolve import image_model_kind
    from interplay.models.resolve import model_kind as resolved_kind

    try:
        if args.image is not None:
            return image_model_kind(args.model)
        return resolved_kind(args.endpoint or args.model)
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(f"{exc}; check --model") from None


def _at_least(args: argparse.Namespace, name: str, low: float, what: str) -> None:
    value = getattr(args, name)
    if value is not None and not value >= low:
        flag = "--" + name.replace("_", "-")
        raise UsageError(f"{flag} must be at least {low:g}, got {value:g}; {what}")


def check_arguments(args: argparse.Namespace) -> tuple[str, int]:
    """Check every argument before any work; return the method and the budget.

    Raises
    ------
    UsageError
        Naming the argument and what to do.
    """
    from interplay.solvers import available_methods

    method = args.method or default_method()
    budget = args.budget if args.budget is not None else DEFAULT_BUDGET
    if method.lower() not in available_methods():
        raise UsageError(
            f"unknown --method {method!r}; choose one of {', '.join(available_methods())}"
        )
    _at_least(args, "budget", 1, "give the number of model queries to spend")
    _at_least(args, "max_order", 1, "give the largest interaction order to look for")
    _at_least(args, "batch_size", 1, "give the number of masks per model call")
    _at_least(args, "heldout", 0, "give the number of held-out masks (0 skips the R²)")
    _at_least(args, "top", 0, "give the number of interactions to print")
    _at_least(args, "max_new_tokens", 1, "give the longest answer to generate, in tokens")
    _at_least(args, "threads", 1, "give the number of CPU threads")
    _at_least(args, "num_actors", 1, "give the number of Ray actors")
    _at_least(args, "retry_time", 0, "give the seconds a failing model is retried")
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout:g}; give seconds")
    if args.endpoint is not None:
        from interplay.models.openai_compat import check_base_url

        try:
            check_base_url(args.endpoint)
        except ValueError as exc:
            raise UsageError(f"--endpoint: {exc}") from None
        if args.model is not None:
            raise UsageError("give either --model or --endpoint, not both")
        if not args.api_model:
            raise UsageError("--endpoint needs --api-model NAME (the model the server serves)")
    else:
        for flag in ("api_model", "api_mode", "api_key", "timeout"):
            if getattr(args, flag) is not None:
                raise UsageError(f"--{flag.replace('_', '-')} applies to --endpoint only; "
                                 "give --endpoint URL or leave it out")
    if args.mask_string is not None and args.mask == "remove":
        raise UsageError("--mask-string is only used with --mask replace (or auto); "
                         "leave out one of them")
    if args.rebuild_cache and args.cache is None:
        raise UsageError("--rebuild-cache needs --cache DIR")
    if args.backend == "local" and (args.ray_address is not None or args.num_actors is not None):
        raise UsageError("--ray-address and --num-actors need --backend ray")
    if args.image is not None:
        _check_image_arguments(args)
        return method, budget
    for flag in ("grid", "superpixels", "baseline"):
        if getattr(args, flag) is not None:
            raise UsageError(f"--{flag} applies to --image only; give --image PATH or leave "
                             "it out")
    if not any(getattr(args, f) is not None for f in ("text", "file", "context_file",
                                                        "documents")):
        raise UsageError("no input: give one of --text, --file, --context-file, --documents "
                         "or --image")
    kind = model_kind(args)
    if kind == "classifier":
        for flag in ("answer", "system_prompt"):
            if getattr(args, flag) is not None:
                raise UsageError(f"--{flag.replace('_', '-')} applies to language models, and "
                                 "--model is a classifier; use --target CLASS to choose what "
                                 "to explain")
    elif args.target is not None:
        raise UsageError("--target applies to classifiers, and the model is a language model; "
                         "use --answer TEXT to choose what to explain")
    return method, budget


def _check_image_arguments(args: argparse.Namespace) -> str:
    """The ``--image`` arguments checked; return the image model's kind."""
    for flag in ("file", "context_file", "documents", "query", "endpoint", "unit",
                 "mask_string"):
        if getattr(args, flag) is not None:
            raise UsageError(f"--{flag.replace('_', '-')} cannot be used with --image; "
                             "leave one of them out")
    if args.truncate or args.backend != "local":
        raise UsageError("--truncate and --backend ray cannot be used with --image; leave "
                         "them out")
    if args.grid is not None and args.superpixels is not None:
        raise UsageError("give either --grid or --superpixels, not both")
    if args.grid is not None:
        parse_grid(args.grid)
    _at_least(args, "superpixels", 1, "give the approximate number of superpixels")
    _at_least(args, "max_side", 0, "give the longest side in pixels (0 keeps the size)")
    kind = model_kind(args)
    if kind == "vision-language":
        if args.text is not None and not args.text.strip():
            raise UsageError("--text is empty; give the question to the vision-language model")
        if args.text is None:
            raise UsageError("a vision-language --model needs --text \"QUESTION\" about the "
                             "image")
        if args.target is not None:
            raise UsageError("--target applies to classifiers; use --answer TEXT with a "
                             "vision-language model")
    else:
        for flag in ("text", "answer", "system_prompt"):
            if getattr(args, flag) is not None:
                raise UsageError(f"--{flag.replace('_', '-')} with --image needs a "
                                 "vision-language --model; an image classifier explains "
                                 "--target CLASS (default: the predicted one)")
    return kind


def check_output_dir(directory: Path) -> None:
    """Create ``directory`` if needed and prove it writable with a probe file.

    Raises
    ------
    UsageError
        When it is a file, or cannot be created or written.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--out {str(directory)!r} is a file; give a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".interplay-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(
            f"cannot write to the output directory {str(directory)!r} "
            f"({exc.strerror or exc}); choose another --out"
        ) from None


# ---------------------------------------------------------------- building
def read_input(args: argparse.Namespace) -> TextInput:
    """The text the arguments name, read and cut into features (see :class:`TextInput`)."""
    return TextInput.from_arguments(text=args.text, file=args.file,
                                    context_file=args.context_file, documents=args.documents,
                                    query=args.query, unit=args.unit)


def read_image_input(args: argparse.Namespace) -> tuple[Any, Any]:
    """The ``--image`` cut into regions and the question's words (``None`` without
    ``--text``): (ImageFeatures, TextFeatures or None)."""
    from interplay.values.image_features import ImageFeatures
    from interplay.values.text import TextFeatures

    image = read_image(args.image, args.max_side)
    baseline = args.baseline or "blur"
    if args.superpixels is not None:
        regions = ImageFeatures.superpixels(image, args.superpixels, baseline=baseline)
    else:
        regions = ImageFeatures.grid(image, *parse_grid(args.grid or "4x6"), baseline=baseline)
    question = None if args.text is None else TextFeatures.from_text(args.text, "word")
    return regions, question


def _image_value(args: argparse.Namespace, model: Any, regions: Any, question: Any) -> Any:
    """The value function of an ``--image`` run (the model's kind decides which)."""
    from interplay.values.image import ImageClassifierValue, VisionLanguageValue

    if question is not None:
        return VisionLanguageValue(model, regions, question, answer=args.answer,
                                   max_new_tokens=args.max_new_tokens,
                                   chunk_size=_image_batch(args))
    return ImageClassifierValue(model, regions, target=args.target, chunk_size=_image_batch(args))


def _image_batch(args: argparse.Namespace) -> int:
    """Masked images per forward pass: ``--batch-size``, else 16."""
    return args.batch_size or 16


def _model_argument(args: argparse.Namespace) -> str | None:
    """What the user named as the model: the endpoint URL, the --model value, or None."""
    return args.endpoint or args.model


def load_model(args: argparse.Namespace):
    """The model adapter the arguments name (:func:`interplay.models.resolve.resolve_model`)."""
    from interplay.models.resolve import resolve_image_model, resolve_model

    if args.image is not None:
        return resolve_image_model(args.model, device=args.device, batch_size=_image_batch(args),
                                   num_threads=args.threads)
    endpoint = {}
    if args.endpoint is not None:
        endpoint = {"api_model": args.api_model, "api_key": args.api_key,
                    "api_mode": args.api_mode or "completions",
                    "timeout": 30.0 if args.timeout is None else args.timeout,
                    "max_retry_time": args.retry_time}
    return resolve_model(_model_argument(args), system_prompt=args.system_prompt,
                         device=args.device, batch_size=args.batch_size, **endpoint)


def _quiet_transformers() -> None:
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def _one_line(text: Any) -> str:
    """``text`` as one printable line: control and bidi characters shown as [U+XXXX]."""
    from interplay.display.safe_text import plain_text

    return " ".join(plain_text(text).split())


def _print_table(result: Any, top: int, file: Any) -> None:
    """The strongest terms and single features, in the one quantity every display shows."""
    from interplay.display import displayed_expansion

    shown = displayed_expansion(result)
    terms = shown.terms.top(top)
    print(f"\nTop {len(terms)} interactions ({shown.quantity}s; order = features "
          "involved):", file=file)
    print(f"  {'value':>10}  {'order':>5}  features", file=file)
    for t in terms:
        names = " × ".join(_one_line(name) for name in t.names)
        print(f"  {t.value:>+10.4f}  {len(t.features):>5}  {names}", file=file)
    strongest = np.argsort(-np.abs(shown.first_order))[: min(8, result.n_features)]
    print(f"\nStrongest single features (order-1 {shown.quantity}):", file=file)
    for i in strongest:
        print(f"  {shown.first_order[i]:>+10.4f}  {_one_line(result.feature_names[i])}",
              file=file)


def _summed_stats(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Two engines' counters added up (numbers summed, anything else from ``first``)."""
    return {k: v + second.get(k, 0) if isinstance(v, (int, float)) and not isinstance(v, bool)
            else v for k, v in first.items()}


@contextlib.contextmanager
def _warnings_as_lines(log: Any) -> Iterator[None]:
    """Print each warning as one ``interplay explain: warning: ...`` line."""

    def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
        print(f"interplay explain: warning: {_one_line(message)}", file=log)

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield


# --------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> int:
    """Execute ``interplay explain`` with parsed arguments; return the exit code.

    Expected failures print one line and return 2 (bad arguments or input) or 1 (a failure
    while working: model, endpoint, cache, disk); unexpected ones (bugs) raise.
    """
    from interplay.runtime import ModelQueryError

    log = sys.stderr
    try:
        with _warnings_as_lines(log):
            return _run(args, log)
    except KeyboardInterrupt:
        hint = " with the same --cache to resume" if args.cache is not None else ""
        print(f"interplay explain: interrupted; run the command again{hint}", file=log)
        return 130
    except (ValueError, OSError, ImportError, ModelQueryError) as exc:
        print(f"interplay explain: {_one_line(exc)}", file=log)
        return 2 if isinstance(exc, (ValueError, ImportError)) else 1


def _run(args: argparse.Namespace, log: Any) -> int:
    from dataclasses import replace

    import interplay
    from interplay.explain_text import check_design, explained_output
    from interplay.metrics import faithfulness
    from interplay.models.resolve import describe_model
    from interplay.report import write_report
    from interplay.runtime import EngineOptions, QueryEngine
    from interplay.runtime.cache import check_cache_file, resolve_cache_path

    # ---- everything that can be checked before the model loads or a query is spent
    method, budget = check_arguments(args)
    regions = question = text = None
    if args.image is not None:
        regions, question = read_image_input(args)
        n_input = regions.n_features + (0 if question is None else question.n_features)
        what = f"{regions.kind}, {regions.baseline_name} baseline"
        described = (f"{n_input} features ({regions.n_features} image regions, {what}"
                     + (f"; {question.n_features} question words)" if question else ")"))
    else:
        text = read_input(args)
        n_input = text.features.n_features
        query_note = "; the query is never masked" if text.query else ""
        described = f"{n_input} features ({text.features.unit}s){query_note}"
    check_design(n_input, method, budget, args.max_order, args.seed)
    check_output_dir(args.out)
    cache_path = None
    if args.cache is not None:
        cache_path = resolve_cache_path(args.cache)
        check_cache_file(cache_path, rebuild=args.rebuild_cache)  # read-only: a warning later
    if args.backend == "ray":
        from interplay.runtime.ray_backend import connect_ray

        connect_ray(args.ray_address)

    _quiet_transformers()
    try:
        import torch

        torch.set_num_threads(args.threads or max(1, os.cpu_count() or 1))
    except ImportError:  # pragma: no cover
        pass
    print(f"{described}; method {method}, budget {budget}, max order {args.max_order}",
          file=log)

    start = time.perf_counter()
    model = load_model(args)
    t_load = time.perf_counter() - start
    model_name = describe_model(_model_argument(args), args.api_model)
    if args.image is not None and args.model is None:
        model_name = EMBEDDED_IMAGE_CLASSIFIER
    print(f"model loaded in {t_load:.1f} s: {_one_line(model_name)}", file=log)

    if args.image is not None:
        value = _image_value(args, model, regions, question)
        n = value.n_features
        names = value.feature_names
        features = None
        if question is None:
            shown_output = f"class {value.target_label!r} " \
                           f"(logit {value.full_logits[value.target]:+.3f})"
            explained_text = f"the logit of class {value.target_label!r}"
            record = {"target": value.target_label}
        else:
            shown_output = value.answer
            explained_text = f"the log-probability of the answer {value.answer!r}"
            record = {"answer": value.answer, "question": question.text}
            print(f"answer: {_one_line(repr(value.answer))}  (log p = {value.full_value:.3f})",
                  file=log)
        run_metadata = {"output": explained_text, **record, "model_name": model_name,
                        "model": model.identity(), "kind": value.kind,
                        "image_features": regions.to_dict()}
        mask_note = f"{regions.baseline_name} (image regions)"
        features_cut: list[str] = []
    else:
        mask_string = args.mask_string
        mask_mode = "replace" if (mask_string is not None and args.mask == "auto") \
            else args.mask
        explained = explained_output(model, text.features, answer=args.answer,
                                     target=args.target, max_new_tokens=args.max_new_tokens,
                                     mask_mode=mask_mode, mask_string=mask_string,
                                     truncate=args.truncate)
        value = explained.value
        if model.kind == "classifier":
            shown_output = f"class {value.target_label!r} " \
                           f"(logit {value.full_logits[value.target]:+.3f})"
        else:
            shown_output = value.answer
            print(f"answer: {_one_line(repr(value.answer))}  (log p = {value.full_value:.3f})",
                  file=log)
        features = explained.features  # the features that fit in the model's context
        n = features.n_features
        names = text.names[:n]
        explained_text = explained.output
        run_metadata = explained.metadata(model_name, text.query)
        mask_note = value.mask_mode + (f" ({value.mask_string!r})" if value.mask_string else "")
        features_cut = list(value.features_cut)

    # the solver's queries go through explain(engine=...); the held-out check reuses the
    # same options in this process (a second Ray pool would load the model again)
    options = EngineOptions(cache_dir=cache_path,
                            **({} if args.batch_size is None else {"batch_size": args.batch_size}),
                            progress=not args.no_progress, backend=args.backend,
                            ray_address=args.ray_address, num_actors=args.num_actors,
                            rebuild_cache=args.rebuild_cache,
                            **({} if args.retry_time is None
                               else {"max_retry_time": args.retry_time}))
    t0 = time.perf_counter()
    result = interplay.explain(value, n, method=method, budget=budget,
                               max_order=args.max_order, random_state=args.seed,
                               feature_names=names, engine=options)
    t_explain = time.perf_counter() - t0
    stats = dict(result.metadata.get("engine", {}))
    fit = None
    if args.heldout > 0:
        local = replace(options, backend="local", ray_address=None, num_actors=None,
                        rebuild_cache=False)
        with QueryEngine(value, n, options=local) as heldout_engine:
            fit = faithfulness(result, heldout_engine, n_masks=args.heldout,
                               random_state=args.seed + 7919)
        stats = _summed_stats(stats, heldout_engine.stats.as_dict())
    total = time.perf_counter() - start

    result.metadata.update(run_metadata)
    result.metadata.update({
        "explained": shown_output,
        "heldout_r2": None if fit is None or fit.kind != "held-out" else fit.r2,
        "n_heldout": 0 if fit is None else fit.n_masks,
        "faithfulness": None if fit is None else fit.to_dict(),
        "seconds": {"load": round(t_load, 2), "explain": round(t_explain, 2),
                    "total": round(total, 2)},
        "engine": {**stats, "backend": args.backend},
    })
    details = {
        "model": model_name,
        "mask": mask_note,
        "budget": budget,
        "max order": args.max_order,
        "seconds": f"{total:.1f} (model load {t_load:.1f}, explanation {t_explain:.1f})",
        "model evaluations": stats.get("n_evaluated", 0),
    }
    if features_cut:
        details["features cut (past the model's context)"] = ", ".join(features_cut)

    # ---- the results go to stdout first: a failure to write the files loses nothing
    out = sys.stdout
    print(f"\nExplained: {_one_line(explained_text)}", file=out)
    print(f"{result.n_queries} queries, {len(result)} terms, {total:.1f} s", end="", file=out)
    print(f"; faithfulness: {fit.note}" if fit is not None else "", file=out)
    if features_cut:
        print(f"{len(features_cut)} features cut (past the model's context), not "
              "explained", file=out)
    _print_table(result, args.top, out)

    kind = "classification" if getattr(value, "target_label", None) is not None else "answer"
    try:
        json_path = result.save(args.out / "interactions.json")
        report_path = write_report(
            args.out / "report.html", result, features=features, r2=fit,
            answer=shown_output, details=details, image=regions,
            title=f"interplay: what drives the model's {kind}",
        )
    except OSError as exc:
        raise OSError(
            f"cannot write the results to {str(args.out)!r} ({exc.strerror or exc}); the "
            "table above is complete; free some space or choose another --out"
            + (" and rerun with the same --cache (no query is repeated)" if cache_path else "")
        ) from None
    print(f"\nwrote {json_path}\nwrote {report_path}", file=out)
    return 0
