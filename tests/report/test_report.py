"""The HTML report: content, escaping, one quantity, the network PNG, and a real headless
browser (a screenshot, and a click on an interaction)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import warnings

import numpy as np
import pytest

import interplay
from interplay.metrics import faithfulness
from interplay.report import LOW_R2, network_png, render_report, write_report
from interplay.solvers.queried_masks import QueriedMasks
from interplay.spectral.interactions import Interactions
from interplay.values.text import TextFeatures

TEXT = "The movie was not <b>good</b> & the plot </script><script>alert(1)</script> dull"


def _result(features: TextFeatures) -> Interactions:
    n = features.n_features
    # Möbius: "not" × "good" is a strong negative pair, "dull" negative, "movie" mildly positive
    terms = [((), 0.2), ((1,), 0.3), ((4,), 1.5), ((3, 4), -2.5), ((n - 1,), -0.8),
             ((1, 3, 4), 0.4)]
    return Interactions([t for t, _ in terms], [c for _, c in terms], n_features=n,
                        basis="mobius", feature_names=features.names(), n_queries=123,
                        method="proxyspex")


@pytest.fixture()
def features():
    return TextFeatures.from_text(TEXT, "word")


def test_report_content_and_escaping(features):
    result = _result(features)
    page = render_report(result.to_fourier(), features=features, r2=0.9312, n_heldout=64,
                         answer="Negative <i>review</i>", details={"model": "tiny <model>"})
    # user text never appears unescaped
    assert "<script>alert(1)</script>" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Negative &lt;i&gt;review&lt;/i&gt;" in page and "tiny &lt;model&gt;" in page
    assert page.count("<script") == 2  # our JSON data block and our page script only
    # the embedded JSON parses back and lists the strongest term first
    blob = re.search(r'<script type="application/json" id="interplay-data">(.*?)</script>',
                     page, re.DOTALL).group(1)
    data = json.loads(blob)
    assert data["terms"][0]["features"] == [3, 4]
    assert data["terms"][0]["value"] == pytest.approx(-2.5)
    # the colours are the list's quantity: the order-1 Möbius coefficients
    assert data["quantity"] == "Möbius coefficient"
    expected = np.zeros(features.n_features)
    expected[[1, 4, features.n_features - 1]] = [0.3, 1.5, -0.8]
    np.testing.assert_allclose(data["first_order"], expected, atol=1e-12)
    # every feature is a highlighted span, in order; no network resources
    assert [int(x) for x in re.findall(r'data-f="(\d+)"', page)] == list(range(features.n_features))
    assert "0.931" in page and "64 held-out" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    png = base64.b64decode(re.search(r'data:image/png;base64,([A-Za-z0-9+/=]+)', page).group(1))
    assert png.startswith(b"\x89PNG")


def test_network_png_and_errors(features):
    result = _result(features)
    png, (width, height) = network_png(result, scale=2)
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    # shown at half its pixels: 11 pt labels and legend at 100 px an inch are 15 px on the page
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (
        2 * width, 2 * height)
    assert 600 <= width <= 1100
    page = render_report(result, features=features)
    assert f'width="{width}" height="{height}"' in page
    with pytest.raises(ValueError, match="features"):
        render_report(result, features=TextFeatures.from_text("a b", "word"))
    with pytest.raises(ValueError, match="index"):
        render_report(result, index="nonsense")


def _span_values(page: str) -> dict[int, tuple[float, str]]:
    """Each feature's value in its tooltip, and its background colour."""
    spans = re.findall(r'data-f="(\d+)" style="background:(rgba\([^)]*\))" title="[^"]*: '
                       r'([^"]*) ([-+][0-9.e+-]+)"', page)
    return {int(i): (float(v), colour) for i, colour, _, v in spans}


