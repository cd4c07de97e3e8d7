"""Least-squares refit of a recovered support, and its R² on the samples, in the bin domain.

The bin transform is unitary up to ``B_c = q**b_c`` per (group, delay) block (Parseval:
``sum_l |f(l)|^2 = B_c sum_j |U(j)|^2``), and each term touches one bin per block. So least
squares on every sample is a small weighted system over the bins: no (N, K) design matrix.
"""

from __future__ import annotations

import numpy as np

from interplay.sparse_fourier.layout import BinLayout

__all__ = ["refit", "sample_r2"]


def refit(
    bins: np.ndarray, layout: BinLayout, freq: np.ndarray, *, ridge: float = 0.0
) -> np.ndarray:
    """Least-squares coefficients of the frequencies ``freq`` on every sample.

    Parameters
    ----------
    bins : (sum_c B_c, P) array
        The stacked bins (:class:`.BinLayout`).
    layout : BinLayout
    freq : (K, n) int array
    ridge : float
        Ridge penalty in the units of the sample-domain normal equations.

    Returns
    -------
    (K,) float array when ``layout.real``, complex otherwise.

    Notes
    -----
    The normal equations are ``G[k, k'] = (sum_p conj(s_pk) s_pk') sum_c B_c [j_c(k) =
    j_c(k')]`` and ``r[k] = sum_c B_c sum_p conj(s_pk) U_{c,p}(j_c(k))``, with ``s_pk =
    omega^<d_p, k>``.
    """
    k_count = freq.shape[0]
    if k_count == 0:
        return np.zeros(0, dtype=np.float64 if layout.real else np.complex128)
    signature = layout.signature(freq)  # (K, P)
    conj_signature = np.conj(signature)
    overlap = conj_signature @ signature.T  # (K, K)
    shared = np.zeros((k_count, k_count))
    rhs = np.zeros(k_count, dtype=signature.dtype if layout.real else np.complex128)
    for c, rows in enumerate(layout.rows(freq)):
        weight = float(layout.sizes[c])
        shared += weight * (rows[:, None] == rows[None, :])
        rhs += weight * np.einsum("kp,kp->k", conj_signature, bins[rows])
    gram = overlap * shared
    scale = float(np.real(np.trace(gram))) / k_count
    gram[np.diag_indices_from(gram)] += ridge + 1e-13 * scale
    try:
        return np.linalg.solve(gram, rhs)
    except np.linalg.LinAlgError:  # pragma: no cover - singular despite the ridge
        return np.linalg.lstsq(gram, rhs, rcond=None)[0]


def sample_r2(bins: np.ndarray, layout: BinLayout, freq: np.ndarray, coef: np.ndarray) -> float:
    """R² of the expansion on every sample of the design, computed from the bins.

    Samples that do not vary give 1.0 when fitted to round-off and 0.0 otherwise (never −inf).
    """
    weight = layout.sizes[layout.group_of].astype(np.float64)  # (rows,)
    power = np.einsum("rp,rp->r", bins.conj(), bins).real  # (rows,) sum over delays of |U|^2
    resid = float(weight @ power)
    if freq.shape[0]:
        # only the bins the expansion touches change
        rows, values = layout.bin_sums(freq, coef)
        touched, where = np.unique(rows, return_inverse=True)
        model = np.zeros((touched.size, bins.shape[1]), dtype=np.result_type(bins, values))
        np.add.at(model, where.ravel(), values)
        left = bins[touched] - model
        left_power = np.einsum("rp,rp->r", left.conj(), left).real
        resid += float(weight[touched] @ (left_power - power[touched]))
    n_samples = float(np.sum(layout.sizes)) * bins.shape[1]
    # U_{c,p}(0) is the mean of block (c, p): the overall mean is their weighted mean
    dc = bins[layout.start[:-1]]  # (C, P)
    mean = np.sum(layout.sizes[:, None] * dc) / n_samples
    total = float(weight @ power) - n_samples * float(np.abs(mean) ** 2)
    floor = 1e-18 * max(float(weight @ power), 1e-300)
    if total <= floor:
        return 1.0 if resid <= floor else 0.0
    return 1.0 - resid / total
