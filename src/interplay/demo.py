"""``python -m interplay.demo``: the LLM demo by default, ``--tabular`` for the tabular one.

    python -m interplay.demo              # explain SmolLM2's answer (interplay.demo_llm)
    python -m interplay.demo --tabular    # breast-cancer model (interplay.demo_tabular)

Other arguments are passed on to the chosen demo.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if "--tabular" in args:
        args.remove("--tabular")
        import argparse

        from interplay import demo_tabular

        parser = argparse.ArgumentParser(prog="python -m interplay.demo --tabular")
        parser.add_argument("--budget", type=int, default=None)
        parser.add_argument("--max-order", type=int, default=None)
        parser.add_argument("--seed", type=int, default=None)
        given = {k: v for k, v in vars(parser.parse_args(args)).items() if v is not None}
        demo_tabular.main(**given)
        return 0
    from interplay import demo_llm

    return demo_llm.main(args)


if __name__ == "__main__":
    sys.exit(main())
