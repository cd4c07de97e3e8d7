"""Tabular demo: which features, and which pairs of features, drive a classifier's decision.

A gradient-boosted classifier is trained on scikit-learn's breast-cancer data (30 features).
For one test patient, removing a feature means replacing it with the training mean; the value
is the model's log-odds of "benign". SPEX recovers the sparse Fourier expansion of that
function; we print its top interactions, the Shapley values it implies, and its faithfulness
on held-out masks.

    python -m interplay.demo --tabular
"""

from __future__ import annotations

import time

import numpy as np

import interplay
from interplay.metrics import faithfulness


class MeanImputedModel:
    """Value function: a model's log-odds on one example with removed features mean-imputed.

    Parameters
    ----------
    model : fitted scikit-learn classifier with ``decision_function``
    example : (n,) array, the explained input
    background : (n,) array, the value a removed feature takes
    """

    def __init__(self, model, example: np.ndarray, background: np.ndarray) -> None:
        self.model = model
        self.example = np.asarray(example, dtype=np.float64)
        self.background = np.asarray(background, dtype=np.float64)

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        inputs = np.where(masks, self.example[None, :], self.background[None, :])
        return self.model.decision_function(inputs)


def main(budget: int = 4000, max_order: int = 3, seed: int = 0) -> interplay.Interactions:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=seed
    )
    model = HistGradientBoostingClassifier(max_depth=4, random_state=seed).fit(x_train, y_train)
    print(f"breast-cancer classifier: test accuracy {model.score(x_test, y_test):.3f}")
    value = MeanImputedModel(model, x_test[0], x_train.mean(axis=0))
    n = data.data.shape[1]
    names = [str(name) for name in data.feature_names]

    started = time.perf_counter()
    result = interplay.explain(
        value, n, method="spex", budget=budget, max_order=max_order, random_state=seed,
        feature_names=names,
    )
    seconds = time.perf_counter() - started
    fit = faithfulness(result, value, n_masks=2000, random_state=seed + 1)

    print(f"explained patient 0 (log-odds of benign = {value(np.ones((1, n), bool))[0]:+.3f}) "
          f"with {result.n_queries} queries in {seconds:.1f} s; faithfulness: {fit.note}")
    print("\nTop interactions (Möbius basis: the effect of adding these features together):")
    mobius = result.to_mobius()
    for term in mobius.top(12, min_order=1):
        print(f"  {term.value:+8.3f}  {' × '.join(term.names)}")
    print("\nShapley values (largest magnitude):")
    shapley = result.shapley_values()
    for i in np.argsort(-np.abs(shapley))[:8]:
        print(f"  {shapley[i]:+8.3f}  {names[i]}")
    return result


if __name__ == "__main__":
    main()
