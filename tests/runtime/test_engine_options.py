"""QueryEngine configured by one EngineOptions: the same engine as the keyword form."""

from __future__ import annotations

import numpy as np
import pytest
from runtime_support import RecordingModel, planted

from interplay.runtime import EngineOptions, QueryEngine

N_FEATURES = 12
SETTINGS = {"batch_size": 7, "max_retries": 1, "retry_backoff": 0.0, "fingerprint": "planted"}


@pytest.mark.parametrize("options", [EngineOptions(**SETTINGS), SETTINGS])
def test_options_configure_the_engine_as_keywords_do(rng, tmp_path, options):
    masks = rng.random((40, N_FEATURES)) < 0.5
    by_options = RecordingModel(planted())
    by_keywords = RecordingModel(planted())
    engine = QueryEngine(by_options, N_FEATURES, options=options)
    reference = QueryEngine(by_keywords, N_FEATURES, **SETTINGS)
    np.testing.assert_array_equal(engine(masks), reference(masks))
    assert [len(b) for b in by_options.batches] == [len(b) for b in by_keywords.batches]
    assert max(len(b) for b in by_options.batches) == 7
    assert (engine.batch_size, engine.max_retries, engine.retry_backoff) == (7, 1, 0.0)


def test_options_and_keywords_together_are_refused():
    with pytest.raises(ValueError, match=r"options= or as keywords, not both \(keywords: progress\)"):
        QueryEngine(planted(), N_FEATURES, options=EngineOptions(), progress=True)


def test_an_unknown_setting_names_the_valid_ones():
    with pytest.raises(ValueError, match="unknown engine option.*batch_sise.*valid: .*batch_size"):
        QueryEngine(planted(), N_FEATURES, batch_sise=8)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (EngineOptions(batch_size=0), "batch_size must be at least 1"),
        (EngineOptions(backend="dask"), "unknown backend 'dask'"),
        ({"max_retry_time": -1.0}, "max_retry_time must be non-negative"),
    ],
)
def test_options_are_checked_like_keywords(options, message):
    with pytest.raises(ValueError, match=message):
        QueryEngine(planted(), N_FEATURES, options=options)
