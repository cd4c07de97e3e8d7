"""ProxySPEX: fit gradient-boosted trees to random queries, then take their Fourier transform.

Design §3 (docs/design.md). The steps, each chosen to be fast on two CPU cores:

1. Query ``budget`` distinct uniformly random masks.
2. Fit LightGBM on (mask, value). A few (depth, learning rate) candidates are each trained
   once with early stopping on a held-out split; the best validation error picks the
   candidate and its number of trees (the ridge refit below uses all samples).
3. Transform the ensemble exactly into the Fourier basis (:mod:`.tree_fourier`), dropping
   interactions above ``max_order``.
4. Keep the largest coefficients carrying ``energy`` of the non-constant energy and refit them
   on all samples by ridge regression whose strength is chosen by generalised cross-validation.
   By default the energy level is chosen among 90 / 95 / 99 / 99.9 / 99.99 / 100 % (at most
   ``max_terms`` coefficients) by the error of the truncated proxy on the held-out split.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from interplay.solvers import DEFAULT_BUDGET
from interplay.solvers.base import BudgetError, Solver, check_random_state
from interplay.solvers.parameters import Constraint, boolean, integer, real, reals, satisfies
from interplay.solvers.regression import draw_distinct, uniform_masks
from interplay.solvers.tree_fourier import ensemble_fourier, interactions_from_index
from interplay.spectral.interactions import Interactions
from interplay.values.base import CheckedValueFunction

__all__ = ["ProxySPEX", "fourier_design", "ridge_cv", "select_energy"]

#: (max_depth, learning_rate) pairs tried by default.
DEFAULT_CANDIDATES: tuple[tuple[int, float], ...] = ((3, 0.1), (5, 0.1))

MIN_BUDGET = 20


def fourier_design(masks: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """Characters (−1)^{|m ∩ k|} of every mask on every subset.

    Parameters
    ----------
    masks : (N, n) bool array
    idx : (K, d) int array
        Padded subsets (sentinel ``n``).
    n : int

    Returns
    -------
    (N, K) float array of ±1.
    """
    rows = np.repeat(np.arange(idx.shape[0]), idx.shape[1])
    cols = idx.ravel()
    keep = cols < n
    members = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (rows[keep], cols[keep])),
        shape=(idx.shape[0], n),
    )
    hits = np.asarray((members @ masks.T.astype(np.float32)).T)  # (N, K)
    return 1.0 - 2.0 * (np.rint(hits).astype(np.int64) & 1)


def select_energy(coef: np.ndarray, is_empty: np.ndarray, energy: float,
                  max_terms: int | None) -> np.ndarray:
    """Indices of the largest non-constant coefficients holding ``energy`` of Σ coef².

    The constant (empty-set) coefficient is not counted and not returned.
    """
    rows = np.flatnonzero(~is_empty)
    if rows.size == 0:
        return rows
    power = coef[rows] ** 2
    order = np.argsort(-power, kind="stable")
    total = power.sum()
    if total <= 0:
        return rows[:0]
    cum = np.cumsum(power[order]) / total
    count = int(np.searchsorted(cum, energy - 1e-12) + 1)
    if max_terms is not None:
        count = min(count, int(max_terms))
    return np.sort(rows[order[:count]])


def ridge_cv(
    x: np.ndarray, y: np.ndarray, alphas: np.ndarray
) -> tuple[np.ndarray, float, float, float]:
    """Ridge regression with intercept; strength chosen by generalised cross-validation.

    Works on the (K, K) Gram matrix of the centred design and one eigendecomposition, so the
    cost is O(N·K² + K³) whatever the number of alphas.

    Parameters
    ----------
    x : (N, K) float array
    y : (N,) float array
    alphas : (A,) float array
        Candidate penalties relative to N (the penalty on Σ coef² is ``alpha * N``).

    Returns
    -------
    coef : (K,) float array
    intercept : float
    alpha : float
        The chosen alpha.
    gcv : float
        Its generalised cross-validation error N·RSS / (N − df)².
    """
    big_n = x.shape[0]
    xm = x.mean(axis=0)
    ym = float(y.mean())
    yc = y - ym
    if x.shape[1] == 0:
        return np.zeros(0), ym, 0.0, float(yc @ yc) / max(big_n - 1, 1)
    xc = x - xm
    gram = xc.T @ xc
    xty = xc.T @ yc
    d, v = np.linalg.eigh(gram)
    d = np.maximum(d, 0.0)
    vty = v.T @ xty
    yty = float(yc @ yc)
    best = (np.inf, 0.0, None)
    for alpha in alphas:
        lam = float(alpha) * big_n
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.where(d + lam > 0, 1.0 / (d + lam), 0.0)
        z = inv * vty  # coefficients in the eigenbasis
        rss = yty - 2.0 * float(z @ vty) + float(z @ (d * z))
        df = float(np.sum(d * inv)) + 1.0  # + intercept
        gcv = big_n * max(rss, 0.0) / max(big_n - df, 1e-9) ** 2
        if gcv < best[0]:
            best = (gcv, float(alpha), z)
    gcv, alpha, z = best
    coef = v @ z
    return coef, ym - float(xm @ coef), alpha, gcv


class ProxySPEX(Solver):
    """ProxySPEX: a LightGBM proxy of the value function, transformed to Fourier exactly.

    Parameters
    ----------
    budget : int, optional
        Distinct random masks to query (default :data:`~interplay.solvers.DEFAULT_BUDGET`,
        800). A budget of 2^n or more queries every mask once and is exact.
    max_order : int
        Largest interaction size kept.
    random_state : None, int or Generator
        Seed for the masks, the validation split and LightGBM.
    candidates : sequence of (max_depth, learning_rate)
        Tree settings tried, each with early stopping on the validation split.
    max_rounds : int
        Largest number of boosting rounds per candidate.
    early_stopping : int
        Rounds without validation improvement before a candidate stops.
    validation_fraction : float
        Share of the samples held out for model selection (the final model and the refit use
        all samples).
    energy : float in (0, 1], or a tuple of them
        Share of the non-constant Fourier energy of the proxy kept before the refit. With a
        tuple, the level whose truncated proxy predicts the held-out split best is kept
        (a fixed 95 % caps the R² near 0.95 however many queries are spent).
    max_terms : int, optional
        Cap on the number of kept coefficients (default: a quarter of the number of samples).
    refit : bool
        Refit the kept coefficients by cross-validated ridge (else return the proxy's own).
    n_jobs : int
        LightGBM threads (default 1; 0 is LightGBM's default, all cores). On a loaded
        machine OpenMP threads that wait on each other are many times slower than one.

    Notes
    -----
    ``metadata`` of the result records the chosen candidate, the number of trees, the
    validation R² of the proxy, the number of coefficients before and after truncation, the
    ridge strength and the wall time of each stage.
    """

    name = "proxyspex"
    parameters: ClassVar[dict[str, Constraint]] = {
        "candidates": satisfies(
            "a non-empty tuple of (max_depth >= 1, learning_rate > 0) pairs",
            lambda v: len(v) > 0 and all(int(d) >= 1 and float(r) > 0 for d, r in v),
        ),
        "max_rounds": integer(1),
        "early_stopping": integer(1),
        "validation_fraction": real(0, 1, low_open=True, high_open=True),
        "energy": reals(0, 1, low_open=True),
        "max_terms": integer(1, optional=True),
        "refit": boolean(),
        "n_jobs": integer(-1),
    }

    def __init__(
        self,
        *,
        budget: int | None = None,
        max_order: int = 5,
        random_state: Any = None,
        candidates: tuple[tuple[int, float], ...] = DEFAULT_CANDIDATES,
        max_rounds: int = 1000,
        early_stopping: int = 30,
        validation_fraction: float = 0.2,
        energy: float | tuple[float, ...] = (0.9, 0.95, 0.99, 0.999, 0.9999, 1.0),
        max_terms: int | None = None,
        refit: bool = True,
        n_jobs: int = 1,
    ) -> None:
        super().__init__(budget=budget, max_order=max_order, random_state=random_state)
        self.candidates = candidates
        self.max_rounds = max_rounds
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.energy = energy
        self.max_terms = max_terms
        self.refit = refit
        self.n_jobs = n_jobs

    def _check(self, n: int) -> int:
        self.check_parameters()
        if int(n) < 1:
            raise ValueError(f"n must be a positive number of features, got {n}")
        budget = DEFAULT_BUDGET if self.budget is None else int(self.budget)
        if budget < MIN_BUDGET:
            raise BudgetError(
                f"proxyspex needs at least {MIN_BUDGET} distinct random masks to fit gradient-"
                f"boosted trees and validate them on a held-out split, got budget={budget}"
            )
        return budget

    def planned_queries(self, n: int) -> int:
        """The budget (default 800): that many distinct random masks."""
        return self._check(int(n))

    def fit_sampled(self, value_function: CheckedValueFunction, n: int) -> Interactions:
        """Query random masks, fit the tree proxy, return its truncated, refitted transform.

        Parameters
        ----------
        value_function : CheckedValueFunction
            Takes (N, n) bool masks.
        n : int
            Number of features.

        Returns
        -------
        Interactions
            Fourier basis, degrees <= ``max_order``.
        """
        import lightgbm as lgb

        n = int(n)
        budget = self._check(n)
        max_order = int(self.max_order)
        rng = check_random_state(self.random_state)
        seed = int(rng.integers(2**31 - 1))
        times: dict[str, float] = {}

        tic = time.perf_counter()
        masks, _ = draw_distinct(lambda k: uniform_masks(rng, k, n), budget)
        values = value_function(masks)
        big_n = masks.shape[0]
        times["query_s"] = time.perf_counter() - tic

        # ---- model selection by early stopping on a held-out split
        tic = time.perf_counter()
        x = masks.astype(np.float32)
        perm = rng.permutation(big_n)
        n_val = max(1, round(float(self.validation_fraction) * big_n))
        val, train = perm[:n_val], perm[n_val:]
        min_leaf = int(max(2, min(20, train.size // 50)))
        base = {
            "objective": "regression",
            "verbose": -1,
            "min_data_in_leaf": min_leaf,
            "min_sum_hessian_in_leaf": 0.0,
            "lambda_l2": 0.0,
            "feature_pre_filter": False,
            "force_row_wise": True,
            "num_threads": int(self.n_jobs),
            "seed": seed,
            "deterministic": True,
        }
        dtrain = lgb.Dataset(x[train], values[train], params=base, free_raw_data=False)
        dval = lgb.Dataset(x[val], values[val], reference=dtrain, free_raw_data=False)
        best: tuple[float, int, float, int, Any] | None = None
        tried = []
        for depth, rate in self.candidates:
            params = dict(base, max_depth=int(depth), num_leaves=2 ** int(depth),
                          learning_rate=float(rate))
            booster = lgb.train(
                params,
                dtrain,
                num_boost_round=int(self.max_rounds),
                valid_sets=[dval],
                callbacks=[lgb.early_stopping(int(self.early_stopping), verbose=False)],
            )
            rounds = max(1, int(booster.best_iteration or booster.current_iteration()))
            err = float(booster.best_score["valid_0"]["l2"])
            tried.append({"max_depth": int(depth), "learning_rate": float(rate),
                          "rounds": rounds, "val_mse": err})
            if best is None or err < best[0]:
                best = (err, int(depth), float(rate), rounds, booster)
        assert best is not None
        val_mse, depth, rate, rounds, booster = best
        var = float(np.var(values[val]))
        val_r2 = 1.0 - val_mse / var if var > 0 else 1.0
        times["select_s"] = time.perf_counter() - tic

        # ---- exact Fourier transform of the ensemble, truncated to max_order
        tic = time.perf_counter()
        idx, coef, _ = ensemble_fourier(booster, max_order=max_order, num_iteration=rounds)
        is_empty = (idx >= n).all(axis=1)
        n_proxy = int(coef.size)
        max_terms = big_n // 4 if self.max_terms is None else int(self.max_terms)
        energies = np.atleast_1d(np.asarray(self.energy, dtype=np.float64))
        levels = [select_energy(coef, is_empty, float(e), max_terms) for e in energies]
        times["transform_s"] = time.perf_counter() - tic

        # ---- the energy level whose truncated proxy predicts the held-out split best
        tic = time.perf_counter()
        chosen_energy = float(energies[0])
        keep = levels[0]
        if len(levels) > 1:
            largest = max(levels, key=lambda level: level.size)
            design = fourier_design(masks[val], idx[largest], n)
            column = {int(r): j for j, r in enumerate(largest)}
            constant = float(coef[is_empty].sum())
            best_err = np.inf
            for e, level in zip(energies, levels, strict=True):
                cols = np.array([column[int(r)] for r in level], dtype=np.int64)
                pred = constant + design[:, cols] @ coef[level]
                err = float(np.mean((values[val] - pred) ** 2))
                if err < best_err - 1e-12:
                    best_err, keep, chosen_energy = err, level, float(e)
        times["truncate_s"] = time.perf_counter() - tic

        # ---- ridge refit of the kept coefficients on all samples
        tic = time.perf_counter()
        alpha = None
        if self.refit and keep.size:
            design = fourier_design(masks, idx[keep], n)
            new_coef, intercept, alpha, _ = ridge_cv(design, values, np.logspace(-6, 1, 15))
        else:
            new_coef = coef[keep]
            intercept = float(coef[is_empty].sum())
        kept_idx = idx[keep]
        times["refit_s"] = time.perf_counter() - tic

        width = kept_idx.shape[1] if kept_idx.size else 1
        out_idx = np.vstack([np.full((1, width), n), kept_idx]) if keep.size else np.full(
            (1, 1), n
        )
        out_coef = np.concatenate([[intercept], new_coef])
        return interactions_from_index(
            out_idx,
            out_coef,
            n,
            basis="fourier",
            n_queries=big_n,
            method=self.name,
            metadata={
                "max_depth": depth,
                "learning_rate": rate,
                "n_trees": rounds,
                "proxy_validation_r2": val_r2,
                "candidates": tried,
                "proxy_terms": n_proxy,
                "kept_terms": int(keep.size),
                "energy": chosen_energy,
                "ridge_alpha": alpha,
                "times": times,
            },
        )
