"""Results where people look: DataFrame, notebook HTML, plots (Agg), safe text."""

from __future__ import annotations

import itertools
import re
import sys

import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from interplay import Interactions
from interplay.display import displayed_expansion, plain_text, safe_html
from interplay.values.text import TextFeatures

matplotlib.use("Agg")

HOSTILE = "The movie was not <b>good</b> & $5 \x1b[31mred\x1b[0m \u202eevil\u202c dull."


def _text_result(text: str = HOSTILE, unit: str = "word") -> Interactions:
    features = TextFeatures.from_text(text, unit, suffix="\nQuestion: is it good?")
    n = features.n_features
    terms = [((), 0.2), ((1,), 0.3), ((4,), 1.5), ((3, 4), -2.5), ((n - 1,), -0.8),
             ((1, 3, 4), 0.4)]
    return Interactions([t for t, _ in terms], [c for _, c in terms], n_features=n,
                        basis="mobius", feature_names=features.names(), n_queries=99,
                        method="proxyspex",
                        metadata={"features": features.to_dict(), "model_name": "my <model>",
                                  "output": "logit of class 'positive'"})


def _brute_mobius(f_values: dict[tuple[int, ...], float], n: int) -> dict:
    """Möbius transform by its definition: a(S) = Σ_{T ⊆ S} (-1)^{|S|-|T|} f(T)."""
    out = {}
    for size in range(n + 1):
        for s in itertools.combinations(range(n), size):
            out[s] = sum((-1) ** (size - len(t)) * f_values[t]
                         for k in range(size + 1) for t in itertools.combinations(s, k))
    return out


# ------------------------------------------------------------------ pandas
def test_to_pandas_rows_are_the_mobius_terms_by_brute_force():
    rng = np.random.default_rng(3)
    n = 4
    fourier = Interactions([(0,), (1, 2), (0, 2, 3), ()], rng.normal(size=4), n_features=n,
                           basis="fourier", feature_names=list("abcd"))
    masks = {s: np.isin(np.arange(n), s) for k in range(n + 1)
             for s in itertools.combinations(range(n), k)}
    oracle = _brute_mobius({s: fourier.predict(m) for s, m in masks.items()}, n)
    frame = fourier.to_pandas()
    assert list(frame.columns) == ["features", "names", "order", "value", "index"]
    assert set(frame["index"]) == {"mobius"}
    nonzero = {s: v for s, v in oracle.items() if abs(v) > 1e-9}
    assert {tuple(f) for f in frame["features"]} == set(nonzero)
    for row in frame.itertuples():
        assert row.value == pytest.approx(nonzero[row.features])
        assert row.order == len(row.features)
        assert row.names == tuple("abcd"[i] for i in row.features)
    # by decreasing |value|, the empty set last
    body = frame.iloc[:-1]
    assert frame.iloc[-1]["features"] == ()
    assert np.all(np.diff(np.abs(body["value"].to_numpy())) <= 1e-12)


def test_to_pandas_other_index_and_qary():
    result = _text_result()
    shapley = result.to_pandas(index="shapley")
    np.testing.assert_allclose(
        [shapley.loc[shapley["features"] == (i,), "value"].sum() for i in range(result.n_features)],
        result.shapley_values())
    assert set(shapley["index"]) == {"shapley"}
    qary = Interactions([{0: 1}, {0: 2}, {}], [1 + 1j, 1 - 1j, 0.5], n_features=2, q=3)
    frame = qary.to_pandas()
    assert list(frame["features"]) == [(0,), ()]  # the conjugate pair once, constant last
    assert frame["amplitude"][0] == pytest.approx(2 * abs(1 + 1j)) and bool(frame["paired"][0])
    assert frame["index"][0] == "fourier (q=3)"
    assert list(frame["frequency"]) == [(1,), ()] and frame["value"].dtype == np.complex128
    with pytest.raises(ValueError, match=r"defined for binary features \(q=2\)"):
        qary.to_pandas(index="shapley")


def test_plots_of_a_qary_result_say_what_to_use_instead():
    qary = Interactions([{0: 1}, {0: 2}], [1 + 1j, 1 - 1j], n_features=2, q=3)
    for draw in (qary.plot_network, qary.plot_waterfall):
        with pytest.raises(ValueError, match="q=3 states per feature: read it with to_pandas"):
            draw()


def test_to_pandas_without_pandas_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(ImportError, match="pip install pandas"):
        _text_result().to_pandas()


