"""q-SFT: the sparse Fourier transform of a function of n features with q states.

``f(x) = sum_k F(k) omega^<k, x>`` on ``Z_q^n`` with ``omega = exp(2 pi i / q)``. The solver
queries f on a fixed design, hashes the spectrum into bins with a q-ary FFT, finds the bins that
hold one coefficient (singletons), reads off their frequency vectors from the phases the delays
put on them, peels them from every other bin, and refits the recovered support by least squares.

Design (all queries fixed before any decoding, so they are deduplicated before any is sent):

- C subsampling groups ``M_c in Z_q^{n x b}``, random and full rank (the map ``k -> M_c^T k`` is
  onto ``Z_q^b``: for every prime p dividing q, ``M_c mod p`` has rank b over GF(p)).
- Delays in R blocks. Block r is ``a_r, a_r + e_1, ..., a_r + e_n``: the identity design is
  one block with ``a_1 = 0`` (``n + 1`` delays, noiseless functions); the robust design draws R
  random offsets ``a_r`` (noisy functions: each ``k_i`` is read R times).
- Samples ``f(M_c l + d_p)`` for every ``l in Z_q^b``; a b-dimensional FFT of size q per axis
  gives ``U_{c,p}(j) = sum_{k : M_c^T k = j} F(k) omega^<d_p, k>`` for the ``q^b`` bins j.

Decoding (vectorised over every bin of every group at once):

- Zero-ton: the mean energy of the bin over the delays is at the noise floor.
- Otherwise read k: ``k_i`` is the phase of ``sum_r U(a_r + e_i) conj(U(a_r))`` (in units of
  ``2 pi / q``), then refined by a maximum-likelihood read of each ``k_i`` against the estimated
  coefficient ``F^ = mean_p U_p omega^-<d_p, k>``.
- Singleton when ``M_c^T k = j``, ``|k| <= max_order``, and the residual energy
  ``mean_p |U_p - F^ omega^<d_p, k>|^2`` is at the noise floor. The noise level per bin is
  estimated from the quiet bins (or given as ``noise_sd``), then re-estimated from the residual
  after peeling.
- Peeling: each singleton (and, f being real, its conjugate ``-k`` with ``conj(F^)``) is
  subtracted from its bin in every group; repeat until no new singleton appears.
- Refit: least squares of the recovered support on every sample. The FFT is unitary per
  (group, delay) block, so this is solved in the bin domain, where each coefficient touches
  one bin per block (a sparse system), and the conjugate symmetry is imposed at the end.

For q = 2 this is SPEX with identity delays. The result is an :class:`~interplay.Interactions`
over q states (its Fourier basis). Complex-valued functions are accepted for q > 2: their
spectrum has no conjugate symmetry, and none is assumed or imposed.

q-SFT is the sparse-Fourier engine (:mod:`interplay.sparse_fourier`) with unit delays
(:class:`~interplay.sparse_fourier.delays.UnitDelays`); this module holds the solver's
parameters and the size of its design (:mod:`interplay.solvers.qsft_design`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict
from typing import Any, ClassVar

from interplay.solvers.base import BudgetError, Solver, check_random_state
from interplay.solvers.normalised import NormalisedValueFunction
from interplay.solvers.parameters import Constraint, boolean, integer, one_of, real
from interplay.solvers.qsft_design import DelayDesign, QsftDesign
from interplay.sparse_fourier import (
    UnitDelays,
    coded_delay_count,
    coded_delays,
    low_order_frequencies,
    sparse_fourier_transform,
    subsample_groups,
    warn_if_unexplained,
)
from interplay.spectral.interactions import Interactions

__all__ = ["QSFT", "QsftDesign"]

logger = logging.getLogger(__name__)

#: Largest number of bins per group a default design uses.
_MAX_BINS = 2**16


class QSFT(Solver):
    """Sparse Fourier transform of a q-ary function (q-SFT).

    Parameters
    ----------
    budget : int, optional
        Largest number of distinct queries. With a budget the design uses the largest number
        of bins that fits; without one it is sized for ``sparsity`` terms and the planned
        count is logged (see :meth:`plan`).
    max_order : int
        Largest Hamming weight of a frequency vector accepted as a singleton.
    random_state : None, int or Generator
        Seed of the subsampling matrices and delays.
    q : int
        Number of states of each feature (2 = binary masks).
    n_groups : int
        Number of subsampling groups C.
    b : int, optional
        Bins per group are ``q**b``; overrides the choice from ``sparsity``/``budget``.
    sparsity : int
        Number of real interactions (conjugate pairs) the default design is sized for: the
        smallest b with ``q**b >= 4 * sparsity`` (at most half a coefficient per bin; real
        functions have two conjugate coefficients per interaction), ``2 * sparsity`` for q = 2.
    delays : {"identity", "robust"}
        Identity delays for noiseless functions; robust random delays for noisy ones.
    delay_code : {"unit", "bch"}
        What each delay block reads. ``"unit"``: ``a_r + e_i`` for every feature i
        (``n + 1`` delays a block, any q). ``"bch"``: the parity checks of a binary BCH code
        correcting t = ``max_order`` errors (``1 + r`` delays a block, ``r ~ t log2 n``), read
        one binary digit of k at a time, for q a power of two
        (:class:`~interplay.sparse_fourier.delays.BinaryDigitBCHDelays`); for q prime the
        syndrome digits of a BCH code over GF(q)
        (:class:`~interplay.sparse_fourier.delays.PrimeBCHDelays`).
    n_repeats : int, optional
        Delay blocks R of the robust design. None: ``max(3, ceil(log2(n + 1)) - 2)`` (3 up
        to n = 31, 5 at n = 100): each ``k_i`` is read R times, and the chance that one of the
        n reads of a singleton is wrong must stay small as n grows.
    noise_sd : float, optional
        Known noise standard deviation of one query; estimated from the bins when None.
    refit : bool
        Refit the recovered support (and the mean, k = 0, always) by least squares on every
        sample.
    complete_order : int
        Before the refit, add every frequency vector of Hamming weight <= ``complete_order``
        to the recovered support (0: none). For functions that are not exactly sparse (RNA
        folding energies), the low-order terms hidden in crowded bins are then still
        estimated; each bin of each group and delay gives one equation, so the refit stays
        determined while ``C * (n+1) * q**b`` exceeds the number of terms.
    max_iter : int
        Largest number of peeling rounds.

    Notes
    -----
    ``fit`` returns an :class:`~interplay.Interactions` with ``q`` states per feature (complex
    coefficients for q > 2; a complex-valued function is accepted for q > 2). Its
    ``metadata`` holds the design, the estimated noise level and peeling statistics, with the
    timings every solver records (``query_seconds``; ``solver_seconds`` excludes the time
    spent inside the value function).
    """

    name = "qsft"
    parameters: ClassVar[dict[str, Constraint]] = {
        "q": integer(2, 128),
        "n_groups": integer(1),
        "b": integer(1, optional=True),
        "sparsity": integer(1),
        "delays": one_of("identity", "robust"),
        "delay_code": one_of("unit", "bch"),
        "n_repeats": integer(1, optional=True),
        "noise_sd": real(0, optional=True),
        "refit": boolean(),
        "complete_order": integer(0),
        "max_iter": integer(1),
    }

    def __init__(
        self,
        *,
        budget: int | None = None,
        max_order: int = 5,
        random_state: Any = None,
        q: int = 2,
        n_groups: int = 3,
        b: int | None = None,
        sparsity: int = 50,
        delays: DelayDesign = "identity",
        delay_code: str = "unit",
        n_repeats: int | None = None,
        noise_sd: float | None = None,
        refit: bool = True,
        complete_order: int = 0,
        max_iter: int = 100,
    ) -> None:
        super().__init__(budget=budget, max_order=max_order, random_state=random_state)
        self.q = q
        self.n_groups = n_groups
        self.b = b
        self.sparsity = sparsity
        self.delays = delays
        self.delay_code = delay_code
        self.n_repeats = n_repeats
        self.noise_sd = noise_sd
        self.refit = refit
        self.complete_order = complete_order
        self.max_iter = max_iter

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        """The declared constraints, then the one that ties two parameters together."""
        self.check_parameters()
        q = int(self.q)
        if self.delay_code == "bch" and q & (q - 1) and any(q % d == 0 for d in range(2, q)):
            raise ValueError(
                f"delay_code='bch' needs q a power of two or a prime, got q={self.q}; "
                "use delay_code='unit'"
            )

    def plan(self, n: int) -> QsftDesign:
        """The design ``fit`` will use for ``n`` features (nothing is queried).

        Raises
        ------
        BudgetError
            When even one bin exponent (``b = 1``) costs more than the budget.
        """
        self._check_params()
        n, q, c = int(n), int(self.q), int(self.n_groups)
        if self.delays == "identity":
            repeats = 1
        elif self.n_repeats is None:
            repeats = max(3, math.ceil(math.log2(n + 1)) - 2)
        else:
            repeats = int(self.n_repeats)
        if self.delay_code == "bch":
            n_delays = coded_delay_count(n, q, min(int(self.max_order), n), repeats)
        else:
            n_delays = repeats * (n + 1)

        def cost(b: int) -> int:
            return c * n_delays * (q**b - 1) + n_delays

        b_cap = max(1, min(n, math.floor(math.log(_MAX_BINS, q) + 1e-9)))
        if self.b is not None:
            b = int(self.b)
            if b > n:
                raise ValueError(f"b={b} cannot exceed n={n}")
        elif self.budget is None:
            # Real functions have 2 coefficients per interaction; keep the load of each
            # group at or below 1/2 coefficient per bin, where 3-group peeling succeeds with
            # high probability even at small sizes (measured: load 0.6 fails ~1 run in 6).
            # (For q = 2, k = -k: one real coefficient per interaction.)
            target = (2 if q == 2 else 4) * int(self.sparsity)
            b = next((b for b in range(1, b_cap + 1) if q**b >= target), b_cap)
        else:
            fits = [b for b in range(1, b_cap + 1) if cost(b) <= int(self.budget)]
            if not fits:
                raise BudgetError(
                    f"budget {self.budget} is too small for q-SFT with q={q}, n={n}: the "
                    f"smallest design needs {cost(1)} queries ({c} random subsamplings into "
                    f"{q} bins, each bin read at {n_delays} {self.delays} delays, the points "
                    "the groups share counted once)"
                )
            b = fits[-1]
        if self.budget is not None and cost(b) > int(self.budget):
            raise BudgetError(
                f"the q-SFT design b={b} needs up to {cost(b)} queries; the budget is {self.budget}"
            )
        return QsftDesign(q, n, b, c, self.delays, repeats, cost(b), n_delays, self.delay_code)

    def alphabet_size(self) -> int:
        """q, the number of states of each feature."""
        self._check_params()
        return int(self.q)

    def planned_queries(self, n: int) -> int:
        """The most queries :meth:`plan`'s design sends."""
        return self.plan(n).max_queries

    # --------------------------------------------------------------------- fit
    def fit_sampled(self, value_function: NormalisedValueFunction, n: int) -> Interactions:
        """Query ``value_function`` on the q-SFT design and return the sparse spectrum.

        Parameters
        ----------
        value_function : NormalisedValueFunction
            Takes (N, n) int arrays of states in ``0..q-1`` (bool masks for q = 2).
        n : int
            Number of features.
        """
        design = self.plan(n)
        q, n, b = design.q, design.n, design.b
        logger.info(
            "q-SFT design: q=%d, n=%d, b=%d (%d bins), %d groups, %d delays: at most %d queries",
            q, n, b, design.n_bins, design.n_groups, design.n_delays, design.max_queries,
        )
        rng = check_random_state(self.random_state)
        robust = self.delays == "robust"
        groups = subsample_groups(n, (b,) * design.n_groups, q, rng)
        offsets_rng = rng if robust else None
        if self.delay_code == "bch":
            code = coded_delays(n, q, min(int(self.max_order), n), design.n_repeats, offsets_rng)
        else:
            code = UnitDelays(n, q, design.n_repeats, offsets_rng)
        extra = None
        if int(self.complete_order) > 0:
            extra = low_order_frequencies(n, q, int(self.complete_order))
        noise_sd = None if self.noise_sd is None else float(self.noise_sd)
        fit = sparse_fourier_transform(
            value_function, n, q, groups=groups, delay_code=code,
            max_order=int(self.max_order), noise_sd=noise_sd, peeling_rounds=int(self.max_iter),
            extra_frequencies=extra, refit_support=bool(self.refit),
        )
        warn_if_unexplained(
            "q-SFT", fit, f"the function is less sparse than {design.n_bins} bins per group "
            "resolve, or very noisy. Raise the budget (or sparsity=), use delays='robust' for "
            "noise, or complete_order=1 or 2 for dense low-order effects.",
        )
        metadata = {
            "design": asdict(design),
            **fit.diagnostics,
        }
        terms = fit.frequencies.astype(bool) if q == 2 else fit.frequencies
        return Interactions(
            terms, fit.coefficients, n_features=n, q=q, n_queries=fit.n_queries, method=self.name,
            metadata=metadata,
        )
