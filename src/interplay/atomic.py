"""Atomic file writes: a file is either its old self or entirely new, never half written.

The text goes to a temporary file in the same directory (same file system), is flushed to
disk, and is then renamed over the target with :func:`os.replace`, which is atomic on POSIX
and Windows. If anything fails (a full disk, a read-only directory, an interrupt), the
temporary file is removed and the target is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_bytes_atomic", "write_text_atomic"]


def write_text_atomic(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; create missing parent directories.

    Parameters
    ----------
    path : str or Path
        The file to (over)write.
    text : str
        Its new content.
    encoding : str
        Text encoding.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        When the file cannot be written (the target is then unchanged and no temporary file
        is left behind).
    """
    return write_bytes_atomic(path, text.encode(encoding))


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; create missing parent directories.

    Parameters
    ----------
    path : str or Path
        The file to (over)write.
    data : bytes
        Its new content.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        When the file cannot be written (the target is then unchanged and no temporary file
        is left behind).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o666 & ~_umask())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    return path


def _umask() -> int:
    """The process's file-creation mask (``mkstemp`` creates files readable by the owner only)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask
