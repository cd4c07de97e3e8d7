"""An on-disk cache of value-function results: SQLite, keyed by (fingerprint, n, q, mask).

The cache is what makes a long explanation resumable: every batch of results is committed as
soon as it arrives, so a run that is killed half-way and restarted re-queries nothing it
already has. SQLite runs in WAL mode, so several processes may read and write one cache file
(one writer at a time; readers never block).

Keys are exact: the model's *fingerprint* (a string the caller guarantees identifies the
model and its input, e.g. model name + prompt + segmentation), the number of features n, the
alphabet size q (2 for boolean masks), and the mask packed 8 features per byte
(``numpy.packbits``; q-ary masks: one byte per feature, two when q > 256). Values are stored
as 8-byte floats and come back bit-identical.

Layout: a table of key spaces (fingerprint, n, q) -> small integer, and an append-only table
(row id, space, mask, value) indexed by (space, row id). A batch of new rows touches a couple
of pages at the end of the table and of the index, so committing it is cheap whatever its size
(a table keyed by the random mask bytes would dirty up to one page per row). Reading is by
range: all the rows of one space, then only the rows appended since (by any process).
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

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS key_spaces (
        id INTEGER PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        n_features INTEGER NOT NULL,
        alphabet_size INTEGER NOT NULL,
        UNIQUE (fingerprint, n_features, alphabet_size)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS query_values (
        id INTEGER PRIMARY KEY,
        space INTEGER NOT NULL REFERENCES key_spaces (id),
        mask BLOB NOT NULL,
        value REAL NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS query_values_space ON query_values (space, id)",
)


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
    """Values of one model (one fingerprint, one n, one q) stored in a SQLite file.

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
    The connection is opened lazily and belongs to the thread that opened it. A mask stored
    twice (two processes computing it at once) keeps its latest value.
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
        self._space_id = 0
        self._read_up_to = 0  # row id up to which refresh() has read
        self._known: dict[bytes, float] = {}  # what lookup() has read

    @property
    def connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL survives a killed process (not a power cut) and is much faster.
            conn.execute("PRAGMA synchronous=NORMAL")
            space = (self.fingerprint, self.n_features, self.alphabet_size)
            conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute(
                    "INSERT OR IGNORE INTO key_spaces (fingerprint, n_features, alphabet_size) "
                    "VALUES (?, ?, ?)",
                    space,
                )
                (self._space_id,) = conn.execute(
                    "SELECT id FROM key_spaces WHERE fingerprint = ? AND n_features = ? "
                    "AND alphabet_size = ?",
                    space,
                ).fetchone()
            except BaseException:
                conn.execute("ROLLBACK")
                conn.close()
                raise
            conn.execute("COMMIT")
            self._conn = conn
        return self._conn

    def open(self) -> MaskCache:
        """Open the file now (creating it, in WAL mode, with its table) and return self."""
        _ = self.connection
        return self

    def refresh(self, into: dict[bytes, float]) -> int:
        """Add to ``into`` every (key, value) stored since the last refresh (all, at first).

        Returns the number of rows read. Rows appended by other processes are seen too.
        """
        conn = self.connection
        cursor = conn.execute(
            "SELECT id, mask, value FROM query_values WHERE space = ? AND id > ? ORDER BY id",
            (self._space_id, self._read_up_to),
        )
        rows = cursor.fetchall()
        if rows:
            self._read_up_to = rows[-1][0]
            into.update((mask, value) for _, mask, value in rows)
        return len(rows)

    def lookup(self, keys: Iterable[bytes]) -> dict[bytes, float]:
        """The cached values among ``keys`` (a dict holding only the keys found)."""
        self.refresh(self._known)
        known = self._known
        return {k: known[k] for k in keys if k in known}

    def snapshot(self) -> dict[bytes, float]:
        """Every cached value of this fingerprint, n and q, keyed by mask (one range scan)."""
        conn = self.connection
        return dict(
            conn.execute(
                "SELECT mask, value FROM query_values WHERE space = ? ORDER BY id",
                (self._space_id,),
            )
        )

    def store(self, keys: Iterable[bytes], values: Iterable[float]) -> None:
        """Append values and commit them in one transaction (all or nothing)."""
        conn = self.connection
        values = np.asarray(values, dtype=np.float64).tolist()
        if not values:
            return
        rows = zip(repeat(self._space_id), keys, values)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("INSERT INTO query_values (space, mask, value) VALUES (?, ?, ?)", rows)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def __len__(self) -> int:
        """Number of distinct masks stored for this fingerprint, n and q."""
        conn = self.connection
        (count,) = conn.execute(
            "SELECT COUNT(DISTINCT mask) FROM query_values WHERE space = ?", (self._space_id,)
        ).fetchone()
        return int(count)

    def load_all(self) -> tuple[np.ndarray, np.ndarray]:
        """Every cached (mask, value) of this fingerprint, n and q.

        Returns
        -------
        masks : (K, n) bool array (int array for q > 2), each distinct mask once
        values : (K,) float array
        """
        found = self.snapshot()
        n, q = self.n_features, self.alphabet_size
        if not found:
            return np.zeros((0, n), dtype=bool if q == 2 else np.int64), np.zeros(0)
        raw = np.frombuffer(b"".join(found), dtype=np.uint8)
        if q == 2:
            masks = np.unpackbits(raw.reshape(len(found), -1), axis=1, count=n).astype(bool)
        else:
            masks = raw.view(_key_dtype(q)).reshape(len(found), n).astype(np.int64)
        return masks, np.fromiter(found.values(), dtype=np.float64, count=len(found))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __repr__(self) -> str:
        return (
            f"MaskCache({str(self.path)!r}, fingerprint={self.fingerprint!r}, "
            f"n_features={self.n_features}, alphabet_size={self.alphabet_size})"
        )
