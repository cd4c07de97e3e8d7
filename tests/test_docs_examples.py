"""Every ```python block of README.md and docs/*.md runs as written.

A block is skipped only when the line before it is ``<!-- no-run: REASON -->`` (it needs a
model server, a GPU, a download, or minutes of compute) and says why. Blocks of one
file run in order in one namespace, as a reader would run them, in a temporary directory.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(
    r"(?:<!--[ \t]*no-run:?(?P<reason>[^\n]*?)-->[ \t]*\n)?```python\n(?P<code>.*?)```", re.DOTALL
)


def code_blocks(text: str) -> list[tuple[int, str, str | None]]:
    """``(line, code, reason_not_run)`` of each python block of a Markdown text."""
    out = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code"))
        reason = match.group("reason")
        out.append((line, match.group("code"),
                    None if reason is None else (reason.strip() or "marked no-run")))
    return out


def test_the_marker_is_read():
    blocks = code_blocks(
        "<!-- no-run: needs Python >= 3.12 -->\n```python\nx = 1\n```\n\n```python\ny = 2\n```\n")
    assert blocks == [(2, "x = 1\n", "needs Python >= 3.12"), (6, "y = 2\n", None)]


@pytest.mark.slow
@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_python_blocks_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = code_blocks(path.read_text(encoding="utf-8"))
    namespace: dict = {"__name__": "__docs__"}
    try:
        for line, code, reason in blocks:
            if reason is not None:
                continue
            try:
                exec(compile(code, f"{path.name}:{line + 1}", "exec"), namespace)  # noqa: S102
            except Exception as exc:  # the block's location, then the error
                raise AssertionError(
                    f"{path.name} line {line + 1}: {type(exc).__name__}: {exc}") from exc
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")
