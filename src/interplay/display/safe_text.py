"""Make user text safe to show: no terminal escapes, no bidi overrides, no markup.

Feature names and prompts come from users and documents. Before they reach HTML or a
figure, control characters (ANSI escape sequences included) and the Unicode bidirectional
controls that can reorder what is displayed (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
U+061C) are removed; for HTML the rest is then escaped.
"""

from __future__ import annotations

import html
import re

__all__ = ["plain_text", "safe_html"]

# ESC-introduced sequences: CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \), and
# two-character escapes; then the C0/C1 controls other than tab and newline, and the
# bidirectional controls.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?|\x1b[@-_]?")
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def plain_text(text: object) -> str:
    """``str(text)`` without escape sequences, control characters or bidi controls."""
    return _CONTROLS.sub("", _ANSI.sub("", str(text)))


def safe_html(text: object) -> str:
    """:func:`plain_text`, HTML-escaped (quotes too), ready for element text or attributes."""
    return html.escape(plain_text(text), quote=True)
