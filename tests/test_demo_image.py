"""The image demo on a reduced setting: a small grid and budget, the real shipped model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interplay.demo_image import explain_photo, load_photo, main
from interplay.models.efficientnet import EfficientNetLite0


def test_load_photo_keeps_the_aspect_ratio():
    photo = load_photo("china.jpg", 64)
    assert photo.shape == (64, 96, 3) and photo.dtype == np.uint8


def test_explain_photo_finds_the_top_class_and_fits_it():
    classifier = EfficientNetLite0(device="cpu", batch_size=16)
    demo = explain_photo(load_photo(), classifier, grid=(2, 3), budget=48, max_order=2,
                         n_heldout=16)
    assert demo.value.target_label == "bell cote" and 0.2 < demo.probability < 1.0
    assert demo.result.n_queries <= 48 and demo.result.n_features == 6
    assert demo.result.feature_names[5] == "patch r1c2"
    assert demo.fit.r2 > 0.5  # 6 patches are few enough for 48 queries
    # the tower (left two columns) matters more than the lake and trees on the right
    effects = demo.result.banzhaf_values().reshape(2, 3)
    assert effects[:, :2].sum() > effects[:, 2].sum()


def test_main_writes_the_figure_and_the_explanation(tmp_path, capsys):
    code = main(["--grid", "2x2", "--budget", "24", "--heldout", "8", "--out", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "top class: 'bell cote'" in printed and "faithfulness: " in printed
    assert (tmp_path / "image_explanation.png").read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((tmp_path / "interactions.json").read_text())
    assert saved["n_features"] == 4


@pytest.mark.parametrize("grid", ["0x3", "4", "axb"])
def test_a_bad_grid_is_refused_by_argparse_naming_the_option(grid, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--grid", grid])
    assert stop.value.code == 2
    assert "--grid must be ROWSxCOLS" in capsys.readouterr().err
