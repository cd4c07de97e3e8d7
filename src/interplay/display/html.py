"""Notebook HTML of a result: what was explained, the highlighted text, the top terms.

Self-contained (inline styles, no scripts, no network) and safe: every user string goes
through :func:`~interplay.display.safe_text.safe_html`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from interplay.display.colours import css_rgba
from interplay.display.quantity import DisplayedExpansion, displayed_expansion, output_description
from interplay.display.safe_text import safe_html
from interplay.display.text_source import stored_text_features

if TYPE_CHECKING:  # pragma: no cover
    from interplay.spectral.interactions import Interactions
    from interplay.values.text import TextFeatures

__all__ = ["interactions_html"]

_BOX = (
    "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:13px;"
    "line-height:1.45;max-width:960px"
)
_TEXT = (
    "white-space:pre-wrap;line-height:2;border:1px solid #ddd;border-radius:6px;"
    "padding:6px 10px;margin:6px 0"
)
_CELL = "padding:2px 10px;text-align:left;border-bottom:1px solid #eee"
_NUM = _CELL.replace("text-align:left", "text-align:right;font-family:monospace")


def _summary_lines(result: Interactions) -> list[str]:
    meta = result.metadata
    lines = []
    output = output_description(meta)
    if output:
        lines.append(f"<div><b>Output explained:</b> {safe_html(output)}</div>")
    model = meta.get("model_name", meta.get("model"))
    if model is not None:
        lines.append(f"<div><b>Model:</b> {safe_html(model)}</div>")
    facts = [f"{result.n_features} features", f"{len(result)} terms"]
    if result.method:
        facts.append(f"method {safe_html(result.method)}")
    if result.n_queries is not None:
        facts.append(f"{result.n_queries} model queries")
    lines.append(f"<div style='color:#555'>{' · '.join(facts)}</div>")
    return lines


def _highlighted_text(shown: DisplayedExpansion, features: TextFeatures | None,
                      names: list[str]) -> str:
    colours = css_rgba(shown.first_order)

    def span(i: int, text: str) -> str:
        tip = f"{names[i]}: {shown.quantity} {shown.first_order[i]:+.4g}"
        return (
            f"<span data-feature='{i}' title='{safe_html(tip)}' style='background:"
            f"{colours[i]};border-radius:3px;padding:1px 2px'>{safe_html(text)}"
            "</span>"
        )

    if features is None:
        body = " ".join(span(i, name) for i, name in enumerate(names))
    else:
        parts = [safe_html(features.prefix + features.separators[0])]
        for i, piece in enumerate(features.pieces):
            if i:
                parts.append(safe_html(features.separators[i]))
            parts.append(span(i, piece))
        parts.append(safe_html(features.separators[-1] + features.suffix))
        body = "".join(parts)
    return f"<div style=\"{_TEXT}\">{body}</div>"


def interactions_html(
    result: Interactions, *, index: str | None = None, order: int | None = None, top: int = 10
) -> str:
    """An HTML fragment for notebooks (``Interactions._repr_html_``).

    Parameters
    ----------
    result : Interactions
        For q > 2 the page lists its Fourier terms by amplitude (the terms with their exponents).
    index, order
        The expansion listed and coloured (default Möbius; see
        :func:`~interplay.display.quantity.displayed_expansion`).
    top : int
        Terms listed (the empty set is never listed).

    Returns
    -------
    str
        A ``<div>`` with the output explained, the model, the input coloured by each
        feature's order-1 value (the text the result records in ``metadata["features"]``,
        else the feature names), and a table of the ``top`` terms of the same quantity.
    """
    if result.q > 2:
        return _qary_html(result, top=top)
    shown = displayed_expansion(result, index, order)
    features = stored_text_features(result.metadata, result.n_features)
    names = result.feature_names
    lines = [f"<div class='interplay-result' style=\"{_BOX}\">"]
    lines += _summary_lines(result)
    quantity = safe_html(shown.quantity)
    lines.append(
        f"<div style='margin-top:6px'>Input coloured by each feature's {quantity} "
        "(order 1): <span style='color:rgb(33,102,172)'>■ raises</span> "
        "<span style='color:rgb(178,24,43)'>■ lowers</span> the output</div>"
    )
    lines.append(_highlighted_text(shown, features, names))
    terms = shown.terms.top(int(top))
    header = "".join(
        f"<th style=\"{_CELL}\">{h}</th>" for h in ("#", quantity, "order", "features")
    )
    rows = [f"<tr>{header}</tr>"]
    for rank, term in enumerate(terms, 1):
        colour = "rgb(33,102,172)" if term.value >= 0 else "rgb(178,24,43)"
        rows.append(
            f"<tr><td style=\"{_NUM}\">{rank}</td>"
            f"<td style=\"{_NUM};color:{colour}\">{term.value:+.4g}</td>"
            f"<td style=\"{_NUM}\">{len(term.features)}</td>"
            f"<td style=\"{_CELL}\">{safe_html(' × '.join(term.names))}</td></tr>"
        )
    remaining = len(shown.terms.top(len(shown.terms))) - len(terms)
    caption = (
        f"Top {len(terms)} terms by |{quantity}|"
        + (f" ({remaining} more)" if remaining > 0 else "")
        + f"; empty set (baseline) {shown.terms.baseline:+.4g}"
    )
    lines.append(f"<div style='margin-top:6px'>{caption}</div>")
    lines.append(f"<table style='border-collapse:collapse'>{''.join(rows)}</table></div>")
    return "\n".join(lines)


def _qary_html(result: Interactions, *, top: int = 10) -> str:
    """The page of a q-ary result: the ``top`` frequency terms by amplitude."""
    lines = [f"<div class='interplay-result' style=\"{_BOX}\">"]
    lines += _summary_lines(result)
    header = "".join(
        f"<th style=\"{_CELL}\">{h}</th>"
        for h in ("#", "amplitude", "F(k)", "order", "positions^frequency")
    )
    rows = [f"<tr>{header}</tr>"]
    for rank, term in enumerate(result.top(int(top)), 1):
        rows.append(
            f"<tr><td style=\"{_NUM}\">{rank}</td><td style=\"{_NUM}\">{term.amplitude:.4g}</td>"
            f"<td style=\"{_NUM}\">{term.value:.4g}</td>"
            f"<td style=\"{_NUM}\">{len(term.features)}</td>"
            f"<td style=\"{_CELL}\">{safe_html(term.label)}</td></tr>"
        )
    lines.append(
        f"<div style='margin-top:6px'>Fourier terms over Z_{result.q}, by amplitude "
        f"(mean {result.baseline:+.4g})</div>"
    )
    lines.append(f"<table style='border-collapse:collapse'>{''.join(rows)}</table></div>")
    return "\n".join(lines)
