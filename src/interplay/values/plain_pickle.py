"""Read pickles that hold plain data only, without running code from the file.

``pickle.load`` calls any function a file names, so a file you did not write yourself can run
arbitrary code (a ``__reduce__`` payload). Data sets such as CIFAR-10 are distributed as
pickles of plain data: dicts, lists, bytes, str, numbers and numpy arrays. :func:`load_plain_pickle`
reads those with an unpickler that resolves only the few numpy names an array needs, each
through a wrapper that builds the array from the file's bytes and nothing else; any other
name (``os.system``, ``builtins.eval``, a class) is refused before it is called.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_plain_pickle"]


class _Refused(pickle.UnpicklingError):
    """The file asks for something that is not plain data."""


class _ArrayType:
    """Stands for ``numpy.ndarray`` in a pickle: accepted by ``_reconstruct``, not callable."""


def _plain_dtype(*args: Any) -> np.dtype:
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise _Refused("an array of Python objects (dtype 'O') is not plain data")
    return dtype


def _empty_array(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """``numpy.core.multiarray._reconstruct``: an empty array that the file's state fills."""
    if subtype is not _ArrayType:
        raise _Refused("only numpy.ndarray may be reconstructed")
    # the shape and data come with the state that follows (ndarray.__setstate__ checks that
    # the bytes match the shape), so nothing is allocated from a size in the file alone
    return np.empty(0, dtype=np.uint8)


def _array_from_buffer(buffer: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    """``numpy.core.numeric._frombuffer`` (protocol 5): an array on the file's bytes."""
    dtype = _plain_dtype(dtype)
    array = np.frombuffer(bytes(buffer), dtype=dtype)
    return array.reshape(shape, order="F" if order == "F" else "C").copy()


def _scalar(dtype: Any, data: Any = None) -> Any:
    """``numpy.core.multiarray.scalar``: a numpy scalar from its bytes."""
    dtype = _plain_dtype(dtype)
    raw = data.encode("latin1") if isinstance(data, str) else bytes(data)
    if len(raw) != dtype.itemsize:
        raise _Refused("a numpy scalar with the wrong number of bytes")
    return np.frombuffer(raw, dtype=dtype)[0]


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """``_codecs.encode``: how protocol-2 pickles from Python 3 store bytes."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise _Refused("only latin-1 text may be encoded to bytes")
    return text.encode("latin1")


_ALLOWED = {
    ("numpy", "ndarray"): _ArrayType,
    ("numpy", "dtype"): _plain_dtype,
    ("numpy.core.multiarray", "_reconstruct"): _empty_array,
    ("numpy._core.multiarray", "_reconstruct"): _empty_array,
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("numpy.core.numeric", "_frombuffer"): _array_from_buffer,
    ("numpy._core.numeric", "_frombuffer"): _array_from_buffer,
    ("_codecs", "encode"): _latin1_bytes,
}


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get((module, name))
        if found is None:
            raise _Refused(f"it names {module}.{name}")
        return found


def load_plain_pickle(path: str | Path, *, what: str = "file") -> Any:
    """Unpickle a file of plain data without running any code it names.

    Parameters
    ----------
    path : path
        The pickle.
    what : str
        What the file is, for the messages (``"CIFAR-10 batch"``).

    Returns
    -------
    The object: dicts, lists, tuples, str, bytes, numbers, and numpy arrays and scalars of
    numeric dtypes.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file names anything else (a function or class: unpickling it could run code, so
        it is refused before anything is called), or is not a complete pickle.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} not found")
    # from the bytes in memory, so a length in the file cannot make the reader allocate more
    raw = io.BytesIO(path.read_bytes())
    try:
        return _PlainUnpickler(raw, encoding="latin1").load()
    except _Refused as exc:
        raise ValueError(
            f"{path}: refused to read this {what}: {exc}. Only plain data (dicts, lists, "
            "str, bytes, numbers, numpy arrays) is read from a pickle, because unpickling "
            "anything else can run code from the file"
        ) from None
    except (
        pickle.UnpicklingError,
        EOFError,
        TypeError,
        ValueError,
        AttributeError,
        IndexError,
        KeyError,
        MemoryError,
        RecursionError,
    ) as exc:
        raise ValueError(f"{path}: not a readable {what} ({type(exc).__name__}: {exc})") from None