# -------------------------------------------------------------------- html
def test_repr_html_one_quantity_escaped_and_self_contained():
    result = _text_result()
    page = result._repr_html_()
    # nothing from the user reaches the page raw: no markup, no ANSI, no bidi override
    assert "<b>good</b>" not in page and "&lt;b&gt;good&lt;/b&gt;" in page
    assert "\x1b" not in page and "\u202e" not in page and "\u202c" not in page
    assert "my &lt;model&gt;" in page and "logit of class &#x27;positive&#x27;" in page
    assert "<script" not in page and not re.search(r"(src|href)=", page)
    # every feature is one coloured span, in order, and the colour's number is the
    # order-1 Möbius coefficient, the quantity the table lists
    spans = re.findall(r"<span data-feature='(\d+)' title='([^']*)' style='background:"
                       r"rgba\((\d+),(\d+),(\d+),([0-9.]+)\)", page)
    assert [int(s[0]) for s in spans] == list(range(result.n_features))
    first = displayed_expansion(result).first_order
    good = spans[4]
    assert "Möbius coefficient +1.5" in good[1] and good[5] == "0.750"
    assert spans[-1][2:5] == ("178", "24", "43") and float(spans[-1][5]) == pytest.approx(
        0.75 * 0.8 / 1.5, abs=1e-3)
    assert first[4] == 1.5 and first[3] == 0.0
    assert "Möbius coefficient</th>" in page
    rows = re.findall(r"<tr><td[^>]*>(\d+)</td><td[^>]*>([^<]+)</td><td[^>]*>(\d)</td>"
                      r"<td[^>]*>([^<]*)</td></tr>", page)
    assert rows[0][1:] == ("-2.5", "2", "not × &lt;b&gt;good&lt;/b&gt;")
    assert [float(r[1]) for r in rows] == [-2.5, 1.5, -0.8, 0.4, 0.3]
    # the unmasked question is shown, outside any feature span
    assert "Question: is it good?</div>" in page


def test_repr_names_the_output():
    assert repr(_text_result()).endswith(", output=\"logit of class 'positive'\")")
    assert repr(Interactions([(0,)], [1.0], n_features=1)).endswith("n_queries=None)")


def test_repr_html_without_text_and_qary():
    plain = Interactions([(0,), (0, 1)], [1.0, -2.0], n_features=3, basis="mobius",
                         feature_names=["<a>", "b", "c"])
    page = plain._repr_html_()
    assert page.count("data-feature=") == 3 and "&lt;a&gt;" in page
    qary = Interactions([{0: 1}, {0: 2}], [1 + 1j, 1 - 1j], n_features=2, q=3,
                            feature_names=["<x>", "y"])
    page = qary._repr_html_()
    assert "&lt;x&gt; (+ conjugate)" in page and "<x>" not in page


def test_safe_text_shows_escapes_and_bidi_as_code_points():
    assert (plain_text("a\x1b[1;31mb\x1b[0mc\u202ed\u2066e\x07")
            == "a[U+001B][1;31mb[U+001B][0mc[U+202E]d[U+2066]e[U+0007]")
    assert plain_text("line\nnext\ttab") == "line\nnext\ttab"
    assert safe_html("<i>'x'</i>") == "&lt;i&gt;&#x27;x&#x27;&lt;/i&gt;"


# ------------------------------------------------------------------- plots
def _twenty_feature_result() -> Interactions:
    names = [f"feature name number {i:02d}" for i in range(20)]
    pairs = [(i, (i + 1) % 20) for i in range(20)]
    values = np.linspace(1.0, 2.0, 20) * np.where(np.arange(20) % 2, 1, -1)
    subsets = [(i,) for i in range(20)] + pairs + [(0, 5, 10)]
    coef = np.concatenate([np.linspace(-1, 1, 20), values, [3.0]])
    return Interactions(subsets, coef, n_features=20, basis="mobius", feature_names=names)


def _agg_figure(width: float = 9, height: float = 7) -> Figure:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def _overlaps(boxes) -> list[tuple[int, int]]:
    return [(a, b) for a, b in itertools.combinations(range(len(boxes)), 2)
            if boxes[a].overlaps(boxes[b])]


