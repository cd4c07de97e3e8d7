"""The LLM demo: explain the embedded SmolLM2-135M-Instruct's answer to a question.

    python -m interplay.demo            # this demo (what ``make demo`` runs)
    python -m interplay.demo_llm --budget 1200 --out my-dir

It splits a short context + question (about 30 words) into word features, generates the
model's answer once, then asks which words — and which combinations of words — the
log-probability of that answer depends on, spending a few hundred forward passes (a few
minutes on 2 CPU cores). It prints the top interactions and writes ``interactions.json`` and
a self-contained ``report.html``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from interplay.solvers import DEFAULT_METHOD

__all__ = ["PROMPT", "main"]

PROMPT = (
    "Marie Curie was born in Warsaw in 1867. She later moved to Paris, where she studied "
    "physics and won two Nobel prizes. Question: In which city was Marie Curie born?"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m interplay.demo_llm",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=600, help="model queries (default 600)")
    parser.add_argument("--method", default=None, help=f"default: {DEFAULT_METHOD}")
    parser.add_argument("--max-new-tokens", type=int, default=9)
    parser.add_argument("--out", default="interplay-demo", help="output directory")
    parser.add_argument("--cache", default=None, help="query cache directory (resumable)")
    parser.add_argument("--text", default=PROMPT, help="another prompt")
    args = parser.parse_args(argv)

    from interplay.cli import build_parser

    cli = ["explain", "--model", "smollm2", "--text", args.text, "--unit", "word",
           "--budget", str(args.budget), "--max-new-tokens", str(args.max_new_tokens),
           "--out", args.out, "--heldout", "48"]
    if args.method:
        cli += ["--method", args.method]
    if args.cache:
        cli += ["--cache", args.cache]
    print("interplay demo: which words of the prompt drive SmolLM2-135M-Instruct's answer?",
          file=sys.stderr)
    print(f"prompt: {args.text}", file=sys.stderr)
    parsed = build_parser().parse_args(cli)
    code = int(parsed.func(parsed))
    if code == 0:
        report = (Path(args.out) / "report.html").resolve()
        print(f"\nOpen the report: {report.as_uri()}")
    return code


if __name__ == "__main__":
    sys.exit(main())
