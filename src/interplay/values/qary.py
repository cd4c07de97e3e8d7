"""q-ary value functions: every feature takes one of q states.

A q-ary value function takes an (N, n) int array of states in ``0..q-1`` and returns N floats.
This module provides

- :func:`random_sparse_qary`: planted sparse q-ary spectra, real or complex-valued (the oracle
  of tests and benchmarks; :class:`~interplay.values.planted.PlantedFunction` evaluates them);
- :class:`CategoricalTabular`: a tabular model whose features each take one of q categories;
- :class:`TextAlternatives`: text where each position is masked (state 0), kept (state 1) or
  replaced by one of q − 2 alternatives the user gives (states 2..q−1). With q = 2 this is the
  binary keep/mask convention of the rest of the library (1 = kept).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from interplay.random_state import check_random_state
from interplay.spectral.interactions import Interactions

__all__ = ["CategoricalTabular", "TextAlternatives", "random_sparse_qary"]


def _check_states(states: Any, n: int, q: int) -> np.ndarray:
    arr = np.asarray(states)
    if arr.ndim != 2 or arr.shape[1] != n:
        raise ValueError(f"states must have shape (N, {n}), got {arr.shape}")
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    integral = np.issubdtype(arr.dtype, np.integer) or np.all(np.mod(arr, 1) == 0)
    if arr.size and (not integral or arr.min() < 0 or arr.max() > q - 1):
        raise ValueError(f"states must be integers in 0..{q - 1}")
    return arr.astype(np.int64)


def random_sparse_qary(
    n: int,
    q: int,
    n_terms: int,
    *,
    max_degree: int = 3,
    min_degree: int = 1,
    magnitude: tuple[float, float] = (0.5, 1.5),
    real: bool = True,
    random_state: Any = None,
) -> Interactions:
    """A random function on Z_q^n with a sparse, low-degree Fourier spectrum.

    ``n_terms`` distinct frequency vectors k are drawn (Hamming weight uniform in
    ``[min_degree, max_degree]``, non-zero entries uniform in ``1..q-1``); each gets a
    coefficient of magnitude uniform in ``magnitude`` and a random phase. The zero frequency
    carries a random offset.

    With ``real`` (the default) no two vectors are conjugate, and each ``-k`` gets the
    conjugate coefficient, so f is real; vectors with ``k = -k`` (every entry q/2) get a real
    coefficient. Without it (q > 2) the function is complex-valued: ``n_terms`` independent
    complex coefficients and a complex offset.

    Returns
    -------
    Interactions
        With q states per feature and up to ``2 * n_terms + 1`` terms (``n_terms + 1`` when
        not ``real``).
    """
    n, q, n_terms = int(n), int(q), int(n_terms)
    if not 1 <= min_degree <= max_degree <= n:
        raise ValueError(f"need 1 <= min_degree <= max_degree <= n, got {min_degree}, {max_degree}")
    if not real and q == 2:
        raise ValueError("a complex-valued function needs q > 2 (binary spectra are real)")
    degrees = range(int(min_degree), int(max_degree) + 1)
    total = sum(math.comb(n, d) * (q - 1) ** d for d in degrees)
    self_conjugate = sum(math.comb(n, d) for d in degrees) if q % 2 == 0 else 0
    available = (total - self_conjugate) // 2 + self_conjugate if real else total
    if n_terms > available:
        kind = "real interactions" if real else "frequency vectors"
        raise ValueError(
            f"only {available} distinct {kind} of degree {min_degree}..{max_degree} "
            f"exist for n={n}, q={q}; {n_terms} were asked for"
        )
    rng = check_random_state(random_state)
    seen: set[bytes] = set()
    rows = []
    while len(rows) < n_terms:
        d = int(rng.integers(min_degree, max_degree + 1))
        k = np.zeros(n, dtype=np.int64)
        k[rng.choice(n, size=d, replace=False)] = rng.integers(1, q, size=d)
        key, neg = k.tobytes(), ((-k) % q).tobytes()
        if key in seen or (real and neg in seen):
            continue
        seen.add(key)
        rows.append(k)
    freq = np.array(rows, dtype=np.int64).reshape(n_terms, n)
    mags = rng.uniform(*magnitude, size=n_terms)
    coef = mags * np.exp(2j * np.pi * rng.uniform(size=n_terms))
    if not real:
        offset = rng.normal() + 1j * rng.normal()
        return Interactions(np.concatenate([freq, np.zeros((1, n), dtype=np.int64)]),
                            np.concatenate([coef, [offset]]), n_features=n, q=q,
                            method="planted")
    neg = (-freq) % q
    self_conj = (neg == freq).all(axis=1)
    coef[self_conj] = mags[self_conj] * rng.choice([-1.0, 1.0], size=int(self_conj.sum()))
    freq_all = np.concatenate([freq, neg[~self_conj], np.zeros((1, n), dtype=np.int64)])
    coef_all = np.concatenate([coef, np.conj(coef[~self_conj]), [rng.normal()]])
    if q == 2:  # binary: the frequency vectors are the subsets
        return Interactions(freq_all.astype(bool), coef_all.real, n_features=n,
                            method="planted")
    return Interactions(freq_all, coef_all, n_features=n, q=q, method="planted")


class CategoricalTabular:
    """A tabular model explained over categorical features with q values each.

    State ``a`` of feature ``i`` means "feature i takes the value ``categories[i][a]``"; the
    value function returns the model's output on the rows so built.

    Parameters
    ----------
    predict : callable
        ``predict(X) -> scores`` with X a (N, n) array of feature values (numeric or object);
        scores shaped (N,) or (N, C).
    categories : (n, q) array-like
        The q values each feature can take (numbers, or strings for object-dtype models).
    output : int, optional
        Column of a 2-D ``predict`` output to explain (e.g. a class of ``predict_proba``).

    Examples
    --------
    >>> f = CategoricalTabular(model.predict, [[0, 1, 2]] * 5)   # doctest: +SKIP
    >>> interplay.explain(f, 5, method="qsft", q=3)               # doctest: +SKIP
    """

    def __init__(
        self,
        predict: Callable[[np.ndarray], Any],
        categories: Any,
        *,
        output: int | None = None,
    ) -> None:
        if not callable(predict):
            raise TypeError(f"predict must be callable, got {type(predict).__name__}")
        cats = np.asarray(categories)
        if cats.ndim != 2 or cats.shape[1] < 2:
            raise ValueError(
                f"categories must be an (n, q) array with q >= 2 values per feature, got {cats.shape}"
            )
        self.predict = predict
        self.categories = cats
        self.output = output

    @classmethod
    def from_quantiles(
        cls,
        predict: Callable[[np.ndarray], Any],
        X: Any,
        q: int,
        *,
        output: int | None = None,
    ) -> CategoricalTabular:
        """Discretise numeric data: feature i takes the q quantiles ``(a + 0.5)/q`` of ``X[:, i]``.

        Parameters
        ----------
        X : (M, n) float array
            Reference data (e.g. the training set).
        q : int
            Number of levels per feature.
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] < 1:
            raise ValueError(f"X must be a non-empty (M, n) array, got shape {X.shape}")
        if int(q) < 2:
            raise ValueError(f"q must be at least 2, got {q}")
        levels = (np.arange(int(q)) + 0.5) / int(q)
        return cls(predict, np.quantile(X, levels, axis=0).T, output=output)

    @property
    def n_features(self) -> int:
        return int(self.categories.shape[0])

    @property
    def q(self) -> int:
        return int(self.categories.shape[1])

    def rows(self, states: Any) -> np.ndarray:
        """(N, n) array of feature values for (N, n) states."""
        states = _check_states(states, self.n_features, self.q)
        return self.categories[np.arange(self.n_features)[None, :], states]

    def __call__(self, states: Any) -> np.ndarray:
        scores = np.asarray(self.predict(self.rows(states)))
        if scores.ndim == 2:
            if self.output is None:
                if scores.shape[1] != 1:
                    raise ValueError(
                        f"predict returned {scores.shape[1]} columns; pass output= to pick one"
                    )
                scores = scores[:, 0]
            else:
                scores = scores[:, self.output]
        elif self.output is not None:
            raise ValueError("output= was given but predict returned a 1-D array")
        return scores.astype(np.float64)


