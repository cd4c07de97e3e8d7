"""The ``interplay`` command line.

Each subcommand lives in its own module of this package exposing ``register(subparsers)``,
which adds its parser and sets ``func`` (called with the parsed namespace, returning an exit
code). Modules are listed in ``SUBCOMMANDS``; one that fails to import (a missing optional
dependency) is reported when used, not at start-up.
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

#: subcommand name -> module under ``interplay.cli``
SUBCOMMANDS: dict[str, str] = {
    "explain": "explain_cmd",
    "feedback": "feedback_cmd",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interplay",
        description="Find which combinations of input features drive a model's output.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in SUBCOMMANDS.items():
        try:
            module = import_module(f"interplay.cli.{module_name}")
        except ImportError as exc:
            broken = subparsers.add_parser(name, help=f"(unavailable: {exc})")
            broken.set_defaults(func=lambda args, exc=exc: _unavailable(exc))
            continue
        module.register(subparsers)
    return parser


def _unavailable(exc: Exception) -> int:
    print(f"interplay: this command is unavailable: {exc}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
