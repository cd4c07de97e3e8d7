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

Real life: a cache whose file or directory is read-only still serves its hits (opened
read-only; new values then live in memory only). A corrupted or truncated file is detected
when it is opened (``PRAGMA quick_check``) and named in a :class:`CacheCorruptError`; with
``rebuild=True`` it is moved aside (renamed with a ``.corrupt-<time>`` suffix, never deleted),
the rows that can still be read are copied into a new file, and a :class:`CacheWarning` says
how many and where the old file went. Every SQLite error reaches the caller as a
:class:`CacheError` naming the file and what to do (a full disk included).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
import warnings
from collections.abc import Iterable, Iterator
from itertools import repeat
from pathlib import Path
from urllib.parse import quote

import numpy as np

__all__ = [
    "DEFAULT_CACHE_FILE",
    "CacheCorruptError",
    "CacheError",
    "CacheWarning",
    "MaskCache",
    "check_cache_file",
    "mask_keys",
    "resolve_cache_path",
]

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


#: What to do, appended to every error about a cache file.
_ADVICE = "pass another cache location, or run without a cache"


class CacheError(OSError):
    """A cache file cannot be used (unreadable, full disk, locked...); the message names it."""


class CacheCorruptError(CacheError):
    """The cache file is corrupted or truncated (open it with ``rebuild=True`` to recover).

    Attributes
    ----------
    reason : str
        SQLite's own description of the damage.
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class CacheWarning(UserWarning):
    """Something about the cache the user should know (read-only, rebuilt, values unsaved)."""


def resolve_cache_path(location: str | Path) -> Path:
    """The SQLite file for a cache location.

    A path ending in ``.sqlite``, ``.sqlite3`` or ``.db`` is the file itself; anything else is
    a directory (created if missing) holding ``interplay-queries.sqlite``.

    Raises
    ------
    ValueError
        When the location is an existing file without one of those suffixes.
    CacheError
        When a missing directory cannot be created.
    """
    path = Path(location).expanduser()
    is_file = path.suffix.lower() in _FILE_SUFFIXES
    if not is_file and path.exists() and not path.is_dir():
        raise ValueError(
            f"cache location {str(path)!r} is an existing file without a .sqlite/.sqlite3/.db "
            "suffix; give a directory or a .sqlite file"
        )
    directory = path.parent if is_file else path
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheError(
            f"cannot create the cache directory {str(directory)!r} ({exc.strerror or exc}); "
            f"{_ADVICE}"
        ) from None
    return path if is_file else path / DEFAULT_CACHE_FILE


def _describe_sqlite_error(path: Path, exc: sqlite3.Error, action: str) -> CacheError:
    """One :class:`CacheError` (or :class:`CacheCorruptError`) for a SQLite error."""
    text = str(exc).strip() or type(exc).__name__
    lower = text.lower()
    where = f"the cache file {str(path)!r}"
    if "malformed" in lower or "not a database" in lower or "corrupt" in lower:
        return CacheCorruptError(
            f"{where} is corrupted ({text}); rerun with --rebuild-cache (rebuild=True) to move "
            "it aside and start a new one with the rows that can still be read",
            text,
        )
    if "full" in lower:
        return CacheError(
            f"the disk holding {where} is full ({text}) while {action}; free some space, or "
            f"{_ADVICE}"
        )
    if "locked" in lower or "busy" in lower:
        return CacheError(
            f"{where} is locked by another process ({text}) while {action}; wait for it to "
            "finish, or pass another cache location"
        )
    return CacheError(f"{where} failed while {action} ({text}); {_ADVICE}")


@contextlib.contextmanager
def _sqlite_errors(path: Path, action: str) -> Iterator[None]:
    """Turn any ``sqlite3.Error`` raised inside into a :class:`CacheError` naming ``path``."""
    try:
        yield
    except sqlite3.Error as exc:
        raise _describe_sqlite_error(path, exc, action) from None


def _connect(path: Path, *, read_only: bool, timeout: float) -> sqlite3.Connection:
    if not read_only:
        return sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        # a WAL file in a directory we cannot write to: read the file as it is on disk
        return sqlite3.connect(
            uri + "&immutable=1", uri=True, timeout=timeout, isolation_level=None
        )


def _is_writable(path: Path) -> bool:
    """Whether SQLite can write ``path`` (and its journal files next to it)."""
    directory_ok = os.access(path.parent, os.W_OK | os.X_OK)
    return directory_ok and (not path.exists() or os.access(path, os.W_OK))


def _quick_check(path: Path, *, timeout: float) -> None:
    """Raise :class:`CacheCorruptError` when ``path`` is not a sound SQLite database."""
    with _sqlite_errors(path, "checking it"):
        conn = _connect(path, read_only=True, timeout=timeout)
        try:
            problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
        finally:
            conn.close()
    if problems != ["ok"]:
        raise _describe_sqlite_error(
            path, sqlite3.DatabaseError("database disk image is malformed: " + problems[0]),
            "checking it",
        )


def _companions(path: Path) -> list[Path]:
    """The file and its SQLite journal files that exist."""
    names = [path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))]
    return [p for p in names if p.exists()]


def _readable_image(path: Path) -> sqlite3.Connection:
    """An in-memory copy of a damaged SQLite file that SQLite agrees to read.

    A truncated file still claims its old size in its header (bytes 28-31), and SQLite then
    refuses it as a whole; making the header's "valid-for" counter (bytes 92-95) differ from
    its change counter (bytes 24-27) tells SQLite to take the size from the file instead.
    """
    data = bytearray(path.read_bytes())
    if len(data) >= 100 and data[:16] == b"SQLite format 3\x00":
        page_size = int.from_bytes(data[16:18], "big") or 65536
        page_size = 65536 if page_size == 1 else page_size
        del data[len(data) - len(data) % page_size :]
        counter = int.from_bytes(data[24:28], "big")
        data[92:96] = ((counter + 1) % 2**32).to_bytes(4, "big")
        data[18:20] = b"\x01\x01"  # rollback-journal format: an in-memory image has no WAL
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.deserialize(bytes(data))
    return conn


def _salvage_rows(path: Path) -> list[tuple[str, int, int, bytes, float]]:
    """The (fingerprint, n, q, mask, value) rows that can still be read from ``path``, in
    the order they were stored; damaged pages are stepped over (their rows are lost)."""
    rows: list[tuple[str, int, int, bytes, float]] = []
    try:
        conn = _readable_image(path)
        spaces = {
            sid: (fp, int(n), int(q))
            for sid, fp, n, q in conn.execute(
                "SELECT id, fingerprint, n_features, alphabet_size FROM key_spaces"
            )
        }
    except (sqlite3.Error, OSError):
        return rows
    try:
        (last_id,) = conn.execute("SELECT max(id) FROM query_values").fetchone()
    except sqlite3.Error:  # the last pages are gone: read up to the damage
        last_id = None
    after, step = 0, 16  # row ids are dense: skip a damaged page 16 ids at a time
    try:
        while True:
            try:
                cursor = conn.execute(
                    "SELECT id, space, mask, value FROM query_values WHERE id > ? ORDER BY id",
                    (after,),
                )
                for row_id, space, mask, value in cursor:
                    after = row_id
                    if space in spaces and isinstance(mask, bytes):
                        rows.append((*spaces[space], mask, float(value)))
                break
            except sqlite3.Error:
                if last_id is None or after >= last_id:
                    break
                after += step
    finally:
        conn.close()
    return rows


def _rebuild(path: Path, reason: str, timeout: float) -> None:
    """Move a corrupted cache file aside and write its readable rows into a new one."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    for old in _companions(path):
        old.replace(aside.with_name(aside.name + old.name[len(path.name) :]))
    rows = _salvage_rows(aside)
    conn = _connect(path, read_only=False, timeout=timeout)
    try:
        conn.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA:
            conn.execute(statement)
        space_ids: dict[tuple[str, int, int], int] = {}
        for fp, n, q, _, _ in rows:
            if (fp, n, q) not in space_ids:
                cursor = conn.execute(
                    "INSERT INTO key_spaces (fingerprint, n_features, alphabet_size) "
                    "VALUES (?, ?, ?)",
                    (fp, n, q),
                )
                space_ids[(fp, n, q)] = int(cursor.lastrowid or 0)
        conn.executemany(
            "INSERT INTO query_values (space, mask, value) VALUES (?, ?, ?)",
            ((space_ids[(fp, n, q)], mask, value) for fp, n, q, mask, value in rows),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    warnings.warn(
        f"the cache file {str(path)!r} was corrupted ({reason}); it was moved to "
        f"{str(aside)!r} and the {len(rows)} rows that could be read were copied into a new "
        "cache file",
        CacheWarning,
        stacklevel=4,
    )


def check_cache_file(path: str | Path, *, rebuild: bool = False, timeout: float = 60.0) -> bool:
    """Check that a cache file can be used, before any work is spent; return whether it is
    read-only.

    A missing file is fine (it will be created). An existing one must be a sound SQLite
    database; a corrupted one raises :class:`CacheCorruptError`, or, with ``rebuild=True``,
    is moved aside and replaced by a new file holding the rows that can still be read.

    Parameters
    ----------
    path : str or Path
        The SQLite file (see :func:`resolve_cache_path`).
    rebuild : bool
        Recover from a corrupted file instead of raising.
    timeout : float
        Seconds to wait for another process's lock.

    Returns
    -------
    bool
        True when the file (or its directory) cannot be written: hits are served, new values
        are not saved.

    Raises
    ------
    CacheError
        When the file cannot be read at all, or is corrupted (without ``rebuild``).
    """
    path = Path(path)
    read_only = not _is_writable(path)
    if not path.exists():
        if read_only:
            raise CacheError(
                f"cannot create the cache file {str(path)!r} (its directory is not "
                f"writable); {_ADVICE}"
            )
        return False
    if not os.access(path, os.R_OK):
        raise CacheError(f"cannot read the cache file {str(path)!r} (permission denied); "
                         f"{_ADVICE}")
    try:
        _quick_check(path, timeout=timeout)
    except CacheCorruptError as exc:
        if not rebuild or read_only:
            if rebuild:
                raise CacheError(f"{exc} (cannot rebuild it: it is read-only)") from None
            raise
        with _sqlite_errors(path, "rebuilding it"):
            _rebuild(path, exc.reason, timeout)
    return read_only


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
    rebuild : bool
        When the file is corrupted, move it aside and start a new one with its readable rows
        (see :func:`check_cache_file`) instead of raising :class:`CacheCorruptError`.

    Attributes
    ----------
    read_only : bool
        Known once opened: the file or its directory cannot be written, so :meth:`store`
        raises and only hits are served.

    Notes
    -----
    The connection is opened lazily and belongs to the thread that opened it. A mask stored
    twice (two processes computing it at once) keeps its latest value. Every SQLite error is
    raised as a :class:`CacheError` naming the file.
    """

    def __init__(
        self,
        path: str | Path,
        fingerprint: str,
        n_features: int,
        *,
        alphabet_size: int = 2,
        timeout: float = 60.0,
        rebuild: bool = False,
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
        self.rebuild = bool(rebuild)
        self.read_only = False
        self._conn: sqlite3.Connection | None = None
        self._space_id = 0
        self._read_up_to = 0  # row id up to which refresh() has read
        self._known: dict[bytes, float] = {}  # what lookup() has read

    @property
    def connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.read_only = check_cache_file(
                self.path, rebuild=self.rebuild, timeout=self.timeout
            )
            with _sqlite_errors(self.path, "opening it"):
                self._conn = (
                    self._open_read_only() if self.read_only else self._open_writable()
                )
        return self._conn

    def _open_writable(self) -> sqlite3.Connection:
        conn = _connect(self.path, read_only=False, timeout=self.timeout)
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
        return conn

    def _open_read_only(self) -> sqlite3.Connection:
        conn = _connect(self.path, read_only=True, timeout=self.timeout)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        found = None
        if {"key_spaces", "query_values"} <= tables:
            found = conn.execute(
                "SELECT id FROM key_spaces WHERE fingerprint = ? AND n_features = ? "
                "AND alphabet_size = ?",
                (self.fingerprint, self.n_features, self.alphabet_size),
            ).fetchone()
        if found is None:  # nothing stored for this model: read an empty space
            conn.close()
            conn = sqlite3.connect(":memory:", isolation_level=None)
            for statement in _SCHEMA:
                conn.execute(statement)
            self._space_id = 0
        else:
            (self._space_id,) = found
        return conn

    def open(self) -> MaskCache:
        """Open the file now (creating it, in WAL mode, with its table) and return self."""
        _ = self.connection
        return self

    def refresh(self, into: dict[bytes, float]) -> int:
        """Add to ``into`` every (key, value) stored since the last refresh (all, at first).

        Returns the number of rows read. Rows appended by other processes are seen too.
        """
        conn = self.connection
        with _sqlite_errors(self.path, "reading it"):
            rows = conn.execute(
                "SELECT id, mask, value FROM query_values WHERE space = ? AND id > ? "
                "ORDER BY id",
                (self._space_id, self._read_up_to),
            ).fetchall()
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
        with _sqlite_errors(self.path, "reading it"):
            return dict(
                conn.execute(
                    "SELECT mask, value FROM query_values WHERE space = ? ORDER BY id",
                    (self._space_id,),
                )
            )

    def store(self, keys: Iterable[bytes], values: Iterable[float]) -> None:
        """Append values and commit them in one transaction (all or nothing).

        Raises
        ------
        CacheError
            When the file is read-only, the disk is full, or the file is damaged; nothing of
            this batch is then stored.
        """
        conn = self.connection
        values = np.asarray(values, dtype=np.float64).tolist()
        if not values:
            return
        if self.read_only:
            raise CacheError(
                f"the cache file {str(self.path)!r} is read-only: new values cannot be stored; "
                "make it writable or pass another cache location"
            )
        rows = zip(repeat(self._space_id), keys, values)
        with _sqlite_errors(self.path, "storing values in it"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.executemany(
                    "INSERT INTO query_values (space, mask, value) VALUES (?, ?, ?)", rows
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        """Number of distinct masks stored for this fingerprint, n and q."""
        conn = self.connection
        with _sqlite_errors(self.path, "reading it"):
            (count,) = conn.execute(
                "SELECT COUNT(DISTINCT mask) FROM query_values WHERE space = ?",
                (self._space_id,),
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
