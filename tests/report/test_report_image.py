"""The image report in headless Chromium: it renders, and a click on an interaction outlines
exactly its regions."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from interplay.report import write_report
from interplay.report.image_html import region_outline_paths
from interplay.spectral.interactions import Interactions
from interplay.values.image_features import ImageFeatures

CHROMIUM = next((p for p in map(shutil.which, ["chromium", "chromium-browser"]) if p), None)


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", "--no-first-run",
                           f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def photo_regions():
    pixels = np.random.default_rng(0).integers(0, 256, (60, 90, 3), dtype=np.uint8)
    return ImageFeatures.grid(pixels, 2, 3, baseline="zeros")


def _result(regions: ImageFeatures) -> Interactions:
    terms = [((), 1.0), ((0,), 2.0), ((4,), -1.5), ((1, 5), 3.0), ((0, 2, 3), -0.5)]
    return Interactions([t for t, _ in terms], [c for _, c in terms],
                        n_features=regions.n_features, basis="mobius",
                        feature_names=regions.names(), n_queries=64, method="proxyspex")


def test_outline_path_traces_each_regions_border():
    segments = np.array([[0, 0, 1], [0, 2, 1]])
    paths = region_outline_paths(segments)
    # region 1 (two pixels in the last column): top, bottom, left and right sides
    assert sorted(re.findall(r"M\d+ \d+[hv]\d+", paths[1])) == sorted(
        ["M2 0h1", "M2 2h1", "M2 0v2", "M3 0v2"])
    # region 2 (one pixel): a unit square
    assert sorted(re.findall(r"M\d+ \d+[hv]\d+", paths[2])) == sorted(
        ["M1 1h1", "M1 2h1", "M1 1v1", "M2 1v1"])


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")
def test_image_report_renders_and_a_click_outlines_exactly_its_regions(photo_regions,
                                                                       tmp_path):
    result = _result(photo_regions)
    path = write_report(tmp_path / "report.html", result, image=photo_regions, r2=0.9)
    page = path.read_text(encoding="utf-8")
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,900",
              path.resolve().as_uri())
    from PIL import Image

    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB"))
    colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
    assert len(colours) > 1000 and counts.max() < 0.9 * counts.sum()  # the photo is drawn
    buttons = re.findall(r'data-term="(\d+)"><span class="v [a-z]+">([^<]+)</span>', page)
    order = [name for name in re.findall(r'<span class="names">([^<]+)</span>', page)]
    for k, names in enumerate(order):
        wanted = sorted(photo_regions.names().index(n) for n in names.split(" × "))
        copy = tmp_path / f"clicked-{k}.html"
        copy.write_text(page.replace(
            "</body>", f"<script>document.querySelectorAll('ol.terms button')[{k}].click();"
                       "</script></body>"), encoding="utf-8")
        dom = _chromium(tmp_path, "--dump-dom", copy.resolve().as_uri()).stdout
        outlined = sorted(int(i) for i in re.findall(
            r'<path class="f region sel" data-f="(\d+)"', dom))
        assert outlined == wanted, (k, names)
    assert len(buttons) == len(order) == 4
