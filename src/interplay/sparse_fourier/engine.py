"""The sparse Fourier transform by subsampling, delays and peeling, over ``Z_q``.

One sequence for every alphabet and delay code:

1. design — C random full-rank groups ``M_c`` (:func:`.design.subsample_groups`; groups may
   differ in size) and the delays of a :class:`.delays.DelayCode`;
2. query — every distinct point ``M_c l + d_p`` once (:class:`.points.DesignPoints`);
3. bin transform — ``U_{c,p}(j)`` for every group, delay and bin (:func:`.bins.bin_transform`;
   the Walsh–Hadamard transform for q = 2);
4. peel — singletons read through the delay code and subtracted everywhere
   (:class:`.peeling.Peeler`);
5. refit — least squares of the recovered support on every sample (:func:`.refit.refit`).

SPEX (q = 2, BCH-coded delays) and q-SFT (any q, unit delays) are configurations of it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from interplay.sparse_fourier.bins import bin_transform
from interplay.sparse_fourier.delays import DelayCode
from interplay.sparse_fourier.layout import BinLayout
from interplay.sparse_fourier.peeling import Peeler
from interplay.sparse_fourier.points import DesignPoints
from interplay.sparse_fourier.refit import refit, sample_r2
from interplay.spectral.subsets import canonical_spectrum

__all__ = [
    "LOW_SAMPLE_R2",
    "SparseFourierFit",
    "query_design",
    "sparse_fourier_transform",
    "warn_if_unexplained",
]

#: Below this R² of a fit on its own samples, the solvers warn that the function is less
#: sparse (or noisier) than the design resolves.
LOW_SAMPLE_R2 = 0.75

#: Most rows sent to the value function per call (bool masks: one batch up to this size).
_QUERY_CHUNK = 2**16
#: Most bytes of int64 states sent to the value function per call. Batches of a few MiB stay
#: in cache while they are built and checked, and their memory is recycled from call to call.
_QUERY_BYTES = 2**22


@dataclass
class SparseFourierFit:
    """What :func:`sparse_fourier_transform` recovers.

    Attributes
    ----------
    frequencies : (K, n) int64 array
        Canonical order (degree, then support, then values); for q = 2 the rows are 0/1.
    coefficients : (K,) float (q = 2) or complex array
    n_queries : int
        Distinct points sent to the value function.
    query_seconds : float
        Seconds spent inside the value function.
    diagnostics : dict
        ``noise_sd_per_query``, ``peeling_rounds``, ``unresolved_bins``, ``n_found`` (terms
        peeled before the refit), ``sample_r2``.
    """

    frequencies: np.ndarray
    coefficients: np.ndarray
    n_queries: int
    query_seconds: float
    diagnostics: dict = field(default_factory=dict)


def query_design(
    value_function: Callable[[np.ndarray], np.ndarray], points: DesignPoints
) -> tuple[np.ndarray, int, float]:
    """Query every distinct design point once, in bounded batches.

    Returns
    -------
    values : (N,) float array (complex when the function returned complex values)
        The value of every design row (flat (c, p, l) order).
    n_queries : int
        Distinct points queried.
    seconds : float
        Time spent inside ``value_function``.
    """
    first, shared, representative = points.distinct()
    unique_values = np.empty(first.size)  # made complex by the first complex batch
    spent = 0.0
    if points.q == 2:  # bool masks: a SPEX-sized design goes in one batch
        dtype, step = np.bool_, _QUERY_CHUNK
    else:
        dtype = np.int64
        step = max(1, min(_QUERY_CHUNK, _QUERY_BYTES // (np.dtype(dtype).itemsize * points.n)))
    for s in range(0, first.size, step):
        batch = points.rows(first[s : s + step], dtype)
        t0 = time.perf_counter()
        batch_values = value_function(batch)
        spent += time.perf_counter() - t0
        if np.iscomplexobj(batch_values) and not np.iscomplexobj(unique_values):
            unique_values = unique_values.astype(np.complex128)
        unique_values[s : s + step] = batch_values
    values = np.empty(points.n_rows, dtype=unique_values.dtype)
    values[first] = unique_values
    values[shared] = values[representative]
    return values, int(first.size), spent


def sparse_fourier_transform(
    value_function: Callable[[np.ndarray], np.ndarray],
    n: int,
    q: int,
    *,
    groups: Sequence[np.ndarray],
    delay_code: DelayCode,
    max_order: int,
    noise_sd: float | None = None,
    peeling_rounds: int = 100,
    extra_frequencies: np.ndarray | None = None,
    refit_support: bool = True,
    ridge: float = 0.0,
    deep_delay_code: DelayCode | None = None,
) -> SparseFourierFit:
    """Recover a sparse Fourier spectrum of a function on ``Z_q^n``.

    A real function (q > 2) has ``F(-k) = conj(F(k))``: terms are found and refitted in
    conjugate pairs. A complex-valued one (q > 2 only) has no such symmetry, and none is
    assumed.

    Parameters
    ----------
    value_function : callable
        ``f(points) -> (N,) values``; points are (N, n) bool arrays for q = 2, int states
        in ``0..q-1`` otherwise. Values are real, or complex for q > 2.
    n, q : int
        Number of features and states per feature.
    groups : sequence of (n, b_c) int arrays
        Full-rank subsampling matrices (:func:`.design.subsample_groups`); group c hashes
        into ``q**b_c`` bins.
    delay_code : DelayCode
        The delays and how a singleton's frequency is read from them.
    max_order : int
        Largest number of non-zero entries of a frequency accepted.
    noise_sd : float, optional
        Known noise standard deviation of one query (estimated when None), in the units of
        the raw values: when ``value_function`` rescales its values (a ``value_scale``
        attribute, as :class:`~interplay.solvers.normalised.NormalisedValueFunction` has,
        known once values were seen), it is divided by that scale after the queries.
    peeling_rounds : int
        Most peeling rounds.
    extra_frequencies : (E, n) int array, optional
        Added to the recovered support before the refit (the mean, k = 0, always is).
    refit_support : bool
        Refit the support by least squares on every sample (else keep the peeled values).
    ridge : float
        Ridge penalty of the refit.
    deep_delay_code : DelayCode, optional
        A slower, stronger reader of the same delays, for the last unresolved bins
        (:class:`.peeling.Peeler`).
    """
    points = DesignPoints(groups, delay_code.delays, q)
    values, n_queries, query_seconds = query_design(value_function, points)

    if noise_sd is not None:
        noise_sd = float(noise_sd) / float(getattr(value_function, "value_scale", 1.0))
    n_delays = delay_code.delays.shape[0]
    blocks = np.split(values, points.row_start[1:-1])
    bins = np.ascontiguousarray(np.concatenate(
        [
            bin_transform(block.reshape(n_delays, -1), q, g.shape[1], axis=1).T
            for block, g in zip(blocks, groups, strict=True)
        ]
    ))  # (sum B_c, P): the delays of one bin side by side
    real = q == 2
    # a real function on Z_q (q > 2): F(-k) = conj(F(k)), found and refitted in pairs
    pairs = not real and not np.iscomplexobj(values)
    layout = BinLayout(groups, delay_code.delays, q, real=real)
    peeled = Peeler(
        bins, layout, delay_code, max_order=max_order, noise_sd=noise_sd,
        conjugate_pairs=pairs, deep_code=deep_delay_code,
    ).run(peeling_rounds)
    freq, coef = peeled.frequencies, peeled.coefficients
    if refit_support:
        extra = np.zeros((1, n), dtype=np.int64)
        if extra_frequencies is not None:
            extra = np.concatenate([extra, np.asarray(extra_frequencies, dtype=np.int64)])
        support = np.concatenate([freq, extra])
        if pairs:
            support = np.concatenate([support, (-support) % q])
        support, _ = canonical_spectrum(support, np.zeros(support.shape[0]), q)
        support = support.astype(np.int64)
        limit = n_queries // 2  # never more unknowns than half the samples
        if support.shape[0] > limit:
            support = support[:limit]
        coef = refit(bins, layout, support, ridge=ridge)
        freq = support
        if pairs:  # impose F(-k) = conj(F(k)) (f is real)
            both = np.concatenate([freq, (-freq) % q])
            freq, coef = canonical_spectrum(both, np.concatenate([coef, np.conj(coef)]) / 2, q)
            freq = freq.astype(np.int64)
    scale = max(float(np.abs(coef).max(initial=0.0)), 1e-300)
    keep = np.abs(coef) > 1e-12 * scale
    freq, coef = freq[keep], coef[keep]
    r2 = sample_r2(bins, layout, freq, coef)
    return SparseFourierFit(
        freq,
        coef,
        n_queries,
        query_seconds,
        {
            "noise_sd_per_query": peeled.noise_sd_per_query,
            "peeling_rounds": peeled.peeling_rounds,
            "unresolved_bins": peeled.unresolved_bins,
            "n_found": int(peeled.frequencies.shape[0]),
            "sample_r2": r2,
        },
    )


def warn_if_unexplained(method: str, fit: SparseFourierFit, advice: str) -> None:
    """Warn when the fit explains less than :data:`LOW_SAMPLE_R2` of its own samples.

    The warning points at the caller of :func:`interplay.explain` (or of ``Solver.fit``).
    """
    r2 = fit.diagnostics["sample_r2"]
    if r2 < LOW_SAMPLE_R2:
        warnings.warn(
            f"{method} explains only R²={r2:.2f} of its own {fit.n_queries} samples: {advice}",
            stacklevel=5,
        )
