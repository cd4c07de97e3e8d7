"""Kill a real explanation half-way (SIGKILL) and resume it from the on-disk cache."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runtime_support import REAL_METHOD

from interplay import Interactions

WORKER = Path(__file__).resolve().parent / "resume_worker.py"
BATCH = 16


def _cached_rows(path: Path) -> int:
    if not path.exists():
        return 0
    conn = sqlite3.connect(path, timeout=10)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM query_values").fetchone()[0])
    except sqlite3.OperationalError:  # table not created yet
        return 0
    finally:
        conn.close()


def _run(out: Path, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(WORKER), str(out), *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _methods() -> list:
    return ["support", REAL_METHOD]


@pytest.mark.parametrize("method", _methods())
def test_killed_run_resumes_without_requerying(tmp_path, method):
    cache = tmp_path / "cache.sqlite"
    args = ["--cache", str(cache), "--method", method, "--batch-size", str(BATCH)]
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(tmp_path / "killed.json"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    try:
        while proc.poll() is None and _cached_rows(cache) < 3 * BATCH:
            assert time.monotonic() < deadline, "the worker never wrote to its cache"
            time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be killed; slow it down"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    kept = _cached_rows(cache)
    assert kept >= 3 * BATCH
    assert not (tmp_path / "killed.json").exists()

    resumed = _run(tmp_path / "resumed.json", *args)
    total = _cached_rows(cache)
    assert kept < total
    # the restart asks the model for exactly the masks the killed run had not stored
    assert resumed["model_rows"] == total - kept
    assert resumed["engine"]["n_disk_hits"] == kept
    assert resumed["engine"]["n_evaluated"] == total - kept

    fresh = _run(tmp_path / "fresh.json", "--method", method, "--batch-size", str(BATCH))
    assert fresh["model_rows"] == total
    a = Interactions.load(tmp_path / "resumed.json")
    b = Interactions.load(tmp_path / "fresh.json")
    assert a.subsets == b.subsets
    assert (a.coefficients == b.coefficients).all()  # bit-identical
    assert a.n_queries == b.n_queries
