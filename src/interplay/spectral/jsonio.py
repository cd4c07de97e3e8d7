"""JSON persistence shared by the result types: text, atomic files, numpy-safe metadata.

Loading treats the file as untrusted: ``from_dict`` of each result type checks every field
(see :mod:`interplay.spectral.schema`) and every failure is one ValueError naming the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from typing_extensions import Self

from interplay.atomic import write_text_atomic
from interplay.spectral.schema import TABLE_CELLS, table_limit

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
    def from_dict(cls, data: dict, *, max_table: int = TABLE_CELLS) -> Self:  # pragma: no cover
        raise NotImplementedError

    def to_json(self, **kwargs: Any) -> str:
        """JSON text; floats keep full precision (numpy scalars and arrays in metadata too)."""
        kwargs.setdefault("default", json_default)
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_json(cls, text: str) -> Self:
        """Parse :meth:`to_json` output, checking every field (see ``from_dict``).

        Raises
        ------
        ValueError
            One line: the text is not JSON, or names the first field that is wrong.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): the "
                "file is damaged, truncated or not a saved result"
            ) from None
        except RecursionError:
            raise ValueError("JSON nested too deeply: not a saved result") from None
        return cls.from_dict(data, max_table=table_limit(len(text)))

    def save(self, path: str | Path) -> Path:
        """Write JSON to ``path`` atomically; return it.

        The text goes to a temporary file in the same folder that is then renamed over
        ``path``, so a full disk or an interrupt leaves the previous file as it was.
        """
        return write_text_atomic(path, self.to_json(indent=1))

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a file written by :meth:`save`, checking every field.

        Raises
        ------
        FileNotFoundError
            No such file.
        PermissionError
            The file cannot be read.
        ValueError
            ``path`` is not a regular file or not UTF-8 JSON, or a field is missing, of the
            wrong type or out of range: one line naming the file and the field.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file to load")
        if not path.is_file():
            kind = "a directory" if path.is_dir() else "not a regular file"
            raise ValueError(f"{path} is {kind}, not a saved result")
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{path}: not UTF-8 text (byte {exc.start}): not a saved result"
            ) from None
        try:
            return cls.from_json(text)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
