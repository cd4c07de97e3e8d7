"""Helpers of the command-line tests: run ``interplay explain`` and read its one error line."""

from __future__ import annotations

from interplay.cli import main


def run_explain(args, capsys) -> tuple[int, str, str]:
    """Run ``interplay explain ARGS`` (no progress bar, one thread): (exit code, stdout,
    stderr)."""
    code = main(["explain", "--no-progress", "--threads", "1", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    """The one error line of stderr (progress lines such as "model loaded" may precede it)."""
    lines = [line for line in err.splitlines() if line.startswith("interplay explain: ")]
    assert len(lines) == 1, err
    assert "Traceback" not in err and err.rstrip().endswith(lines[0]), err
    return lines[0]