def test_the_list_and_the_colours_show_one_named_quantity(features):
    """Observed: the list showed Möbius order-1 values while the text was coloured by
    Banzhaf values ("cast" -0.98 in the list, barely coloured)."""
    n = features.n_features
    # Möbius: feature 2 alone -1 (the strongest single term); its pairs +1 and +1 cancel that
    # in its Banzhaf value (-1 + 1/2 + 1/2 = 0), which coloured it not at all
    result = Interactions([(2,), (2, 5), (2, 6), (7,)], [-1.0, 1.0, 1.0, 0.4], n_features=n,
                          basis="mobius", feature_names=features.names())
    assert abs(result.banzhaf_values()[2]) < 1e-12
    page = render_report(result, features=features)
    values = _span_values(page)
    assert set(values) == set(range(n))
    assert values[2] == (-1.0, "rgba(178,24,43,0.750)")  # the list's -1, at full strength
    assert values[7][0] == pytest.approx(0.4) and values[7][1] == "rgba(33,102,172,0.300)"
    assert values[0] == (0.0, "rgba(33,102,172,0.000)")
    listed = re.findall(r'<span class="v (?:pos|neg)">([-+][0-9.e+-]+)</span><span class="o">'
                        r"order 1</span><span class=\"names\">([^<]*)</span>", page)
    assert {name: float(v) for v, name in listed} == {features.names()[2]: -1.0,
                                                      features.names()[7]: 0.4}
    assert "coloured by each feature's Möbius coefficient (order 1)" in page
    assert "Top interactions (Möbius coefficients)" in page
    shapley = render_report(result, features=features, index="shapley")
    assert "Shapley value" in shapley and "Möbius" not in shapley.split("<h2>Interaction")[0]


def test_the_output_is_named_in_words_and_the_model_as_given(features):
    result = _result(features)
    result.metadata.update({"output": "log-probability of 'Paris' given the prompt",
                            "model_name": "HuggingFaceTB/SmolLM2-135M-Instruct",
                            "model": "HFCausalLM(/home/me/.cache/x/snapshots/ab12)#f00d"})
    page = render_report(result, features=features, answer="Paris")
    assert "The number explained: <b>log-probability of &#x27;Paris&#x27; given the prompt" \
        in page
    assert "<b>model</b> HuggingFaceTB/SmolLM2-135M-Instruct" in page
    assert ".cache" not in page and "#f00d" not in page


def test_control_characters_in_names_draw_without_glyph_warnings():
    """Observed: "Glyph 27 missing from font" warnings for an ANSI escape in a feature name."""
    features = TextFeatures.from_text("a \x1b[31mred\x1b[0m b\x07 c \u202eevil d", "word")
    n = features.n_features
    result = Interactions([(0, 1), (1, 2), (2, 3, 4)], [1.0, -0.5, 0.3], n_features=n,
                          basis="mobius", feature_names=features.names())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        page = render_report(result, features=features)
    assert page.startswith("<!DOCTYPE html>")


def test_good_heldout_r2_is_the_headline(features):
    result = _result(features)
    nothing_queried = QueriedMasks(features.n_features)  # a hand-made result queried nothing
    fit = faithfulness(result, result.predict, n_masks=50, queried=nothing_queried,
                       random_state=3)
    page = render_report(result, features=features, r2=fit)
    assert '<div class="r2">1.000</div>' in page and "50 held-out masks" in page
    assert 'class="warn"' not in page
    unchecked = faithfulness(result, result.predict, n_masks=50, random_state=3)
    page = render_report(result, features=features, r2=unchecked)
    assert '<div class="r2">' not in page and "unchecked R² 1.000" in page


@pytest.mark.parametrize("r2", [-0.2, 0.0, LOW_R2 - 0.01])
def test_low_or_negative_r2_is_a_warning_not_a_headline(features, r2):
    """Observed: a report printed R² −0.20 in big type like a good score."""
    page = render_report(_result(features), features=features, r2=r2, n_heldout=64)
    assert '<div class="r2">' not in page
    assert 'class="warn"' in page and f"R² = {r2:.3f}" in page and "caution" in page


