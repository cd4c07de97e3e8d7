"""What ``interplay explain`` reads: a prompt, a context with a query, or a set of documents.

Every failure is a :class:`UsageError` naming the option and what to do, raised before any
model is loaded.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from interplay.explain_text import context_features
from interplay.spectral.names import unique_names
from interplay.values.text import TextFeatures

__all__ = [
    "DOCUMENT_SUFFIXES",
    "TextInput",
    "UsageError",
    "parse_grid",
    "read_documents",
    "read_image",
    "read_text_file",
]

#: The files of a ``--documents`` directory that are read, in order of name.
DOCUMENT_SUFFIXES = (".txt", ".md")


class UsageError(ValueError):
    """A bad argument or input; the message names it and says what to do."""


def read_text_file(path: Path | str, flag: str) -> str:
    """The UTF-8 text of ``path`` (``"-"``: standard input).

    Raises
    ------
    UsageError
        The file cannot be read or is not UTF-8, naming ``flag``.
    """
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{flag} {str(path)!r} is not UTF-8 text ({exc.reason}); "
                         "convert it to UTF-8") from None
    except OSError as exc:
        raise UsageError(f"cannot read {flag} {str(path)!r} ({exc.strerror or exc}); "
                         "check the path") from None


def _jsonl_documents(path: Path) -> list[tuple[str, str | None]]:
    documents = []
    lines = read_text_file(path, "--documents").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"--documents {str(path)!r} line {number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise UsageError(f"{where} is not JSON ({exc.msg}); give one JSON object a "
                             'line, e.g. {"title": "...", "text": "..."}') from None
        text = record.get("text") if isinstance(record, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise UsageError(f'{where} has no "text" (a non-empty string); give each '
                             'document as {"text": "...", "title": "..."}')
        title = record.get("title", record.get("id"))
        documents.append((text, None if title is None else str(title)))
    return documents


def read_documents(path: Path | str) -> list[tuple[str, str | None]]:
    """The documents of a ``--documents`` directory or JSON Lines file, in order.

    Parameters
    ----------
    path : Path or str
        A directory (its ``.txt`` and ``.md`` files, sorted by name, each one document
        titled by its file name) or a ``.jsonl`` file (one ``{"text": ..., "title": ...}``
        object a line; ``"title"`` or else ``"id"`` names the document).

    Returns
    -------
    list of (text, title or None)

    Raises
    ------
    UsageError
        A missing path, an unreadable or empty document, a bad JSON line, or no documents.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir()
                       if p.suffix.lower() in DOCUMENT_SUFFIXES and p.is_file())
        documents = [(read_text_file(p, "--documents"), p.name) for p in files]
        for (text, name) in documents:
            if not text.strip():
                raise UsageError(f"--documents file {str(path / name)!r} is empty; remove it "
                                 "or give it text")
        what = f"no {' or '.join(DOCUMENT_SUFFIXES)} files in the directory"
    elif path.is_file():
        documents = _jsonl_documents(path)
        what = "no documents in the file"
    else:
        raise UsageError(f"--documents {str(path)!r} does not exist; give a directory of "
                         ".txt/.md files or a .jsonl file")
    if not documents:
        raise UsageError(f"--documents {str(path)!r} is an empty document set ({what}); "
                         "give at least one document")
    return documents


@dataclass(frozen=True)
class TextInput:
    """The text of one ``interplay explain`` run, read and checked.

    Attributes
    ----------
    features : TextFeatures
        The maskable features, the query (if any) fixed after them.
    names : list of str
        One name a feature: a document's title with ``--documents`` (one feature a
        document), else the feature's text.
    query : str or None
        The unmasked query.
    """

    features: TextFeatures
    names: list[str]
    query: str | None

    @classmethod
    def from_arguments(cls, *, text: str | None, file: Path | None, context_file: Path | None,
                       documents: Path | None, query: str | None,
                       unit: str | None) -> TextInput:
        """Read the input the options name (exactly one of ``text``, ``file``,
        ``context_file`` and ``documents``).

        ``--unit`` defaults to ``word`` for a prompt (``--text``, ``--file``), ``sentence``
        for ``--context-file`` and ``document`` for ``--documents``.
        """
        if query is not None and context_file is None and documents is None:
            raise UsageError("--query needs a context: give --context-file FILE or --documents "
                             "DIR|JSONL (with --text or --file all of the prompt is masked)")
        if query is not None and not query.strip():
            raise UsageError("--query is empty; give the question or leave --query out")
        if unit == "document" and documents is None:
            raise UsageError("--unit document needs --documents; choose word, sentence or "
                             "paragraph")
        if documents is not None:
            docs = read_documents(documents)
            features = context_features(documents=[d for d, _ in docs], query=query, unit=unit)
            titles = [title for _, title in docs]
            if features.unit == "document" and all(titles):
                return cls(features, unique_names([" ".join(str(t).split()) for t in titles]),
                           query)
            return cls(features, features.names(), query)
        if context_file is not None:
            context = read_text_file(context_file, "--context-file")
            flag = "--context-file"
        else:
            context = text if text is not None else read_text_file(file, "--file")
            flag = "--text" if text is not None else "--file"
            unit = unit or "word"
        if not context.strip():
            raise UsageError(f"{flag} is empty; give the text to explain")
        features = context_features(context, query=query, unit=unit)
        return cls(features, features.names(), query)


def read_image(path: Path | str, max_side: int = 0):
    """The RGB pixels of the PNG or JPEG at ``path``, as an (H, W, 3) uint8 array.

    ``max_side`` > 0 shrinks the image (aspect ratio kept) so its longer side is at most
    that many pixels.

    Raises
    ------
    UsageError
        The file is missing or is not an image Pillow can read, naming ``--image``.
    """
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except UnidentifiedImageError:
        raise UsageError(f"--image {str(path)!r} is not an image (PNG or JPEG expected); "
                         "give a photo file") from None
    except OSError as exc:
        raise UsageError(f"cannot read --image {str(path)!r} ({exc.strerror or exc}); "
                         "check the path") from None
    if max_side > 0 and max(image.size) > max_side:
        scale = max_side / max(image.size)
        image = image.resize((max(1, round(image.width * scale)),
                              max(1, round(image.height * scale))), Image.BILINEAR)
    return np.asarray(image)


def parse_grid(text: str) -> tuple[int, int]:
    """``"RxC"`` (e.g. ``"4x6"``) as (rows, cols), both positive.

    Raises
    ------
    UsageError
        Anything else, naming ``--grid``.
    """
    rows, sep, cols = text.lower().partition("x")
    try:
        shape = (int(rows), int(cols))
    except ValueError:
        shape = (0, 0)
    if not sep or min(shape) < 1:
        raise UsageError(f"--grid must be ROWSxCOLS with positive numbers (e.g. 4x6), got "
                         f"{text!r}")
    return shape