class TextAlternatives:
    """Text whose positions are masked, kept, or replaced by alternatives.

    State 0 masks position i (``mask_token``, or drops the word when it is None), state 1 keeps
    the original word, state ``2 + j`` puts ``alternatives[i][j]`` in its place. All positions
    have the same number of alternatives, so ``q = 2 + len(alternatives[i])``.

    Parameters
    ----------
    model : callable
        ``model(texts: list[str]) -> scores``, one float per text.
    words : sequence of str
        The n positions (words, tokens or segments) of the original text.
    alternatives : sequence of sequences of str, optional
        For every position, the q − 2 replacement strings. None: no alternatives (q = 2).
    mask_token : str or None
        What a masked position shows; None removes it.
    separator : str
        Joins the positions into a text.
    """

    def __init__(
        self,
        model: Callable[[list[str]], Any],
        words: Sequence[str],
        alternatives: Sequence[Sequence[str]] | None = None,
        *,
        mask_token: str | None = "[MASK]",
        separator: str = " ",
    ) -> None:
        if not callable(model):
            raise TypeError(f"model must be callable, got {type(model).__name__}")
        words = [str(w) for w in words]
        if not words:
            raise ValueError("need at least one word")
        if alternatives is None:
            alternatives = [[] for _ in words]
        alternatives = [[str(a) for a in alts] for alts in alternatives]
        if len(alternatives) != len(words):
            raise ValueError(f"{len(alternatives)} alternative lists for {len(words)} positions")
        counts = {len(a) for a in alternatives}
        if len(counts) != 1:
            raise ValueError(
                f"every position needs the same number of alternatives; got counts {sorted(counts)}"
            )
        self.model = model
        self.words = words
        self.alternatives = alternatives
        self.mask_token = mask_token
        self.separator = separator
        mask = "" if mask_token is None else mask_token
        # (n, q) table of what each position shows in each state.
        self._table = np.array(
            [[mask, w, *alts] for w, alts in zip(words, alternatives, strict=True)], dtype=object
        )

    @property
    def n_features(self) -> int:
        return len(self.words)

    @property
    def q(self) -> int:
        return int(self._table.shape[1])

    def texts(self, states: Any) -> list[str]:
        """The N texts for (N, n) states."""
        states = _check_states(states, self.n_features, self.q)
        shown = self._table[np.arange(self.n_features)[None, :], states]
        return [self.separator.join(p for p in row if p != "") for row in shown]

    def __call__(self, states: Any) -> np.ndarray:
        texts = self.texts(states)
        scores = np.asarray(self.model(texts), dtype=np.float64).reshape(-1)
        if scores.shape[0] != len(texts):
            raise ValueError(f"model returned {scores.shape[0]} scores for {len(texts)} texts")
        return scores
