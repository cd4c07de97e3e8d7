"""An on-disk cache of value-function results: SQLite, keyed by (fingerprint, n, packed mask).

The cache is what makes a long explanation resumable: every batch of results is committed as
soon as it arrives, so a run that is killed half-way and restarted re-queries nothing it
already has. SQLite runs in WAL mode, so several processes may read and write one cache file
(one writer at a time; readers never block).

Keys are exact: the model's *fingerprint* (a string the caller guarantees identifies the
model and its input, e.g. model name + prompt + segmentation), the number of features n, the
alphabet size q (2 for boolean masks), and the mask packed 8 features per byte
(``numpy.packbits``; q-ary masks: one byte per feature, two when q > 256). Values are stored as 8-byte floats
and come back bit-identical.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from itertools import repeat
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_CACHE_FILE", "MaskCache", "mask_keys", "resolve_cache_path"]

#: File name used when the cache location given is a directory.
DEFAULT_CACHE_FILE = "interplay-queries.sqlite"
_FILE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
# SQLite's default limit on bound parameters is 32766 since 3.32 (999 before); stay below both.
_LOOKUP_CHUNK = 900

_WHERE = "fingerprint = ? AND n_features = ? AND alphabet_size = ?"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS query_values (
    fingerprint TEXT NOT NULL,
    n_features INTEGER NOT NULL,
    alphabet_size INTEGER NOT NULL,
    mask BLOB NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (fingerprint, n_features, alphabet_size, mask)
) WITHOUT ROWID
"""


def resolve_cache_path(location: str | Path) -> Path:
    """The SQLite file for a cache location.

    A path ending in ``.sqlite``, ``.sqlite3`` or ``.db`` is the file itself; anything else is
    a directory (created if missing) holding ``interplay-queries.sqlite``.
    """
    path = Path(location).expanduser()
    if path.suffix.lower() in _FILE_SUFFIXES:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path
    if path.exists() and not path.is_dir():
        raise ValueError(
            f"cache location {str(path)!r} is an existing file without a .sqlite/.sqlite3/.db "
            "suffix; give a directory or a .sqlite file"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path / DEFAULT_CACHE_FILE


def _key_dtype(alphabet_size: int) -> np.dtype:
    return np.dtype(np.uint8) if alphabet_size <= 256 else np.dtype("<u2")


def mask_keys(masks: np.ndarray, alphabet_size: int = 2) -> list[bytes]:
    """One ``bytes`` key per mask row.

    Parameters
    ----------
    masks : (N, n) bool array, or (N, n) int array with entries in 0..q-1
    alphabet_size : int
        q; 2 for boolean masks.

    Returns
    -------
    list of N bytes objects: the row packed 8 features per byte (``ceil(n / 8)`` bytes) for
    boolean masks, one byte per feature for q <= 256, two for larger q.
    """
    if alphabet_size == 2:
        packed = np.ascontiguousarray(np.packbits(masks, axis=1))
    else:
        packed = np.ascontiguousarray(masks, dtype=_key_dtype(alphabet_size)).view(np.uint8)
    width = packed.shape[1]
    if packed.shape[0] == 0:
        return []
    return packed.view(np.dtype((np.void, width))).ravel().tolist()


class MaskCache:
    """Values of one model (one fingerprint, one n) stored in a SQLite file.

    Parameters
    ----------
    path : str or Path
        The SQLite file (see :func:`resolve_cache_path` to turn a directory into one).
    fingerprint : str
        Identity of the model and its input. Must be non-empty.
    n_features : int
        Number of features n of the masks.
    alphabet_size : int
        Number of states q of each feature (2: boolean masks).
    timeout : float
        Seconds to wait for another process's write lock before failing.

    Notes
    -----
    The connection is opened lazily and belongs to the thread that opened it.
    """

    def __init__(
        self,
        path: str | Path,
        fingerprint: str,
        n_features: int,
        *,
        alphabet_size: int = 2,
        timeout: float = 60.0,
    ) -> None:
        if not isinstance(fingerprint, str) or not fingerprint:
            raise ValueError("a cache needs a non-empty string fingerprint identifying the model")
        self.path = Path(path)
        self.fingerprint = fingerprint
        self.n_features = int(n_features)
        self.alphabet_size = int(alphabet_size)
        if self.alphabet_size < 2:
            raise ValueError(f"alphabet_size must be at least 2, got {alphabet_size}")
        self.timeout = float(timeout)
        self._conn: sqlite3.Connection | None = None

    @property
    def _space(self) -> tuple[str, int, int]:
        return (self.fingerprint, self.n_features, self.alphabet_size)

    @property
    def connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL survives a killed process (not a power cut) and is much faster.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            self._conn = conn
        return self._conn

    def open(self) -> MaskCache:
        """Open the file now (creating it, in WAL mode, with its table) and return self."""
        _ = self.connection
        return self

    def lookup(self, keys: list[bytes]) -> dict[bytes, float]:
        """The cached values among ``keys`` (a dict holding only the keys found)."""
        found: dict[bytes, float] = {}
        conn = self.connection
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[start : start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT mask, value FROM query_values WHERE {_WHERE} AND mask IN ({marks})",
                (*self._space, *chunk),
            )
            found.update(rows)
        return found

    def store(self, keys: Iterable[bytes], values: Iterable[float]) -> None:
        """Insert (or overwrite) values and commit them in one transaction."""
        conn = self.connection
        values = np.asarray(values, dtype=np.float64).tolist()
        if not values:
            return
        fp, n, q = self._space
        rows = zip(repeat(fp), repeat(n), repeat(q), keys, values)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT OR REPLACE INTO query_values "
                "(fingerprint, n_features, alphabet_size, mask, value) VALUES (?, ?, ?, ?, ?)",
                rows,
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def snapshot(self) -> dict[bytes, float]:
        """Every cached value of this fingerprint and n, keyed by packed mask (one scan)."""
        return dict(
            self.connection.execute(
                f"SELECT mask, value FROM query_values WHERE {_WHERE}", self._space
            )
        )

    def __len__(self) -> int:
        """Number of values stored for this fingerprint and n."""
        (count,) = self.connection.execute(
            f"SELECT COUNT(*) FROM query_values WHERE {_WHERE}", self._space
        ).fetchone()
        return int(count)

    def load_all(self) -> tuple[np.ndarray, np.ndarray]:
        """Every cached (mask, value) of this fingerprint and n.

        Returns
        -------
        masks : (K, n) bool array (int array for q > 2)
        values : (K,) float array
        """
        rows = self.connection.execute(
            f"SELECT mask, value FROM query_values WHERE {_WHERE}", self._space
        ).fetchall()
        n, q = self.n_features, self.alphabet_size
        if not rows:
            return np.zeros((0, n), dtype=bool if q == 2 else np.int64), np.zeros(0)
        raw = np.frombuffer(b"".join(r[0] for r in rows), dtype=np.uint8)
        if q == 2:
            masks = np.unpackbits(raw.reshape(len(rows), -1), axis=1, count=n).astype(bool)
        else:
            masks = raw.view(_key_dtype(q)).reshape(len(rows), n).astype(np.int64)
        return masks, np.array([r[1] for r in rows], dtype=np.float64)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __repr__(self) -> str:
        return (
            f"MaskCache({str(self.path)!r}, fingerprint={self.fingerprint!r}, "
            f"n_features={self.n_features}, alphabet_size={self.alphabet_size})"
        )