def test_wrong_explanation_on_heldout_masks_is_a_warning(features):
    result = _result(features)
    wrong = Interactions([(3, 4)], [1.0], n_features=features.n_features, basis="mobius")
    fit = faithfulness(wrong, result.predict, n_masks=50, random_state=3)
    assert fit.r2 < LOW_R2
    page = render_report(wrong, features=features, r2=fit)
    assert 'class="warn"' in page and '<div class="r2">' not in page


def test_in_sample_figure_is_labelled_and_not_a_headline():
    n = 4
    result = interplay.explain(lambda m: m[:, 0] * 2.0 - m[:, 1] * m[:, 2], n, budget=16)
    fit = faithfulness(result, lambda m: m[:, 0] * 2.0 - m[:, 1] * m[:, 2], n_masks=64)
    assert fit.kind == "in-sample"
    page = render_report(result, r2=fit)
    assert '<div class="r2">' not in page
    assert "in-sample R² 1.000" in page and "no held-out set exists" in page


def _chromium() -> str | None:
    return next((p for p in map(shutil.which, ["chromium", "chromium-browser",
                                               "google-chrome"]) if p), None)


def _chromium_flags(tmp_path) -> list[str]:
    return [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]


def _dump_dom(tmp_path, url: str) -> str:
    return subprocess.run(_chromium_flags(tmp_path) + ["--dump-dom", url], capture_output=True,
                          text=True, timeout=120, check=False).stdout


def _screenshot(tmp_path, url: str, name: str, size: tuple[int, int]) -> np.ndarray:
    """(height, width, 3) uint8 array of a screenshot of ``url`` in a window of ``size``."""
    from PIL import Image

    shot = tmp_path / name
    subprocess.run(_chromium_flags(tmp_path) + [f"--screenshot={shot}",
                                                f"--window-size={size[0]},{size[1]}", url],
                   capture_output=True, timeout=120, check=False)
    assert shot.read_bytes().startswith(b"\x89PNG")
    with Image.open(shot) as image:
        return np.asarray(image.convert("RGB"))


def _selected_features(dom: str) -> list[int]:
    selected = [int(i) for i in re.findall(r'class="f sel" data-f="(\d+)"', dom)]
    selected += [int(i) for i in re.findall(r'data-f="(\d+)"[^>]*class="f sel"', dom)]
    return sorted(selected)


def _clicked_copy(path, clicks: list[int]):
    """A copy of the report whose last script clicks the listed interactions, in order."""
    script = "".join(f"document.querySelectorAll('ol.terms button')[{k}].click();"
                     for k in clicks)
    page = path.read_text(encoding="utf-8").replace(
        "</body>", f"<script>{script}</script></body>")
    copy = path.with_name(f"clicked-{'-'.join(map(str, clicks))}.html")
    copy.write_text(page, encoding="utf-8")
    return copy.resolve().as_uri()


@pytest.mark.skipif(_chromium() is None, reason="no chromium on PATH (apt-get install chromium)")
def test_report_in_headless_chromium(features, tmp_path):
    result = _result(features)
    path = write_report(tmp_path / "report.html", result, features=features, r2=0.93)
    url = path.resolve().as_uri()
    # the page script runs and selecting interaction 0 (via #term=0) lights up its features
    dom = _dump_dom(tmp_path, url + "#term=0")
    assert 'data-ready="1"' in dom
    assert _selected_features(dom) == [3, 4]
    assert "alert(1)" in dom and "<script>alert(1)" not in dom


