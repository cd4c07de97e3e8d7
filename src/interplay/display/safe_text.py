"""Make user text safe to show: no terminal escapes, no bidi overrides, no markup.

Feature names and prompts come from users and documents. Before they reach a terminal, HTML
or a figure, control characters (the escape that starts an ANSI sequence included) and the
Unicode bidirectional controls that can reorder what is displayed (U+202A–U+202E,
U+2066–U+2069, U+200E, U+200F, U+061C) are shown as a visible ``[U+XXXX]``, so nothing a
document hides is hidden from the reader either; tab and newlines are kept. For HTML the
rest is then escaped. The terminal, the HTML displays, the report and the figures all use
these two functions.
"""

from __future__ import annotations

import html

__all__ = ["plain_text", "safe_html"]

#: bidi marks, embeddings, overrides and isolates, and C0/C1 controls other than tab and newlines
_CONTROLS = (
    *range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0),
    0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A),
)
_VISIBLE_CONTROLS = {code: f"[U+{code:04X}]" for code in _CONTROLS}


def plain_text(text: object) -> str:
    """``str(text)`` with every control and bidi character shown as ``[U+XXXX]``."""
    return str(text).translate(_VISIBLE_CONTROLS)


def safe_html(text: object) -> str:
    """:func:`plain_text`, HTML-escaped (quotes too), ready for element text or attributes."""
    return html.escape(plain_text(text), quote=True)
