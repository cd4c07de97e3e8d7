"""Models and a small solver shared by the runtime tests (and the resume worker script).

Everything here is real: planted functions whose values are known exactly, models that fail
on chosen masks, and a least-squares Fourier solver built on the public ``Solver`` contract,
so the tests do not depend on which of the library's solvers are installed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from interplay.solvers.base import Solver, check_random_state, query_unique
from interplay.spectral.interactions import Interactions
from interplay.values.base import CheckedValueFunction
from interplay.values.planted import PlantedFunction, random_sparse_fourier

#: A real registry solver for tests that go through ``interplay.explain``.
REAL_METHOD = "banzhaf"


def planted(n: int = 12, n_terms: int = 8, seed: int = 0, *, delay: float = 0.0) -> PlantedFunction:
    """A planted sparse Fourier function (a slow one when ``delay`` > 0 s per call).

    Coefficients are multiples of 1/256, so every value is computed exactly in floating
    point whatever the batch it is computed in: tests can demand bit-identical results.
    """
    raw = random_sparse_fourier(n, n_terms, max_degree=2, random_state=seed)
    truth = Interactions(
        raw.subsets, np.round(raw.coefficients * 256) / 256, n_features=n, basis="fourier"
    )
    return SlowPlanted(truth, delay=delay) if delay > 0 else PlantedFunction(truth)


class SlowPlanted(PlantedFunction):
    """A planted function that sleeps ``delay`` seconds per call (an expensive model)."""

    def __init__(self, truth: Interactions, *, delay: float) -> None:
        super().__init__(truth)
        self.delay = float(delay)

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        time.sleep(self.delay)
        return super().__call__(masks)


class RecordingModel:
    """A planted function that records every batch it receives; optional ``cost``."""

    def __init__(self, function: PlantedFunction, *, with_cost: bool = False) -> None:
        self.function = function
        self.batches: list[np.ndarray] = []
        if with_cost:
            self.cost = self._cost

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        self.batches.append(np.array(masks, copy=True))
        return self.function(masks)

    def _cost(self, masks: np.ndarray) -> np.ndarray:
        return np.asarray(masks).sum(axis=1)

    def fingerprint(self) -> str:
        return self.function.fingerprint()


class FailingModel:
    """Raises on any batch holding a 'poisoned' mask; returns NaN for 'nan' masks.

    ``transient`` makes the first that-many calls fail whatever the masks (a flaky server).
    """

    def __init__(
        self,
        function: PlantedFunction,
        *,
        poisoned: np.ndarray | None = None,
        nan_masks: np.ndarray | None = None,
        transient: int = 0,
    ) -> None:
        self.function = function
        n = function.n_features
        self.poisoned = np.zeros((0, n), bool) if poisoned is None else np.asarray(poisoned, bool)
        self.nan_masks = (
            np.zeros((0, n), bool) if nan_masks is None else np.asarray(nan_masks, bool)
        )
        self.transient = int(transient)
        self.calls = 0
        self.rows = 0

    @staticmethod
    def _hits(masks: np.ndarray, targets: np.ndarray) -> np.ndarray:
        if targets.shape[0] == 0:
            return np.zeros(masks.shape[0], dtype=bool)
        return (masks[:, None, :] == targets[None, :, :]).all(axis=2).any(axis=1)

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.rows += masks.shape[0]
        if self.calls <= self.transient:
            raise ConnectionError(f"flaky server (call {self.calls})")
        if self._hits(masks, self.poisoned).any():
            raise RuntimeError("CUDA out of memory on a poisoned mask")
        values = self.function(masks)
        values[self._hits(masks, self.nan_masks)] = np.nan
        return values

    def fingerprint(self) -> str:
        return "failing:" + self.function.fingerprint()


class PlantedFactory:
    """Picklable factory of planted models (what a Ray actor calls to build its copy)."""

    def __init__(self, n: int = 12, n_terms: int = 8, seed: int = 0, delay: float = 0.0) -> None:
        self.n, self.n_terms, self.seed, self.delay = n, n_terms, seed, delay

    def __call__(self) -> PlantedFunction:
        return planted(self.n, self.n_terms, self.seed, delay=self.delay)


class KillOnceModel:
    """A planted model whose process kills itself (SIGKILL) on its ``kill_at``-th call.

    Only one process in the whole test ever does so: the first to create ``marker`` (an
    exclusive file creation, atomic across processes).
    """

    def __init__(self, marker: str, *, kill_at: int = 3, delay: float = 0.05, **planted_kw: Any):
        self.function = planted(**planted_kw)
        self.marker = marker
        self.kill_at = kill_at
        self.delay = delay
        self.calls = 0

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        self.calls += 1
        time.sleep(self.delay)
        if self.calls == self.kill_at:
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                os.kill(os.getpid(), signal.SIGKILL)
        return self.function(masks)

    def fingerprint(self) -> str:
        return self.function.fingerprint()


class KillOnceFactory:
    def __init__(self, marker: str | Path, **kwargs: Any) -> None:
        self.marker = str(marker)
        self.kwargs = kwargs

    def __call__(self) -> KillOnceModel:
        return KillOnceModel(self.marker, **self.kwargs)


class LeastSquaresFourier(Solver):
    """Least-squares fit of all Fourier coefficients of order <= max_order on random masks.

    A small, deterministic solver on the public contract (used so that the runtime tests do
    not depend on which of the library's solvers are present).
    """

    name = "lsq_fourier_test"

    def fit(self, value_function: CheckedValueFunction, n: int) -> Interactions:
        self.check_parameters()
        rng = check_random_state(self.random_state)
        budget = 200 if self.budget is None else int(self.budget)
        masks = rng.random((budget, n)) < 0.5
        start = value_function.n_queries
        values = query_unique(value_function, masks)
        subsets = [()] + [
            s for d in range(1, self.max_order + 1) for s in combinations(range(n), d)
        ]
        signs = 1.0 - 2.0 * masks.astype(np.float64)
        design = np.ones((budget, len(subsets)))
        for j, s in enumerate(subsets):
            if s:
                design[:, j] = np.prod(signs[:, list(s)], axis=1)
        coef, *_ = np.linalg.lstsq(design, values, rcond=None)
        return Interactions(
            subsets,
            coef,
            n_features=n,
            basis="fourier",
            n_queries=value_function.n_queries - start,
            method=self.name,
        )


def explain_lsq(value_function: Any, n: int, *, budget: int = 300, seed: int = 0) -> Interactions:
    """Fit :class:`LeastSquaresFourier` (order 2) through ``value_function``."""
    from interplay.values.base import as_value_function

    solver = LeastSquaresFourier(budget=budget, max_order=2, random_state=seed)
    return solver.fit(as_value_function(value_function, n), n)


class AlwaysDieFactory:
    """Every model it builds kills its own process on its first call."""

    def __call__(self) -> Any:
        def die(masks: np.ndarray) -> np.ndarray:
            os.kill(os.getpid(), signal.SIGKILL)
            raise AssertionError("unreachable")

        return die


class BrokenFactory:
    """A factory that cannot build its model (missing weights, say)."""

    def __call__(self) -> Any:
        raise FileNotFoundError("weights not found: /models/missing.gguf")


@contextlib.contextmanager
def read_only(*paths):
    """Make paths really read-only, for root too (immutable flag), then restore them."""
    as_root = os.geteuid() == 0
    for p in paths:
        if as_root:
            subprocess.run(["chattr", "+i", str(p)], check=True)
        else:
            p.chmod(p.stat().st_mode & ~0o222)
    try:
        yield
    finally:
        for p in paths:
            if as_root:
                subprocess.run(["chattr", "-i", str(p)], check=True)
            else:
                p.chmod(p.stat().st_mode | 0o200)
