"""The text an explanation was made on, when the result records it."""

from __future__ import annotations

from typing import Any

from interplay.values.text import TextFeatures

__all__ = ["stored_text_features"]


def stored_text_features(metadata: dict[str, Any], n_features: int) -> TextFeatures | None:
    """The :class:`TextFeatures` stored as ``metadata["features"]`` (None when absent).

    ``explain_text`` and the command line store ``TextFeatures.to_dict()`` there. A record
    that does not describe ``n_features`` pieces is ignored (the display then shows names).
    """
    record = metadata.get("features")
    if not isinstance(record, dict):
        return None
    try:
        features = TextFeatures(
            tuple(str(p) for p in record["pieces"]),
            tuple(str(s) for s in record["separators"]),
            str(record.get("unit", "word")),
            str(record.get("prefix", "")),
            str(record.get("suffix", "")),
        )
    except (KeyError, TypeError, ValueError):
        return None
    return features if features.n_features == n_features else None
