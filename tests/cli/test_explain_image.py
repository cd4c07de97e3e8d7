"""``interplay explain --image``: image classifiers (a tiny ViT, the embedded EfficientNet)
explained by regions, and bad image inputs rejected before the model loads."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from cli_support import one_error_line, run_explain
from PIL import Image

from interplay.cli import explain_cmd
from interplay.models.tiny_vision import build_tiny_image_classifier


@pytest.fixture(scope="module")
def tiny_vit(tmp_path_factory):
    return build_tiny_image_classifier(tmp_path_factory.mktemp("vit"))


@pytest.fixture
def photo(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    Image.fromarray(pixels).save(path)
    return path


def test_tiny_vit_explained_by_grid_regions(tiny_vit, photo, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = run_explain(["--image", photo, "--model", tiny_vit, "--grid", "2x3",
                                     "--budget", "40", "--heldout", "8", "--max-order", "2",
                                     "--out", out], capsys)
    assert code == 0, err
    saved = json.loads((out / "interactions.json").read_text(encoding="utf-8"))
    assert saved["feature_names"] == [f"patch r{r}c{c}" for r in range(2) for c in range(3)]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert len(set(re.findall(r'class="f region" data-f="(\d+)"', page))) == 6
    assert "6 features (6 image regions, grid, blur baseline)" in err
    assert "Explained: the logit of class" in stdout


def test_efficientnet_is_the_default_image_model(photo, tmp_path, capsys):
    out = tmp_path / "out"
    code, _stdout, err = run_explain(["--image", photo, "--grid", "1x2", "--baseline", "mean",
                                     "--budget", "8", "--heldout", "4", "--max-order", "2",
                                     "--out", out], capsys)
    assert code == 0, err
    assert "model loaded" in err and "efficientnet" in err
    saved = json.loads((out / "interactions.json").read_text(encoding="utf-8"))
    assert saved["metadata"]["model_name"] == "efficientnet"
    assert saved["metadata"]["image_features"]["baseline"] == "mean"


@pytest.mark.parametrize("args, message", [
    (["--image", "missing.png"], "cannot read --image 'missing.png'"),
    (["--image", "NOTIMAGE"], "is not an image (PNG or JPEG expected)"),
    (["--image", "PHOTO", "--grid", "4by6"], "--grid must be ROWSxCOLS"),
    (["--image", "PHOTO", "--grid", "0x6"], "--grid must be ROWSxCOLS"),
    (["--image", "PHOTO", "--context-file", "NOTIMAGE"], ("--context-file cannot be used with "
                                                          "--image")),
    (["--image", "PHOTO", "--grid", "2x2", "--superpixels", "9"], ("either --grid or "
                                                                   "--superpixels")),
    (["--image", "PHOTO", "--text", "what is it?"], ("--text with --image needs a "
                                                    "vision-language --model")),
    (["--text", "hello", "--grid", "2x2"], "--grid applies to --image only"),
    ([], "no input: give one of --text"),
])
def test_bad_image_input_is_rejected_before_the_model_loads(args, message, photo, tmp_path,
                                                            capsys, monkeypatch):
    def never(*_):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr(explain_cmd, "load_model", never)
    not_image = tmp_path / "notes.jpg"
    not_image.write_text("not a picture", encoding="utf-8")
    args = [str(photo) if a == "PHOTO" else str(not_image) if a == "NOTIMAGE" else a
            for a in args]
    code, _, err = run_explain([*args, "--out", tmp_path / "out"], capsys)
    assert code == 2
    assert message in one_error_line(err)


@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory):
    from interplay.models.tiny_vision import build_tiny_vlm

    return build_tiny_vlm(tmp_path_factory.mktemp("vlm"))


def test_vision_language_model_explains_regions_and_question_words(tiny_vlm, photo, tmp_path,
                                                                   capsys):
    out = tmp_path / "out"
    code, stdout, err = run_explain(["--image", photo, "--model", tiny_vlm, "--grid", "1x2",
                                     "--text", "what colour", "--answer", "red",
                                     "--budget", "24", "--heldout", "4", "--max-order", "2",
                                     "--batch-size", "4", "--out", out], capsys)
    assert code == 0, err
    saved = json.loads((out / "interactions.json").read_text(encoding="utf-8"))
    assert saved["feature_names"] == ["patch r0c0", "patch r0c1", "what", "colour"]
    assert saved["metadata"]["answer"] == "red"
    page = (out / "report.html").read_text(encoding="utf-8")
    # regions 0, 1 outlined on the image; the question's words 2, 3 selectable as text
    assert sorted(re.findall(r'class="f region" data-f="(\d+)"', page)) == ["0", "1"]
    assert sorted(re.findall(r'<span class="f" data-f="(\d+)"', page)) == ["2", "3"]
    assert "log-probability of the answer 'red'" in stdout


def test_a_text_model_directory_is_refused_as_an_image_model(tmp_path, photo, capsys,
                                                             monkeypatch):
    from interplay.models.tiny import build_tiny_classifier

    text_model = build_tiny_classifier(tmp_path / "bert")
    monkeypatch.setattr(explain_cmd, "load_model", lambda *_: pytest.fail("model loaded"))
    code, _, err = run_explain(["--image", photo, "--model", text_model, "--out",
                                tmp_path / "out"], capsys)
    assert code == 2
    assert "is not an image classifier or a vision-language model" in one_error_line(err)


def test_superpixels_are_the_regions_and_each_has_an_outline(tiny_vit, photo, tmp_path,
                                                             capsys):
    out = tmp_path / "out"
    code, _, err = run_explain(["--image", photo, "--model", tiny_vit, "--superpixels", "5",
                                "--baseline", "zeros", "--budget", "24", "--heldout", "0",
                                "--max-order", "1", "--method", "banzhaf", "--out", out], capsys)
    assert code == 0, err
    saved = json.loads((out / "interactions.json").read_text(encoding="utf-8"))
    regions = saved["metadata"]["image_features"]
    assert regions["kind"] == "superpixels"
    n = len(saved["feature_names"])
    page = (out / "report.html").read_text(encoding="utf-8")
    outlined = re.findall(r'class="f region" data-f="(\d+)" d="([^"]+)"', page)
    assert [int(i) for i, _ in outlined] == list(range(n))
    assert all(d.startswith("M") for _, d in outlined)
