"""The HTML report: content, escaping, the network PNG, and a real headless browser."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess

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
    np.testing.assert_allclose(data["first_order"], result.banzhaf_values(), atol=1e-12)
    # every feature is a highlighted span, in order; no network resources
    assert [int(x) for x in re.findall(r'data-f="(\d+)"', page)] == list(range(features.n_features))
    assert "0.931" in page and "64 held-out" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    png = base64.b64decode(re.search(r'data:image/png;base64,([A-Za-z0-9+/=]+)', page).group(1))
    assert png.startswith(b"\x89PNG")


def test_network_png_and_errors(features):
    result = _result(features)
    png = network_png(result, result.banzhaf_values())
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    with pytest.raises(ValueError, match="first_order"):
        network_png(result, np.zeros(3))
    with pytest.raises(ValueError, match="features"):
        render_report(result, features=TextFeatures.from_text("a b", "word"))
    with pytest.raises(ValueError, match="basis"):
        render_report(result, basis="shapley")


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


@pytest.mark.skipif(_chromium() is None, reason="no chromium on PATH (apt-get install chromium)")
def test_report_in_headless_chromium(features, tmp_path):
    result = _result(features)
    path = write_report(tmp_path / "report.html", result, features=features, r2=0.93)
    flags = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    url = path.resolve().as_uri()
    # the page script runs and selecting interaction 0 (via #term=0) lights up its features
    dom = subprocess.run(flags + ["--dump-dom", url + "#term=0"], capture_output=True,
                         text=True, timeout=120, check=False).stdout
    assert 'data-ready="1"' in dom
    selected = sorted(int(i) for i in re.findall(r'class="f sel" data-f="(\d+)"', dom))
    selected += sorted(int(i) for i in re.findall(r'data-f="(\d+)"[^>]*class="f sel"', dom))
    assert sorted(selected) == [3, 4]
    assert "alert(1)" in dom and "<script>alert(1)" not in dom
    shot = tmp_path / "shot.png"
    subprocess.run(flags + [f"--screenshot={shot}", "--window-size=1200,900", url],
                   capture_output=True, timeout=120, check=False)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000  # a rendered page, not blank


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