@pytest.mark.skipif(_chromium() is None, reason="no chromium on PATH (apt-get install chromium)")
def test_report_renders_and_a_click_highlights_the_interactions_features(features, tmp_path):
    result = _result(features)
    path = write_report(tmp_path / "report.html", result, features=features, r2=0.93,
                        answer="Negative")
    # the page renders: a screenshot of the window's size, not blank, with the colours drawn
    size = (1200, 900)
    still = _screenshot(tmp_path, path.resolve().as_uri(), "still.png", size)
    assert still.shape == (size[1], size[0], 3)
    colours, counts = np.unique(still.reshape(-1, 3), axis=0, return_counts=True)
    assert len(colours) > 200 and counts.max() < 0.9 * counts.sum()  # text and figures
    blue = np.array([33, 102, 172])
    strong = (np.abs(still.astype(int) - (0.75 * blue + 0.25 * 255)).max(axis=2) <= 12)
    assert strong.sum() > 200  # "<b>good</b>", the strongest single feature, fully coloured
    # the list, strongest first: (3, 4), (4,), (9,), (1, 3, 4), (1,)
    data = json.loads(re.search(r'id="interplay-data">(.*?)</script>', path.read_text(
        encoding="utf-8"), re.DOTALL).group(1))
    for k in range(len(data["terms"])):
        dom = _dump_dom(tmp_path, _clicked_copy(path, [k]))
        assert _selected_features(dom) == sorted(data["terms"][k]["features"]), k
        assert re.search(rf'<button type="button" data-term="{k}" class="on">', dom)
        assert len(re.findall(r'class="on"', dom)) == 1
    assert _selected_features(_dump_dom(tmp_path, _clicked_copy(path, [3]))) == [1, 3, 4]
    # another click moves the selection; a second click on the same one clears it
    assert _selected_features(_dump_dom(tmp_path, _clicked_copy(path, [3, 2]))) == [9]
    cleared = _dump_dom(tmp_path, _clicked_copy(path, [3, 3]))
    assert _selected_features(cleared) == [] and "none (click an interaction)" in cleared
    # and the selection shows: the page looks different, the other features dimmed
    clicked = _screenshot(tmp_path, _clicked_copy(path, [0]), "clicked.png", size)
    assert clicked.shape == still.shape and (clicked != still).any(axis=2).sum() > 500


def test_bidi_overrides_and_control_characters_are_shown_not_obeyed():
    # U+202E would show "evil" reversed; ESC[31m would be an ANSI colour code in a terminal
    text = "a \u202eevil\u202c b \x1b[31mred\x1b[0m c\u2066iso\u2069"
    features = TextFeatures.from_text(text, "word")
    n = features.n_features
    result = Interactions([(i,) for i in range(n)], [1.0] * n, n_features=n, basis="mobius",
                          feature_names=features.names(), n_queries=1, method="spex")
    page = render_report(result, features=features, answer="ok \u202edone",
                         details={"model": "m\u200f"})
    for code in ("\u202e", "\u202c", "\u2066", "\u2069", "\u200f", "\x1b"):
        assert code not in page
    assert "[U+202E]evil[U+202C]" in page and "[U+001B][31mred" in page
    assert "ok [U+202E]done" in page and "[U+2066]iso[U+2069]" in page
    blob = re.search(r'<script type="application/json" id="interplay-data">(.*?)</script>',
                     page, re.DOTALL).group(1)
    names = [name for term in json.loads(blob)["terms"] for name in term["names"]]
    assert "[U+202E]evil[U+202C]" in names and not any("\u202e" in x for x in names)


def test_a_full_disk_leaves_the_previous_report_whole(features, tmp_path):
    """The write fails past a file-size limit (EFBIG, as a full disk gives ENOSPC)."""
    import sys

    path = tmp_path / "report.html"
    write_report(path, _result(features), features=features, answer="first")
    before = path.read_bytes()
    script = (
        "import resource, signal, sys\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from test_report import TextFeatures, TEXT, _result, write_report\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "features = TextFeatures.from_text(TEXT, 'word')\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        "    write_report(sys.argv[1], _result(features), features=features, answer='second')\n"
        "except OSError as exc:\n"
        "    print('failed', exc.errno)\n"
    )
    here = str(__import__("pathlib").Path(__file__).parent)
    out = subprocess.run([sys.executable, "-c", script, str(path), here], capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.stdout.startswith("failed"), out.stderr
    assert path.read_bytes() == before  # the old report, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temp file left