def test_plot_network_artists_and_no_label_overlap():
    result = _twenty_feature_result()
    fig = _agg_figure()
    ax = fig.add_subplot()
    out = result.plot_network(ax=ax, top=21)
    assert out is ax
    nodes = [c for c in ax.collections if c.get_gid() == "node"]
    assert len(nodes) == 1 and len(nodes[0].get_offsets()) == 20
    edges = [ln for ln in ax.lines if ln.get_gid() == "edge"]
    spokes = [ln for ln in ax.lines if ln.get_gid() == "spoke"]
    hubs = [c for c in ax.collections if c.get_gid() == "hub"]
    assert (len(edges), len(spokes), len(hubs)) == (20, 3, 1)
    labels = [t for t in ax.texts if t.get_gid() == "label"]
    assert sorted(t.get_text() for t in labels) == sorted(result.feature_names)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert _overlaps(boxes) == []
    # no label covers a node: node discs from their centres and marker areas (points²)
    centres = ax.transData.transform(nodes[0].get_offsets())
    radii = np.sqrt(nodes[0].get_sizes()) / 2 * fig.dpi / 72
    for box in boxes:
        nearest_x = np.clip(centres[:, 0], box.x0, box.x1)
        nearest_y = np.clip(centres[:, 1], box.y0, box.y1)
        assert np.all(np.hypot(centres[:, 0] - nearest_x, centres[:, 1] - nearest_y) > radii)
    # the legend is at the labels' size, and says which quantity is drawn
    legend = ax.get_legend()
    assert {t.get_fontsize() for t in legend.get_texts()} == {labels[0].get_fontsize()}
    assert "Möbius" in ax.get_title()
    # node colours are the sign of the order-1 Möbius coefficient
    colours = nodes[0].get_facecolors()[:, :3]
    first = displayed_expansion(result).first_order
    blue = np.array([33, 102, 172]) / 255
    np.testing.assert_allclose(colours[first >= 0], np.tile(blue, ((first >= 0).sum(), 1)),
                               atol=1e-6)


def test_plot_network_labels_crowded_on_one_side_do_not_overlap():
    # 40 short-named nodes: labels must be spread, not stacked
    n = 40
    result = Interactions([(i, (i + 1) % n) for i in range(n)], np.ones(n), n_features=n,
                          basis="mobius", feature_names=[f"word{i}" for i in range(n)])
    fig = _agg_figure()
    ax = result.plot_network(ax=fig.add_subplot(), top=n, fontsize=9)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_gid() == "label"]
    assert len(labels) == n
    assert _overlaps([t.get_window_extent(renderer) for t in labels]) == []


def test_plot_waterfall_adds_up_to_the_full_input():
    result = _twenty_feature_result().to_fourier()
    fig = _agg_figure()
    ax = result.plot_waterfall(ax=fig.add_subplot(), top=5)
    bars = [p for p in ax.patches if p.get_gid() in ("term", "rest")]
    assert [p.get_gid() for p in bars] == ["term"] * 5 + ["rest"]
    mobius = result.to_mobius()
    top = [t.value for t in mobius.top(5)]
    np.testing.assert_allclose([p.get_width() for p in bars[:5]], top, atol=1e-9)
    start = bars[0].get_x()
    end = bars[-1].get_x() + bars[-1].get_width()
    assert start == pytest.approx(mobius.baseline)
    assert end == pytest.approx(result.predict(np.ones(20, bool)))  # f(all features kept)
    with pytest.raises(ValueError, match="do not add up"):
        result.plot_waterfall(index="fourier")


def test_plot_text_colours_each_word_by_its_feature():
    result = _text_result(HOSTILE + " " + "A long sentence follows here. " * 8, unit="sentence")
    fig = _agg_figure(6, 4)
    ax = result.plot_text(ax=fig.add_subplot())
    first = displayed_expansion(result).first_order
    words = [t for t in ax.texts if (t.get_gid() or "").startswith("feature-")]
    assert {int(t.get_gid().split("-")[1]) for t in words} == set(range(result.n_features))
    for t in words:
        i = int(t.get_gid().split("-")[1])
        face = t.get_bbox_patch().get_facecolor()
        assert face[3] == pytest.approx(0.75 * abs(first[i]) / np.abs(first).max())
    text = " ".join(t.get_text() for t in ax.texts)
    assert "\x1b" not in text and "\u202e" not in text and "Möbius" in text
    assert "[U+202E]" in text  # shown as the report and the terminal show it, not dropped
    assert "Question:" in text  # the unmasked suffix is drawn, as fixed text
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert _overlaps(boxes) == []
    assert max(b.x1 for b in boxes) <= ax.get_window_extent(renderer).x1 + 1  # wrapped


def test_plots_make_their_own_figure_without_showing():
    import matplotlib.pyplot as plt

    result = _text_result()
    before = plt.get_fignums()
    axes = [result.plot_network(), result.plot_waterfall(), result.plot_text()]
    assert all(a.figure.number in plt.get_fignums() for a in axes)
    for a in axes:
        plt.close(a.figure)
    assert plt.get_fignums() == before
