"""One self-contained HTML report of an explanation (no network access, no external files).

It names the output explained in words and the model as the user gave it, shows the input
with every feature coloured by its order-1 value, the strongest interactions as a selectable
list (selecting one lights up its features in the input), the faithfulness R² on held-out
masks, and the interaction network as an embedded PNG. The list, the colours and the network
show one quantity, chosen as every display of the library chooses it
(:func:`interplay.display.displayed_expansion`, Möbius coefficients by default), and named.
All user text is HTML-escaped; the data for the page script is embedded as JSON with ``<``,
``>`` and ``&`` escaped, so no input can close the script element. Invisible characters that
change how the text around them is shown (bidirectional overrides such as U+202E, which
would reverse a word, and control characters such as ANSI escapes) are shown as a visible
``[U+202E]`` instead.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interplay.atomic import write_text_atomic
from interplay.display import displayed_expansion, plot_network
from interplay.display.colours import css_rgba
from interplay.display.quantity import output_description, plural
from interplay.display.safe_text import plain_text
from interplay.report.faithfulness import faithfulness_html

if TYPE_CHECKING:  # pragma: no cover
    from interplay.metrics import Faithfulness
    from interplay.spectral.interactions import Interactions
    from interplay.values.image_features import ImageFeatures
    from interplay.values.text import TextFeatures

__all__ = ["network_png", "render_report", "write_report"]

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1f;
background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:20px 28px 40px}
h1{font-size:22px;margin:6px 0 4px}h2{font-size:16px;margin:22px 0 8px}
.meta{color:#555;font-size:13px}.meta span{margin-right:14px;white-space:nowrap}
.card{background:#fff;border:1px solid #e2e4e8;border-radius:8px;padding:14px 16px;margin:10px 0}
.prompt{white-space:pre-wrap;font:15px/2.0 ui-monospace,SFMono-Regular,Menlo,monospace}
.f{border-radius:4px;padding:1px 2px;transition:opacity .15s,outline .15s;cursor:default}
.prompt.selecting .f{opacity:.28}.prompt.selecting .f.sel{opacity:1;outline:2.5px solid #111;
outline-offset:1px}
.fixed{color:#555;font-style:italic}
.answer{white-space:pre-wrap;background:#fbfbf3;border-left:4px solid #c9b458;padding:8px 12px}
.cols{display:flex;gap:18px;flex-wrap:wrap}.cols>div{flex:1 1 420px;min-width:0}
ol.terms{list-style:none;padding:0;margin:0;max-height:520px;overflow:auto}
ol.terms li{margin:0}
ol.terms button{all:unset;box-sizing:border-box;display:flex;gap:10px;width:100%;
padding:6px 8px;border-radius:6px;cursor:pointer;align-items:baseline}
ol.terms button:hover{background:#eef2f7}ol.terms button.on{background:#dde7f3}
ol.terms button:focus-visible{outline:2px solid #2166ac}
.v{font:13px ui-monospace,monospace;min-width:78px;text-align:right}.pos{color:#2166ac}
.neg{color:#b2182b}.o{color:#777;font-size:12px;min-width:48px}.names{overflow-wrap:anywhere}
.r2{font-size:28px;font-weight:600}.small{font-size:12px;color:#666}
img.net{max-width:100%;height:auto;display:block;margin:0 auto}
.output{font-size:16px;margin:4px 0 8px}
.legend{font-size:12px;color:#555}.swatch{display:inline-block;width:28px;height:12px;
border-radius:3px;vertical-align:middle;margin:0 4px}
table.kv td{padding:2px 10px 2px 0;font-size:13px;vertical-align:top}
"""

_JS = """
(function(){
  var data = JSON.parse(document.getElementById('interplay-data').textContent);
  var prompt = document.getElementById('prompt');
  var buttons = document.querySelectorAll('ol.terms button');
  var current = -1;
  function select(i){
    var spans = prompt.querySelectorAll('.f');
    for (var s = 0; s < spans.length; s++) spans[s].classList.remove('sel');
    for (var b = 0; b < buttons.length; b++) buttons[b].classList.remove('on');
    if (i < 0 || i === current) { current = -1; prompt.classList.remove('selecting');
      document.getElementById('selected').textContent = 'none (click an interaction)'; return; }
    current = i;
    var term = data.terms[i];
    prompt.classList.add('selecting');
    for (var k = 0; k < term.features.length; k++) {
      var hits = prompt.querySelectorAll('.f[data-f="' + term.features[k] + '"]');
      for (var h = 0; h < hits.length; h++) hits[h].classList.add('sel');
    }
    buttons[i].classList.add('on');
    document.getElementById('selected').textContent =
      term.names.join(' \\u00d7 ') + '  (' + (term.value >= 0 ? '+' : '') +
      term.value.toPrecision(4) + ')';
  }
  for (var b = 0; b < buttons.length; b++) {
    buttons[b].addEventListener('click', (function(i){ return function(){ select(i); }; })(b));
  }
  var m = /term=(\\d+)/.exec(window.location.hash);
  if (m) select(parseInt(m[1], 10));
  document.body.setAttribute('data-ready', '1');
})();
"""


