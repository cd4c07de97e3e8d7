"""Peeling: find the bins that hold one coefficient, read its frequency, subtract it from its
bin in every group, repeat.

One decoder for every alphabet and delay code (:mod:`.delays`). A round, vectorised over all
bins of all groups:

- Active bins: the mean power over the delays is above the noise floor of the bin.
- The delay code reads a frequency k from each bin; it is kept when it hashes back to that
  bin, has at most ``max_order`` non-zero entries, and its coefficient
  ``F^ = mean_p U_p conj(omega^<d_p, k>)`` is significant (``|F^|^2`` above 16 variances of a
  mean over the P delays: 4 standard errors).
- Singleton: the residual power ``mean_p |U_p - F^ omega^<d_p, k>|^2`` is at the noise floor.
- When no bin passes (peeling stalled on bins crowded in every group) and the delay code
  checks its reads (a BCH decoder refuses most words that are no code word), real bins of up
  to three terms are resolved by successive cancellation (:meth:`Peeler._resolve_multitons`);
  failing that, a frequency whose term carries more than half of its bin's power is taken:
  subtracting it exposes the next.
- When a round finds nothing in real bins (q = 2) and the code checks its reads, terms too
  weak to be read from one bin are read from weighted sums of unresolved bins of two or three
  groups (:mod:`.joint`, :meth:`Peeler._joint_round`), and peeling resumes.
- When those stall too (terms of up to 4 features), a matched-filter search tries every
  frequency that hashes to a tuple of unresolved bins, one per group, and takes the one that
  correlates best with their weighted sum (:mod:`.search`, :meth:`Peeler._search_round`):
  it finds terms whose signs no decoder reads, e.g. two weak terms sharing bins.
- Each found term (and for a real function on ``Z_q``, its conjugate ``-k``) is subtracted
  from its bin in every group; a term found in several groups is averaged.

Noise: the per-query noise variance is given, or estimated every round from the quietest
quarter of the bins. Each bin's proxy (scaled by the bin count of its group) is the smaller of
its residual power (noise only in a zero-ton) and the spread of ``|U_p|`` over the delays
(noise only in a zero-ton or a singleton, so the estimate holds while bins are crowded); the
lower quartile of the proxies, divided by the lower quartile of a mean of P squared Gaussians,
estimates the variance. Estimates only tighten as peeling clears bins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from interplay.sparse_fourier.delays import DelayCode
from interplay.sparse_fourier.joint import joint_reads
from interplay.sparse_fourier.layout import BinLayout
from interplay.sparse_fourier.search import LowWeightIndex, matched_search
from interplay.spectral.subsets import canonical_spectrum

__all__ = [
    "DEEP_COMBINATIONS",
    "JOINT_COMBINATIONS",
    "JOINT_Z",
    "JOINT_Z_ALONE",
    "SEARCH_Z",
    "MultitonFit",
    "PeelResult",
    "Peeler",
]

#: Standard errors a joint read's coefficient needs when two of its bins hold it alone.
JOINT_Z = 5.0
#: Standard errors a joint read's coefficient needs when its bins hold other terms too.
JOINT_Z_ALONE = 8.0
#: Bin combinations read by the regular delay code, and by the deep one (see :class:`Peeler`).
JOINT_COMBINATIONS, DEEP_COMBINATIONS = 2048, 256
#: Standard errors a term found by the matched-filter search needs (:meth:`Peeler._search_round`).
SEARCH_Z = 10.0
#: Most tuples of bins (one per group) the search tries in a round, and most rounds of it.
SEARCH_TUPLES, SEARCH_ROUNDS = 16, 8
#: The search runs when its index has at most this many entries (n <= 2048) and a tuple holds
#: at most this many candidate pairs (about half a second).
SEARCH_INDEX, SEARCH_PAIRS = 2**21, 2**24


def _mean_power(x: np.ndarray) -> np.ndarray:
    """``mean(|x|^2)`` over the last axis."""
    if np.iscomplexobj(x):
        v = np.ascontiguousarray(x).view(np.float64)
        return np.einsum("...i,...i->...", v, v) / x.shape[-1]
    return np.einsum("...i,...i->...", x, x) / x.shape[-1]


@dataclass
class MultitonFit:
    """Least-squares models of A bins with up to T terms each.

    Attributes
    ----------
    frequencies : (A, T, n) int64 array
    coefficients : (A, T) float array
    n_terms : (A,) int array
        Terms read in each bin (the first ``n_terms`` entries are used).
    residual_power : (A,) float array
        Mean residual power of the model over the delays (inf where nothing was read).
    """

    frequencies: np.ndarray
    coefficients: np.ndarray
    n_terms: np.ndarray
    residual_power: np.ndarray


@dataclass
class PeelResult:
    """Terms found by peeling, and diagnostics.

    Attributes
    ----------
    frequencies : (K, n) int64 array
    coefficients : (K,) float or complex array
    peeling_rounds : int
    noise_sd_per_query : float
        Estimated (or given) noise standard deviation of one query.
    unresolved_bins : int
        Bins whose residual power is still above the noise floor.
    """

    frequencies: np.ndarray
    coefficients: np.ndarray
    peeling_rounds: int
    noise_sd_per_query: float
    unresolved_bins: int


class Peeler:
    """Peeling decoder over the stacked bins of a design.

    Parameters
    ----------
    bins : (sum_c B_c, P) float or complex array
        ``U_{c,p}(j)`` stacked group after group (see :class:`.BinLayout`).
    layout : BinLayout
    code : DelayCode
    max_order : int
        Largest number of non-zero entries of a frequency accepted.
    noise_sd : float, optional
        Known noise standard deviation of one query; estimated when None.
    conjugate_pairs : bool
        The function is real on ``Z_q`` (q > 2): F(-k) = conj(F(k)), found together.
    deep_code : DelayCode, optional
        A slower, stronger reader of the same delays (a deeper Chase search): when peeling and
        the joint reads of ``code`` stall, it reads the sums of the strongest unresolved bins
        (:data:`DEEP_COMBINATIONS` of them).
    """

    def __init__(
        self,
        bins: np.ndarray,
        layout: BinLayout,
        code: DelayCode,
        *,
        max_order: int,
        noise_sd: float | None = None,
        conjugate_pairs: bool = False,
        deep_code: DelayCode | None = None,
    ) -> None:
        if deep_code is not None and not np.array_equal(deep_code.delays, code.delays):
            raise ValueError("deep_code must read the same delays as code")
        self.deep_code = deep_code
        self.layout = layout
        self.code = code
        self.max_order = max_order
        self.conjugate_pairs = conjugate_pairs
        self.residual = np.array(bins, order="C", copy=True)
        self.energy = _mean_power(self.residual)  # (rows,)
        # bins of group c carry 1 / B_c of a query's noise variance
        self.row_scale = 1.0 / layout.sizes[layout.group_of].astype(np.float64)
        power = float(np.sum(self.energy)) / max(len(layout.sizes), 1)  # mean |f|^2 per group
        self.floor = 1e-18 * max(power, 1e-300)
        self.noise_known = noise_sd is not None
        self.noise_var = float(noise_sd) ** 2 if noise_sd is not None else np.inf
        n_delays = self.residual.shape[1]
        # relative spread of a mean of P squared Gaussians: sqrt(2/P) real, sqrt(1/P) complex
        spread = 2.0 if layout.real else 1.0
        self.gamma = max(0.5, 4.0 * math.sqrt(spread / n_delays))
        self.significance = 16.0 / n_delays
        # var |z| / E|z|^2 for Gaussian noise: half-normal (real) or Rayleigh (complex)
        self.abs_var_ratio = (1.0 - 2.0 / math.pi) if layout.real else (4.0 - math.pi) / 4.0
        self.spread = self._spread(self.residual)  # (rows,), kept up to date like energy
        # lower quartile of a mean of P squared standard Gaussians (real) or |.|^2 (complex)
        # (Wilson–Hilferty: chi2_v / v is nearly normal in its cube root; z_0.25 = -0.6745)
        dof = n_delays if layout.real else 2 * n_delays
        self.quartile_ratio = (1.0 - 2.0 / (9 * dof) - 0.6745 * math.sqrt(2.0 / (9 * dof))) ** 3
        self.fallback = bool(getattr(code, "checks_reads", False))
        # reads from sums of bins of several groups: real bins, codes that check their reads
        self.joint = self.fallback and layout.real and layout.sizes.size >= 2
        self.probed_crowding = False
        # matched-filter search of the last weak terms: real bins, weight <= 4
        self.search = self.joint and max_order <= 4
        self.index: LowWeightIndex | None = None
        self.search_rounds = 0

    def _estimate_noise(
        self, rows: np.ndarray | None = None, fit_power: np.ndarray | None = None
    ) -> None:
        """Tighten the noise estimate from the quietest quarter of the bins.

        ``fit_power`` (for bins ``rows``) is the residual power of the best model of each bin
        the decoder found (one term, or a few); it is noise only where the model is right.
        """
        if self.noise_known:
            return
        proxy = np.minimum(self.spread, self.energy)
        if rows is not None and fit_power is not None:
            proxy[rows] = np.minimum(proxy[rows], fit_power)
        estimate = float(np.quantile(proxy / self.row_scale, 0.25)) / self.quartile_ratio
        self.noise_var = min(self.noise_var, estimate)

    def _spread(self, bins: np.ndarray) -> np.ndarray:
        """Variance of ``|U_p|`` over the delays, scaled to a noise variance."""
        return np.var(np.abs(bins), axis=1) / self.abs_var_ratio

    def _threshold(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        return (1.0 + self.gamma) * self.noise_var * self.row_scale[rows] + self.floor

    def _round(self) -> tuple[np.ndarray, np.ndarray]:
        """Terms found in one round: (K, n) frequencies and (K,) coefficients."""
        n = self.layout.delays_t.shape[0]
        empty = np.zeros((0, n), dtype=np.int64), np.zeros(0, dtype=self.residual.dtype)
        # Codes that check their reads are tried on every non-empty bin: their fits bound the
        # noise where bins are crowded. Others only on the bins above the noise floor.
        if self.fallback:
            rows = np.flatnonzero(self.energy > self.floor)
        else:
            self._estimate_noise()
            rows = np.flatnonzero(self.energy > self._threshold())
        if rows.size == 0:
            return empty
        obs = self.residual[rows]
        freq, ok = self.code.decode(obs)
        ok &= (freq != 0).sum(axis=1) <= self.max_order
        ok &= self.layout.consistent(freq, rows)
        signature = self.layout.signature(freq)
        coef = np.mean(obs * np.conj(signature), axis=1)
        power = np.abs(coef) ** 2
        resid = _mean_power(obs - coef[:, None] * signature)
        fit_power = np.where(ok, resid, np.inf)
        multi = None
        # bins one term does not explain (to round-off or to a tenth of their power)
        crowded = ~(fit_power <= 0.1 * self.energy[rows])
        if self.fallback and self.layout.real and not self.probed_crowding:
            # first round: the multi-term fits of crowded bins bound the noise too
            multi = self._resolve_multitons(rows, crowded)
            fit_power = np.minimum(fit_power, multi.residual_power)
            self.probed_crowding = True
        self._estimate_noise(rows, fit_power)

        def singletons() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
            threshold = self._threshold(rows)
            bin_noise = self.noise_var * self.row_scale[rows] + self.floor
            active = self.energy[rows] > threshold
            significant = ok & active & (power > self.significance * bin_noise)
            return significant & (resid <= threshold), significant, active, bin_noise

        accept, significant, active, bin_noise = singletons()
        if accept.any() or not self.fallback:
            return freq[accept], coef[accept]
        if self.layout.real:
            if multi is None:  # crowded bins: their multi-term fits also bound the noise
                multi = self._resolve_multitons(rows, crowded)
                self._estimate_noise(rows, np.minimum(fit_power, multi.residual_power))
                accept, significant, active, bin_noise = singletons()
                if accept.any():
                    return freq[accept], coef[accept]
            whole = active & (multi.residual_power <= self._threshold(rows))
            strong = multi.coefficients**2 > self.significance * bin_noise[:, None]
            whole &= (strong.sum(axis=1) == multi.n_terms) & multi.n_terms.astype(bool)
            if whole.any():
                take = np.arange(multi.coefficients.shape[1])[None, :] < multi.n_terms[whole, None]
                return multi.frequencies[whole][take], multi.coefficients[whole][take]
        accept = significant & (power > 0.5 * self.energy[rows])
        return freq[accept], coef[accept]

    def _read_either_sign(
        self, obs: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Read a frequency from real bins whose zero delay may carry the wrong sign.

        The code reads signs relative to the zero delay; in a bin holding several terms the
        zero delay sums them all and may disagree with the largest one. Both polarities are
        read; a read counts when it decodes, hashes back to its bin and has at most
        ``max_order`` entries, and of two such reads the one whose signature correlates
        better with ``obs`` is kept. Returns (K, n) frequencies and (K,) validity.
        """
        flipped = obs.copy()
        flipped[:, 0] *= -1.0
        reads, scores = [], []
        for candidate in (obs, flipped):
            freq, ok = self.code.decode(candidate)
            ok &= (freq != 0).sum(axis=1) <= self.max_order
            ok &= self.layout.consistent(freq, rows)
            score = np.abs(np.einsum("kp,kp->k", self.layout.signature(freq), obs))
            reads.append(freq)
            scores.append(np.where(ok, score, -np.inf))
        second = scores[1] > scores[0]
        freq = np.where(second[:, None], reads[1], reads[0])
        return freq, np.isfinite(np.maximum(scores[0], scores[1]))

    def _resolve_multitons(
        self, rows: np.ndarray, which: np.ndarray, max_terms: int = 3
    ) -> MultitonFit:
        """Models of real bins holding up to ``max_terms`` coefficients (checked reads).

        Only the bins ``rows[which]`` are modelled; the others get no terms and an infinite
        residual.

        Successive cancellation in each bin: read the largest term from the signs, fit the
        bin by least squares on the signatures read so far, read the next term from the signs
        of what is left (projecting out the known signatures leaves the next one's signs
        intact when the bin holds two terms), until the bin's residual is at its noise floor
        or no further term is read.
        """
        n = self.layout.delays_t.shape[0]
        obs = self.residual[rows]  # (A, P)
        n_bins, n_delays = obs.shape
        signatures = np.zeros((n_bins, n_delays, max_terms))
        freqs = np.zeros((n_bins, max_terms, n), dtype=np.int64)
        coef = np.zeros((n_bins, max_terms))
        n_terms = np.zeros(n_bins, dtype=np.int64)
        residual_power = np.full(n_bins, np.inf)
        alive = np.array(which, dtype=bool)
        residual = obs.copy()
        # at most a floor of noise left: stop reading (a loose bound, refined by the caller)
        stop = self._threshold(rows) if np.isfinite(self.noise_var) else np.full(n_bins, -1.0)
        for step in range(max_terms):
            live = np.flatnonzero(alive)
            if live.size == 0:
                break
            freq, ok = self._read_either_sign(residual[live], rows[live])
            # a term already read in this bin is no progress
            ok &= ~(freqs[live, :step] == freq[:, None, :]).all(axis=2).any(axis=1)
            alive[live[~ok]] = False
            live, freq = live[ok], freq[ok]
            if live.size == 0:
                break
            freqs[live, step] = freq
            signatures[live, :, step] = self.layout.signature(freq)
            basis = signatures[live, :, : step + 1]  # (L, P, s)
            gram = np.einsum("lps,lpt->lst", basis, basis)
            gram += 1e-12 * n_delays * np.eye(step + 1)
            rhs = np.einsum("lps,lp->ls", basis, obs[live])
            fitted = np.linalg.solve(gram, rhs[..., None])[..., 0]  # (L, s)
            coef[live, : step + 1] = fitted
            n_terms[live] = step + 1
            residual[live] = obs[live] - np.einsum("lps,ls->lp", basis, fitted)
            residual_power[live] = _mean_power(residual[live])
            alive[live[residual_power[live] <= stop[live]]] = False
        return MultitonFit(freqs, coef, n_terms, residual_power)

    def _merge(self, freq: np.ndarray, coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One estimate per frequency (the mean of its reads), closed under conjugation."""
        if self.conjugate_pairs:
            freq = np.concatenate([freq, (-freq) % self.layout.q])
            coef = np.concatenate([coef, np.conj(coef)])
        uniq, inverse, counts = np.unique(freq, axis=0, return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
        total = np.zeros(uniq.shape[0], dtype=coef.dtype)
        np.add.at(total, inverse, coef)
        return uniq, total / counts

    def _subtract(self, freq: np.ndarray, coef: np.ndarray) -> None:
        rows, values = self.layout.bin_sums(freq, coef)
        np.subtract.at(self.residual, rows, values)
        touched = np.unique(rows)
        self.energy[touched] = _mean_power(self.residual[touched])
        self.spread[touched] = self._spread(self.residual[touched])

    def _candidates(self) -> list[np.ndarray]:
        """Stacked rows of each group whose power exceeds 1.3 noise floors, strongest first."""
        layout = self.layout
        excess = self.energy / (self.noise_var * self.row_scale + self.floor)
        candidates = []
        for c in range(layout.sizes.size):
            rows = np.arange(layout.start[c], layout.start[c + 1])
            rows = rows[excess[rows] > 1.3]
            candidates.append(rows[np.argsort(-excess[rows], kind="stable")])
        return candidates

    def _joint_round(self, code: DelayCode, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """Terms read from sums of bins of different groups (:mod:`.joint`), when peeling
        has stalled on real bins: ``code`` reads the sums of at most ``limit`` combinations.

        Candidates: the bins of each group whose power exceeds 1.3 noise floors, strongest
        first. A read is taken when its coefficient, estimated from its bin in every group
        (weights ``B_c``), is at least :data:`JOINT_Z` standard errors and, once subtracted,
        leaves at most the noise in two of its bins, or is at least :data:`JOINT_Z_ALONE`
        standard errors (its bins may hold other unresolved terms). Reads compete for bins:
        the strongest takes them.
        """
        layout = self.layout
        n = layout.delays_t.shape[0]
        empty = np.zeros((0, n), dtype=np.int64), np.zeros(0, dtype=self.residual.dtype)
        if not np.isfinite(self.noise_var):
            return empty
        freq = joint_reads(
            self.residual, layout, code, self._candidates(), max_order=self.max_order,
            max_combinations=limit,
        )
        if freq.shape[0] == 0:
            return empty
        rows, coef, z, left = self._pooled_estimates(freq)
        clean = left <= self._threshold(rows)  # (C, K): the term alone in that bin
        # a term shared with others lowers the power of each of its bins
        alone = (z >= JOINT_Z_ALONE) & (left < self.energy[rows]).all(axis=0)
        good = ((z >= JOINT_Z) & (clean.sum(axis=0) >= 2)) | alone
        claims = clean | alone[None, :]
        return self._claim(freq, coef, z, rows, good, claims)

    def _pooled_estimates(
        self, freq: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each frequency's coefficient estimated from its bin in every group (weights B_c).

        Returns its rows (C, K), coefficients (K,), their standard scores (K,) and the mean
        residual power (C, K) each of its bins would keep once it is subtracted.
        """
        layout = self.layout
        n_delays = self.residual.shape[1]
        rows = layout.rows(freq)  # (C, K)
        signature = layout.signature(freq)  # (K, P)
        weight = layout.sizes.astype(np.float64)
        per_group = np.einsum("ckp,kp->ck", self.residual[rows], signature) / n_delays
        coef = weight @ per_group / weight.sum()
        z = np.abs(coef) / np.sqrt(self.noise_var / (n_delays * weight.sum()) + self.floor)
        left = _mean_power(self.residual[rows] - coef[None, :, None] * signature[None])
        return rows, coef, z, left

    @staticmethod
    def _claim(
        freq: np.ndarray, coef: np.ndarray, z: np.ndarray, rows: np.ndarray,
        good: np.ndarray, claims: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``good`` reads, strongest first, each taking the bins it ``claims`` (C, K):
        a read whose bins a stronger one took is dropped."""
        taken: set[int] = set()
        keep = []
        for k in np.flatnonzero(good)[np.argsort(-z[good], kind="stable")]:
            mine = set(rows[claims[:, k], k].tolist())
            if not mine & taken:
                taken |= mine
                keep.append(k)
        keep = np.array(keep, dtype=np.int64)
        return freq[keep], coef[keep]

    def _search_round(self) -> tuple[np.ndarray, np.ndarray]:
        """Terms found by a matched-filter search over the tuples of unresolved bins
        (:mod:`.search`), when even the deep joint reads stall (q = 2, weight <= 4).

        A read is taken when its pooled coefficient is at least :data:`SEARCH_Z` standard
        errors and subtracting it lowers the power of every one of its bins. The search scores
        some 10^8 candidates (chance alone reaches about 6 standard errors) against a noise
        estimate that may be low by a fifth: a chance read of 8.2 was seen, true weak terms
        score 12 to 14.
        """
        layout = self.layout
        n = layout.delays_t.shape[0]
        empty = np.zeros((0, n), dtype=np.int64), np.zeros(0, dtype=self.residual.dtype)
        if not np.isfinite(self.noise_var):
            return empty
        if self.index is None:
            size, pairs = LowWeightIndex.cost(layout)
            if size > SEARCH_INDEX or pairs > SEARCH_PAIRS:
                self.search = False  # too many features, or too few bins for a search
                return empty
            try:
                self.index = LowWeightIndex(layout)
            except ValueError:  # too many delays or bins to pack
                self.search = False
                return empty
        self.search_rounds += 1
        self.search = self.search_rounds < SEARCH_ROUNDS
        freq, _ = matched_search(
            self.residual, self.index, self._candidates(), max_tuples=SEARCH_TUPLES,
            noise_var=self.noise_var, min_z=SEARCH_Z,
        )
        if freq.shape[0] == 0:
            return empty
        rows, coef, z, left = self._pooled_estimates(freq)
        good = (z >= SEARCH_Z) & (left < self.energy[rows]).all(axis=0)
        return self._claim(freq, coef, z, rows, good, np.ones_like(rows, dtype=bool))

    def run(self, max_rounds: int) -> PeelResult:
        """Peel until no new term is found or ``max_rounds`` rounds have run."""
        found_f, found_c = [], []
        rounds = 0
        for _ in range(max_rounds):
            freq, coef = self._round()
            if freq.shape[0] == 0 and self.joint:
                freq, coef = self._joint_round(self.code, JOINT_COMBINATIONS)
                if freq.shape[0] == 0 and self.deep_code is not None:
                    freq, coef = self._joint_round(self.deep_code, DEEP_COMBINATIONS)
                if freq.shape[0] == 0 and self.search:
                    freq, coef = self._search_round()
            if freq.shape[0] == 0:
                break
            rounds += 1
            freq, coef = self._merge(freq, coef)
            self._subtract(freq, coef)
            found_f.append(freq)
            found_c.append(coef)
        self._estimate_noise()
        n = self.layout.delays_t.shape[0]
        if found_f:
            freq, coef = canonical_spectrum(
                np.concatenate(found_f), np.concatenate(found_c), self.layout.q
            )
        else:
            freq, coef = np.zeros((0, n), dtype=np.int64), np.zeros(0, dtype=np.complex128)
        if self.layout.real:
            coef = coef.real
        unresolved = int(np.sum(self.energy > self._threshold()))
        noise_sd = math.sqrt(self.noise_var) if np.isfinite(self.noise_var) else 0.0
        return PeelResult(np.asarray(freq, dtype=np.int64), coef, rounds, noise_sd, unresolved)
