"""JSON persistence shared by the result types: text, atomic files, numpy-safe metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from typing_extensions import Self

__all__ = ["JSONDocument", "json_default"]

T = TypeVar("T", bound="JSONDocument")


def json_default(obj: Any) -> Any:
    """Turn numpy scalars and arrays (typical in solver metadata) into JSON values."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"object of type {type(obj).__name__} is not JSON serialisable")


class JSONDocument:
    """Mixin: ``to_json``/``from_json``/``save``/``load`` on top of ``to_dict``/``from_dict``."""

    def to_dict(self) -> dict:  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: dict) -> Self:  # pragma: no cover
        raise NotImplementedError

    def to_json(self, **kwargs: Any) -> str:
        """JSON text; floats keep full precision (numpy scalars and arrays in metadata too)."""
        kwargs.setdefault("default", json_default)
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> Self:
        """Parse :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))

    def save(self, path: str | Path) -> Path:
        """Write JSON to ``path`` atomically (a temporary file, then a rename); return it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.to_json(indent=1), encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a file written by :meth:`save`."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))