#: Size of the network figure, inches, and its pixels an inch on the page: at 100 px an inch
#: the labels' and the legend's 11 pt are 15 px, the size of the page's text.
_NETWORK_INCHES = (10.0, 6.6)
_PAGE_DPI = 100
_NETWORK_FONT_PT = 11.0


def network_png(result: Interactions, *, index: str | None = None, order: int | None = None,
                top: int = 12, scale: int = 2) -> tuple[bytes, tuple[int, int]]:
    """The interaction network of :func:`interplay.display.plot_network` as a PNG.

    Parameters
    ----------
    result : Interactions
        The explanation.
    index, order : optional
        The quantity drawn (see :func:`interplay.display.displayed_expansion`).
    top : int
        Interactions of order >= 2 drawn.
    scale : int
        Pixels of the PNG a pixel on the page (2: sharp on high-density screens).

    Returns
    -------
    png : bytes
    size : (width, height) ints
        The size to show it at on the page, in CSS pixels (the labels' font size is then
        the page's).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=_NETWORK_INCHES, dpi=_PAGE_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    plot_network(result, index=index, order=order, top=top, ax=ax, fontsize=_NETWORK_FONT_PT)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_PAGE_DPI * scale, bbox_inches="tight",
                pad_inches=0.1)
    png = buf.getvalue()
    width, height = (int.from_bytes(png[k : k + 4], "big") for k in (16, 20))
    return png, (width // scale, height // scale)


def _fixed(text: str) -> str:
    """Text around the features that is never masked (a query, an instruction), marked."""
    if not text:
        return ""
    return f'<span class="fixed" title="never masked">{html.escape(text)}</span>'


def _json_for_script(data: Any) -> str:
    # not ASCII-only, so that the page-wide plain_text sees the bidi controls
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _image_css(image: ImageFeatures | None) -> str:
    if image is None:
        return ""
    from interplay.report.image_html import IMAGE_CSS

    return IMAGE_CSS


def render_report(
    result: Interactions,
    *,
    features: TextFeatures | None = None,
    title: str = "interplay explanation",
    r2: Faithfulness | float | None = None,
    n_heldout: int | None = None,
    answer: str | None = None,
    details: Mapping[str, Any] | None = None,
    top_k: int = 25,
    index: str | None = None,
    order: int | None = None,
    network_top: int = 12,
    image: ImageFeatures | None = None,
) -> str:
    """The report as one HTML string.

    Parameters
    ----------
    result : Interactions
        The explanation (Fourier or Möbius basis).
    features : TextFeatures, optional
        The text the features came from: shown with its layout. Without it, the features
        are shown as a row of names.
    title : str
        Page heading.
    r2 : Faithfulness or float, optional
        Faithfulness of the explanation (:func:`interplay.metrics.faithfulness`; a float is
        an R² on held-out masks). Below 0.5 it is shown as a warning, not a headline.
    n_heldout : int, optional
        Number of held-out masks behind ``r2``.
    answer : str, optional
        The model output being explained (a generated answer, a class name). What its
        number is, in words, is read from ``result.metadata["output"]`` (recorded by
        :func:`interplay.explain_text` and the command line).
    details : mapping, optional
        Extra key/value lines (mask, budget, timings). The model is named by
        ``result.metadata["model_name"]``, as the user gave it.
    top_k : int
        Interactions listed.
    index, order : optional
        The quantity listed, coloured and drawn: Möbius coefficients by default, or any
        index :func:`interplay.display.displayed_expansion` takes (``"fourier"``,
        ``"shapley"``, ``"banzhaf"``, ``"FSII"``, ...).
    network_top : int
        Interactions (order ≥ 2) drawn in the network figure.
    image : ImageFeatures, optional
        The image whose regions are the first features: shown with each region's value
        overlaid, the selected interaction's regions outlined
        (:mod:`interplay.report.image_html`); any further features are the question's words.
    """
    n = result.n_features
    if features is not None and features.n_features != n:
        raise ValueError(f"features has {features.n_features} features, result has {n}")
    if image is not None and (features is not None or image.n_features > n):
        raise ValueError(f"image has {image.n_features} regions and result {n} features; give "
                         "the image whose regions are the result's first features, without "
                         "features")
    shown = displayed_expansion(result, index, order)
    effects = shown.first_order
    colours = css_rgba(effects)
    quantity = shown.quantity
    terms = shown.terms.top(top_k)
    data = {
        "quantity": quantity,
        "terms": [
            {"features": list(t.features), "names": list(t.names), "value": t.value}
            for t in terms
        ],
        "first_order": [float(x) for x in effects],
    }

    def span(i: int, text: str) -> str:
        tip = f"{result.feature_names[i]}: {quantity} {effects[i]:+.4g}"
        return (
            f'<span class="f" data-f="{i}" style="background:{colours[i]}" '
            f'title="{html.escape(tip, quote=True)}">{html.escape(text)}</span>'
        )

    if image is not None:
        from interplay.report.image_html import image_input_html

        prompt_html = image_input_html(image, effects, result.feature_names, quantity, span,
                                       result.feature_names[image.n_features:])
    elif features is not None:
        parts = [_fixed(features.prefix), html.escape(features.separators[0])]
        for i, piece in enumerate(features.pieces):
            if i:
                parts.append(html.escape(features.separators[i]))
            parts.append(span(i, piece))
        parts.append(html.escape(features.separators[-1]) + _fixed(features.suffix))
        prompt_html = "".join(parts)
    else:
        prompt_html = " ".join(span(i, name) for i, name in enumerate(result.feature_names))

    rows = []
    for i, t in enumerate(terms):
        cls = "pos" if t.value >= 0 else "neg"
        names = " × ".join(t.names)
        rows.append(
            f'<li><button type="button" data-term="{i}"><span class="v {cls}">{t.value:+.4g}'
            f'</span><span class="o">order {len(t.features)}</span>'
            f'<span class="names">{html.escape(names)}</span></button></li>'
        )
    terms_html = "\n".join(rows) or "<li class='small'>no terms</li>"

    png, (width, height) = network_png(result, index=index, order=order, top=network_top)
    img = base64.b64encode(png).decode("ascii")

    meta = {
        "model": result.metadata.get("model_name"),
        "method": result.method,
        "queries": result.n_queries,
        "features": n,
        "terms": len(result),
    }
    meta_html = "".join(
        f"<span><b>{html.escape(str(k))}</b> {html.escape(str(v))}</span>"
        for k, v in meta.items()
        if v is not None
    )
    detail_rows = "".join(
        f"<tr><td><b>{html.escape(str(k))}</b></td><td>{html.escape(str(v))}</td></tr>"
        for k, v in (details or {}).items()
    )
    r2_html = faithfulness_html(r2, n_heldout)
    has_fixed = features is not None and bool(features.prefix or features.suffix)
    fixed_note = ' <span class="fixed">italic</span>: never masked ·' if has_fixed else ""
    output = output_description(result.metadata)
    output_html = (f'<div class="output">The number explained: <b>{html.escape(output)}</b>'
                   "</div>" if output else "")
    answer_html = (
        f'<h2>Output explained</h2>{output_html}<div class="answer">{html.escape(answer)}</div>'
        if answer is not None
        else (f"<h2>Output explained</h2>{output_html}" if output_html else "")
    )
    basis_note = {
        "mobius": f"{plural(quantity)}: what features add together beyond their "
                  "sub-combinations (order 1: what a feature adds on its own)",
        "fourier": f"{plural(quantity)} (±1 coding of kept/removed features)",
    }.get(shown.basis, plural(quantity))
    return plain_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}{_image_css(image)}</style></head>
<body><main>
<h1>{html.escape(title)}</h1>
<div class="meta">{meta_html}</div>
{answer_html}
<h2>Input, coloured by each feature's {html.escape(quantity)} (order 1)</h2>
<div class="legend">the same numbers as the list: <span class="swatch"
style="background:rgba(178,24,43,.75)"></span>lowers the output
<span class="swatch" style="background:rgba(33,102,172,.75)"></span>raises it ·{fixed_note}
selected interaction: <b id="selected">none (click an interaction)</b></div>
<div class="card prompt" id="prompt">{prompt_html}</div>
<div class="cols">
<div><h2>Top interactions ({html.escape(plural(quantity))})</h2><div class="small">{html.escape(basis_note)}.
Click one to light up its features.</div>
<div class="card"><ol class="terms">{terms_html}</ol></div></div>
<div><h2>Faithfulness</h2><div class="card">{r2_html}</div>
<table class="kv">{detail_rows}</table></div>
</div>
<h2>Interaction network</h2><div class="card"><img class="net" alt="interaction network"
width="{width}" height="{height}" src="data:image/png;base64,{img}"></div>
</main>
<script type="application/json" id="interplay-data">{_json_for_script(data)}</script>
<script>{_JS}</script>
</body></html>
""")


def write_report(path: str | Path, result: Interactions, **kwargs: Any) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8) atomically and return the path: a
    failure (a full disk) leaves any previous report whole."""
    return write_text_atomic(path, render_report(result, **kwargs))
