"""The q-SFT decoder: singleton detection, peeling and least-squares refit over the bins.

:class:`_Peeler` reads the frequency vector of every bin that holds one coefficient, subtracts it
from its bin in every group until no new singleton appears, refits the recovered support on every
sample and scores it (sample R²). See :mod:`interplay.solvers.qsft` for the decoding rules.
"""

from __future__ import annotations

import math

import numpy as np

from interplay.spectral.qary import canonical_spectrum, frequency_groups


def _mean_power(x: np.ndarray) -> np.ndarray:
    """``mean(|x|^2)`` over the last axis of a complex array (no complex abs)."""
    v = x.view(np.float64)
    return np.einsum("...i,...i->...", v, v) / x.shape[-1]


class _Peeler:
    """Singleton detection, peeling and refit over the bins of every group and delay.

    Bins are stored (C, B, P): group, bin, delay. The delays come in blocks
    ``a_r, a_r + e_1, ..., a_r + e_n`` (:func:`delay_matrix`), so the phase a frequency k puts
    on delay ``p = r (n + 1) + i`` is ``<a_r, k> + k_i`` (``k_0 = 0``): an (R, n) product and
    a broadcast, not a (P, n) one. The mean power of every bin over the delays is kept up to
    date as bins are peeled, so a round only reads the bins it touches.

    The residual is copy-on-write: it equals the original bins except in the bins peeling has
    touched, whose residual rows are kept in ``touched`` (the bins are never copied whole).
    """

    def __init__(
        self,
        bins: np.ndarray,
        groups: np.ndarray,
        delays: np.ndarray,
        q: int,
        b: int,
        max_order: int,
        noise_sd: float | None,
        n: int,
    ) -> None:
        self.original = bins
        self.slot = np.full(bins.shape[:2], -1, dtype=np.int64)  # (C, B) -> row of touched
        self.touched = np.empty((0, bins.shape[2]), dtype=np.complex128)
        self.n_touched = 0
        self.groups = groups
        self.q, self.b, self.n = q, b, n
        self.n_delays = delays.shape[0]
        self.n_blocks = delays.shape[0] // (n + 1)
        offsets = delays[:: n + 1]  # (R, n): the a_r
        unit = np.vstack([np.zeros((1, n), dtype=np.int64), np.eye(n, dtype=np.int64)])
        blocks = (offsets[:, None, :] + unit[None, :, :]) % q
        if not np.array_equal(blocks.reshape(-1, n), delays):  # pragma: no cover - internal
            raise ValueError("delays must come in blocks a_r, a_r + e_1, ..., a_r + e_n")
        self.offsets_t = offsets.astype(np.float64).T  # (n, R)
        self.max_order = max_order
        self.roots = np.exp(2j * np.pi * np.arange(q) / q)
        self.powers = q ** np.arange(b - 1, -1, -1)
        n_bins = q**b
        self.original_energy = _mean_power(bins)  # (C, B)
        self.energy = self.original_energy.copy()
        # Floor below which energy is numerical round-off: relative to the samples' power.
        power = float(np.mean(self.original_energy)) * n_bins
        self.floor = 1e-18 * max(power, 1e-300)
        if noise_sd is not None:
            self.sigma2 = float(noise_sd) ** 2 / n_bins
            self.noise_known = True
        else:
            self.sigma2 = float(np.quantile(self.energy, 0.25))
            self.noise_known = False
        self.gamma = max(0.5, 4.0 / math.sqrt(delays.shape[0]))
        self.rounds = 0
        self.unresolved_bins = 0

    def _offset_phase(self, freq: np.ndarray) -> np.ndarray:
        """(K, R) int array ``<a_r, k> mod q`` (float64 BLAS product: exact for these sizes)."""
        prod = freq.astype(np.float64) @ self.offsets_t
        return np.rint(prod).astype(np.int64) % self.q

    def _delay_phase(self, freq: np.ndarray) -> np.ndarray:
        """(K, P) int array ``<d_p, k> mod q``."""
        base = self._offset_phase(freq)  # (K, R)
        own = np.concatenate([np.zeros((freq.shape[0], 1), dtype=np.int64), freq], axis=1)
        return ((base[:, :, None] + own[:, None, :]) % self.q).reshape(-1, self.n_delays)

    def _signature(self, freq: np.ndarray) -> np.ndarray:
        """(K, P) complex array ``omega^<d_p, k>``."""
        return self.roots[self._delay_phase(freq)]

    def _bin_of(self, freq: np.ndarray, c: int) -> np.ndarray:
        """(K,) bin index of each frequency in group c."""
        return ((freq @ self.groups[c]) % self.q) @ self.powers

    @property
    def noise_sd_estimate(self) -> float:
        return float(math.sqrt(self.sigma2 * self.q**self.b))

    def _threshold(self) -> float:
        return (1.0 + self.gamma) * self.sigma2 + self.floor

    # -------------------------------------------------------------- decoding
    def _decode(self) -> tuple[np.ndarray, np.ndarray]:
        """Singletons in the residual bins: (K, n) frequency vectors and (K,) coefficients."""
        n, q, r_count = self.n, self.q, self.n_blocks
        thr = self._threshold()
        cand_c, cand_j = np.nonzero(self.energy > thr)
        if cand_c.size == 0:
            return np.zeros((0, n), dtype=np.int64), np.zeros(0, dtype=np.complex128)
        obs = self._residual(cand_c, cand_j)  # (K, P)
        blocks = obs.reshape(-1, r_count, n + 1)
        # First read: phase of U(a_r + e_i) conj(U(a_r)), summed over blocks.
        z = np.einsum("kri,kr->ki", blocks[:, :, 1:], np.conj(blocks[:, :, 0]))
        k = np.rint(np.angle(z) * q / (2 * np.pi)).astype(np.int64) % q
        for _ in range(2):
            # Maximum-likelihood re-read of each k_i against the estimated coefficient
            # F^ = mean_p U_p omega^-<d_p, k>, with omega^<d_p, k> = omega^<a_r, k> omega^k_i.
            base = self._offset_phase(k)  # (K, R)
            t = np.einsum("kri,kr->ki", blocks, np.conj(self.roots[base]))  # (K, n + 1)
            coef = t[:, 0] + np.einsum("ki,ki->k", t[:, 1:], np.conj(self.roots[k]))
            coef /= self.n_delays
            w = t[:, 1:] * np.conj(coef)[:, None]
            k = np.rint(np.angle(w) * q / (2 * np.pi)).astype(np.int64) % q
        hashed = np.einsum("kn,knb->kb", k, self.groups[cand_c]) % q
        in_bin = (hashed @ self.powers) == cand_j
        low = (k != 0).sum(axis=1) <= self.max_order
        keep = np.flatnonzero(in_bin & low)
        k, obs = k[keep], obs[keep]
        model = self._signature(k)
        coef = np.mean(obs * np.conj(model), axis=1)
        resid = _mean_power(obs - coef[:, None] * model)
        ok = resid <= thr
        return k[ok], coef[ok]

    def _bin_sums(self, freq: np.ndarray, coef: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """For every group: the bins the terms fall in and the (U, P) sum of their terms."""
        contrib = self._signature(freq) * coef[:, None]  # (K, P)
        out = []
        for c in range(self.groups.shape[0]):
            j = self._bin_of(freq, c)
            order = np.argsort(j, kind="stable")
            sorted_j = j[order]
            starts = np.flatnonzero(np.concatenate([[True], sorted_j[1:] != sorted_j[:-1]]))
            out.append((sorted_j[starts], np.add.reduceat(contrib[order], starts, axis=0)))
        return out

    def _residual(self, c: np.ndarray, j: np.ndarray) -> np.ndarray:
        """(K, P) copy of the residual of bins ``(c[i], j[i])``."""
        rows = self.original[c, j]
        slot = self.slot[c, j]
        mine = slot >= 0
        if mine.any():
            rows[mine] = self.touched[slot[mine]]
        return rows

    def _own(self, c: int, j: np.ndarray) -> np.ndarray:
        """Rows of ``touched`` holding the residual of bins j of group c (copied on first use)."""
        slot = self.slot[c, j]
        new = np.flatnonzero(slot < 0)
        if new.size:
            end = self.n_touched + new.size
            if end > self.touched.shape[0]:
                size = max(end, 2 * self.touched.shape[0], 64)
                grown = np.empty((size, self.touched.shape[1]), dtype=np.complex128)
                grown[: self.n_touched] = self.touched[: self.n_touched]
                self.touched = grown
            rows = np.arange(self.n_touched, end)
            self.touched[rows] = self.original[c, j[new]]
            self.slot[c, j[new]] = rows
            slot[new] = rows
            self.n_touched = end
        return slot

    def _reset(self) -> None:
        """Back to the original bins."""
        self.slot.fill(-1)
        self.n_touched = 0
        self.energy = self.original_energy.copy()

    def _subtract(self, freq: np.ndarray, coef: np.ndarray) -> None:
        for c, (j, total) in enumerate(self._bin_sums(freq, coef)):
            slot = self._own(c, j)
            self.touched[slot] -= total
            self.energy[c, j] = _mean_power(self.touched[slot])

    def _peel(self, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
        found_f = np.zeros((0, self.n), dtype=np.int64)
        found_c = np.zeros(0, dtype=np.complex128)
        self.rounds = 0
        for _ in range(max_iter):
            k, coef = self._decode()
            if k.shape[0] == 0:
                break
            self.rounds += 1
            # One estimate per frequency (average repeats), closed under conjugation.
            both = np.concatenate([k, (-k) % self.q])
            vals = np.concatenate([coef, np.conj(coef)])
            order, starts = frequency_groups(both)
            uniq = both[order[starts]]
            inverse = np.empty(both.shape[0], dtype=np.int64)
            inverse[order] = np.repeat(
                np.arange(starts.size), np.diff(starts, append=both.shape[0])
            )
            counts = np.bincount(inverse, minlength=uniq.shape[0])
            mean = np.bincount(inverse, vals.real, uniq.shape[0]) + 1j * np.bincount(
                inverse, vals.imag, uniq.shape[0]
            )
            mean /= counts
            self._subtract(uniq, mean)
            found_f = np.concatenate([found_f, uniq])
            found_c = np.concatenate([found_c, mean])
        return canonical_spectrum(found_f, found_c, self.q)

    def run(self, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
        """Peel; when the noise level was estimated, re-estimate it from the residual and
        peel again from scratch if the first estimate was clearly too low."""
        freq, coef = self._peel(max_iter)
        if not self.noise_known:
            residual_sigma2 = float(np.median(self.energy))
            if residual_sigma2 > 2.0 * self.sigma2 + self.floor:
                self.sigma2 = residual_sigma2
                self._reset()
                freq, coef = self._peel(max_iter)
        self.unresolved_bins = int(np.sum(self.energy > self._threshold()))
        return freq.astype(np.int64), coef

    def sample_r2(self, freq: np.ndarray, coef: np.ndarray) -> float:
        """R² of the expansion on every sample, computed in the bin domain (Parseval).

        Only the bins the expansion touches are recomputed; the others keep their power.
        Samples that do not vary give 1.0 when fitted to round-off and 0.0 otherwise, as
        :func:`interplay.metrics.r2_score` does (never −inf).
        """
        power = self.original_energy * self.n_delays  # (C, B): sum over delays of |U|^2
        untouched = np.ones(power.shape, dtype=bool)
        resid = 0.0
        if freq.shape[0]:
            for c, (j, total) in enumerate(self._bin_sums(freq, coef)):
                resid += float(np.sum(_mean_power(self.original[c, j] - total))) * self.n_delays
                untouched[c, j] = False
        resid += float(np.sum(power[untouched]))
        dc = self.original[:, 0, :]
        total = float(np.sum(power[:, 1:]))
        total += float(np.sum(np.abs(dc - dc.mean()) ** 2))
        if total <= self.floor:
            return 1.0 if resid <= self.floor else 0.0
        return 1.0 - resid / total

    # ------------------------------------------------------------------ refit
    def refit(self, freq: np.ndarray) -> np.ndarray:
        """Least-squares coefficients of ``freq`` on all samples (solved in the bin domain)."""
        # Each coefficient k enters one bin j_c(k) of every (group, delay) block with the
        # signature omega^<d_p, k>. So the normal equations are
        #   G[k, k'] = (sum_p conj(s_pk) s_pk') * #{c : j_c(k) = j_c(k')},
        #   r[k]     = sum_c sum_p conj(s_pk) U_{c,p}(j_c(k)).
        c_count = self.original.shape[0]
        k_count = freq.shape[0]
        signature = self._signature(freq)  # (K, P)
        conj_signature = signature.conj()
        overlap = conj_signature @ signature.T  # (K, K)
        shared = np.zeros((k_count, k_count))
        rhs = np.zeros(k_count, dtype=np.complex128)
        for c in range(c_count):
            j = self._bin_of(freq, c)  # (K,)
            shared += j[:, None] == j[None, :]
            rhs += np.einsum("kp,kp->k", conj_signature, self.original[c, j])
        gram = overlap * shared
        ridge = 1e-13 * float(np.real(np.trace(gram))) / max(k_count, 1)
        gram[np.diag_indices_from(gram)] += ridge
        try:
            return np.linalg.solve(gram, rhs)
        except np.linalg.LinAlgError:  # pragma: no cover - singular despite the ridge
            return np.linalg.lstsq(gram, rhs, rcond=None)[0]
