"""An on-disk cache of value-function results: SQLite, keyed by (fingerprint, n, packed mask).

The cache is what makes a long explanation resumable: every batch of results is committed as
soon as it arrives, so a run that is killed half-way and restarted re-queries nothing it
already has. SQLite runs in WAL mode, so several processes may read and write one cache file
(one writer at a time; readers never block).

Keys are exact: the model's *fingerprint* (a string the caller guarantees identifies the
model and its input, e.g. model name + prompt + segmentation), the number of features n, and
the mask packed 8 features per byte (``numpy.packbits``). Values are stored as 8-byte floats
and come back bit-identical.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_CACHE_FILE", "CacheWriter", "MaskCache", "mask_keys", "resolve_cache_path"]

#: File name used when the cache location given is a directory.
DEFAULT_CACHE_FILE = "interplay-queries.sqlite"
_FILE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
# SQLite's default limit on bound parameters is 32766 since 3.32 (999 before); stay below both.
_LOOKUP_CHUNK = 900

_SCHEMA = """
CREATE TABLE IF NOT EXISTS query_values (
    fingerprint TEXT NOT NULL,
    n_features INTEGER NOT NULL,
    mask BLOB NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (fingerprint, n_features, mask)
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


def mask_keys(masks: np.ndarray) -> list[bytes]:
    """One ``bytes`` key per mask row: the row packed 8 features per byte.

    Parameters
    ----------
    masks : (N, n) bool array

    Returns
    -------
    list of N bytes objects, each ``ceil(n / 8)`` long.
    """
    packed = np.ascontiguousarray(np.packbits(masks, axis=1))
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
    timeout : float
        Seconds to wait for another process's write lock before failing.

    Notes
    -----
    The connection is opened lazily and belongs to the thread that opened it.
    """

    def __init__(
        self, path: str | Path, fingerprint: str, n_features: int, *, timeout: float = 60.0
    ) -> None:
        if not isinstance(fingerprint, str) or not fingerprint:
            raise ValueError("a cache needs a non-empty string fingerprint identifying the model")
        self.path = Path(path)
        self.fingerprint = fingerprint
        self.n_features = int(n_features)
        self.timeout = float(timeout)
        self._conn: sqlite3.Connection | None = None

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

    def lookup(self, keys: list[bytes]) -> dict[bytes, float]:
        """The cached values among ``keys`` (a dict holding only the keys found)."""
        found: dict[bytes, float] = {}
        conn = self.connection
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[start : start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                "SELECT mask, value FROM query_values WHERE fingerprint = ? AND n_features = ? "
                f"AND mask IN ({marks})",
                (self.fingerprint, self.n_features, *chunk),
            )
            found.update(rows)
        return found

    def store(self, keys: Iterable[bytes], values: Iterable[float]) -> None:
        """Insert (or overwrite) values and commit them in one transaction."""
        conn = self.connection
        rows = [(self.fingerprint, self.n_features, k, float(v)) for k, v in zip(keys, values)]
        if not rows:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT OR REPLACE INTO query_values (fingerprint, n_features, mask, value) "
                "VALUES (?, ?, ?, ?)",
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
                "SELECT mask, value FROM query_values WHERE fingerprint = ? AND n_features = ?",
                (self.fingerprint, self.n_features),
            )
        )

    def __len__(self) -> int:
        """Number of values stored for this fingerprint and n."""
        (count,) = self.connection.execute(
            "SELECT COUNT(*) FROM query_values WHERE fingerprint = ? AND n_features = ?",
            (self.fingerprint, self.n_features),
        ).fetchone()
        return int(count)

    def load_all(self) -> tuple[np.ndarray, np.ndarray]:
        """Every cached (mask, value) of this fingerprint and n.

        Returns
        -------
        masks : (K, n) bool array
        values : (K,) float array
        """
        rows = self.connection.execute(
            "SELECT mask, value FROM query_values WHERE fingerprint = ? AND n_features = ?",
            (self.fingerprint, self.n_features),
        ).fetchall()
        width = (self.n_features + 7) // 8
        if not rows:
            return np.zeros((0, self.n_features), dtype=bool), np.zeros(0)
        packed = np.frombuffer(b"".join(r[0] for r in rows), dtype=np.uint8).reshape(-1, width)
        masks = np.unpackbits(packed, axis=1, count=self.n_features).astype(bool)
        return masks, np.array([r[1] for r in rows], dtype=np.float64)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __repr__(self) -> str:
        return (
            f"MaskCache({str(self.path)!r}, fingerprint={self.fingerprint!r}, "
            f"n_features={self.n_features})"
        )


class CacheWriter:
    """Commits batches to a :class:`MaskCache` from a background thread.

    The model computes the next batch while the previous one is being committed (SQLite and
    numpy both release the GIL). :meth:`flush` waits until everything handed over is committed
    and re-raises a write error; at most ``max_pending`` batches wait at any time.

    Parameters
    ----------
    cache : MaskCache
        Where to write; the writer opens its own connection to the same file.
    max_pending : int
        Batches queued before :meth:`put` blocks.
    """

    def __init__(self, cache: MaskCache, *, max_pending: int = 4) -> None:
        self._target = MaskCache(
            cache.path, cache.fingerprint, cache.n_features, timeout=cache.timeout
        )
        self._queue: queue.Queue = queue.Queue(maxsize=int(max_pending))
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, name="interplay-cache-writer", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                try:
                    if item is None:
                        return
                    if self._error is None:
                        self._target.store(*item)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller in flush()
                    self._error = exc
                finally:
                    self._queue.task_done()
        finally:
            self._target.close()

    def _check(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError(f"writing to the cache {str(self._target.path)!r} failed") from error

    def put(self, keys: list[bytes], values: np.ndarray) -> None:
        """Queue one batch for committing."""
        self._check()
        if not self._thread.is_alive():
            raise RuntimeError("the cache writer is closed")
        self._queue.put((list(keys), np.array(values, dtype=np.float64)))

    def flush(self) -> None:
        """Wait until every queued batch is committed; raise if a write failed."""
        self._queue.join()
        self._check()

    def close(self) -> None:
        """Commit what is queued and stop the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._check()
