"""Small valid saved documents (binary, q-ary, and a q-ary file of an earlier release) that
tests change or damage."""

from __future__ import annotations

import json

from interplay.spectral.interactions import Interactions


def binary_document() -> dict:
    result = Interactions(
        [(), (0,), (1, 2)],
        [0.5, -1.0, 2.0],
        n_features=3,
        basis="mobius",
        feature_names=["a", "b", "c"],
        n_queries=8,
        method="spex",
        metadata={"budget": 8},
    )
    return json.loads(result.to_json())


def qary_document() -> dict:
    result = Interactions(
        [{}, {0: 1}, {0: 3}, {1: 2, 2: 1}],
        [1.0, 0.5 + 0.25j, 0.5 - 0.25j, 2.0],
        n_features=3,
        q=4,
        feature_names=["p0", "p1", "p2"],
        state_names=list("ACGU"),
        n_queries=64,
        method="qsft",
    )
    return json.loads(result.to_json())


def legacy_qary_document() -> dict:
    """The same result as :func:`qary_document`, as the release before the one result type
    saved it (a result class of its own for q > 2): its own format name, no basis, no order."""
    return {
        "format": "interplay.qary_interactions",
        "version": 1,
        "q": 4,
        "n_features": 3,
        "feature_names": ["p0", "p1", "p2"],
        "state_names": ["A", "C", "G", "U"],
        "method": "qsft",
        "n_queries": 64,
        "metadata": {},
        "terms": [
            [[], 1.0, 0.0],
            [[[0, 1]], 0.5, 0.25],
            [[[0, 3]], 0.5, -0.25],
            [[[1, 2], [2, 1]], 2.0, 0.0],
        ],
    }
