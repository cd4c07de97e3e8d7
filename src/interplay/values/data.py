"""Training examples as features: a mask retrains the model on the kept examples.

The value of a mask m is the output, on one chosen test example, of the model trained on the
kept training examples (or groups of examples): by default the *margin*
``z_y − max_{k≠y} z_k`` of the test example's true class y (the datamodels convention).
Interactions among training examples show up as Fourier/Möbius terms of this function: two
near-duplicates that each make the other redundant only matter together.

Retraining is the cost, so the default learner trains many masked models at once:
L2-regularised multinomial logistic regression, solved by a Newton–conjugate-gradient method
batched over masks (every matrix product is one (N, m, K) tensor operation), warm-started
from the full-data solution, in float64 and solved to a tight tolerance so that the value
is a function of the mask alone (to about 1e-7, whatever the batch or the warm start). Any scikit-learn classifier (a small ``MLPClassifier``) can be used instead; it is
refitted mask by mask.

Data: :func:`load_digits_task` (scikit-learn's digits, offline) and :func:`load_cifar10`
(a local copy of CIFAR-10 in torchvision's python-pickle layout, read without running code
from the files).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from interplay.random_state import check_random_state
from interplay.values.base import check_masks
from interplay.values.plain_pickle import load_plain_pickle

__all__ = [
    "DataAttributionValue",
    "DataTask",
    "fit_logistic_batched",
    "load_cifar10",
    "load_digits_task",
]

Output = Literal["margin", "logprob"]
_OUTPUTS = ("margin", "logprob")


# --------------------------------------------------------------------------- data sets
@dataclass
class DataTask:
    """A classification data set split into train and test.

    Attributes
    ----------
    X_train : (m, d) float array
    y_train : (m,) int array, labels in ``0..K-1``
    X_test : (t, d) float array
    y_test : (t,) int array
    class_names : list of str
        K names.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def _standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std[std < 1e-8] = 1.0
    return (train - mean) / std, (test - mean) / std


def _stratified_take(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` row indices with the class proportions of ``y``, in random order."""
    if k >= y.size:
        return rng.permutation(y.size)
    order = rng.permutation(y.size)
    # Round-robin over classes in random order keeps proportions (±1 per class).
    ranks = np.empty(y.size, dtype=np.int64)
    labels = y[order]
    for c in np.unique(labels):
        hit = labels == c
        ranks[hit] = np.arange(hit.sum())
    frac = ranks / np.bincount(labels)[labels]
    chosen = order[np.argsort(frac, kind="stable")[:k]]
    return rng.permutation(chosen)


def load_digits_task(n_train: int = 500, *, n_test: int = 200, random_state: Any = 0) -> DataTask:
    """scikit-learn's 8×8 digits (1797 images, 10 classes, 64 features), standardised.

    Parameters
    ----------
    n_train, n_test : int
        Sizes of the stratified random train and test subsets (disjoint).
    random_state : None, int or Generator
        Seed of the split.

    Returns
    -------
    DataTask
    """
    from sklearn.datasets import load_digits

    data = load_digits()
    X, y = data.data.astype(np.float64), data.target.astype(np.int64)
    n_train, n_test = int(n_train), int(n_test)
    if n_train < 2 or n_test < 1 or n_train + n_test > y.size:
        raise ValueError(f"need 2 <= n_train and 1 <= n_test with n_train + n_test <= {y.size}")
    rng = check_random_state(random_state)
    train = _stratified_take(y, n_train, rng)
    rest = np.setdiff1d(np.arange(y.size), train)
    test = rest[_stratified_take(y[rest], n_test, rng)]
    X_train, X_test = _standardise(X[train], X[test])
    return DataTask(X_train, y[train], X_test, y[test], [str(c) for c in range(10)])


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = load_plain_pickle(path, what="CIFAR-10 batch")
    if not isinstance(batch, dict):
        raise ValueError(f"{path} is not a CIFAR-10 batch (not a dict)")  # noqa: TRY004
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{path} is not a CIFAR-10 batch (no data/labels)")
    data = np.asarray(data)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{path}: data must be (N, 3072) uint8, got {data.dtype} {data.shape}")
    labels = np.asarray(labels)
    if labels.shape != (data.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{path}: labels must be {data.shape[0]} integers, one per image")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{path}: labels must not be negative")
    return data, labels.astype(np.int64)


def load_cifar10(
    root: str | Path,
    *,
    n_train: int = 500,
    n_test: int = 100,
    classes: Sequence[int] | None = None,
    pool: int = 4,
    random_state: Any = 0,
) -> DataTask:
    """A subset of a local CIFAR-10 copy (torchvision's layout), as pooled pixel features.

    Reads ``cifar-10-batches-py/data_batch_1`` … ``data_batch_5`` and ``test_batch`` (python
    pickles with ``data`` (10000, 3072) uint8 rows in R, G, B plane order and ``labels``) and
    ``batches.meta`` (``label_names``) when present. Nothing is downloaded. The pickles are
    read without running code from them: only plain data (dicts, lists, bytes, numbers,
    numpy arrays) is accepted, and a file that names any other function or class is refused
    with a ValueError (see :func:`~interplay.values.plain_pickle.load_plain_pickle`).

    Parameters
    ----------
    root : path
        The folder that contains ``cifar-10-batches-py/`` (or that folder itself).
    n_train, n_test : int
        Sizes of the stratified random subsets of the train and test batches.
    classes : sequence of int, optional
        Keep only these classes (relabelled 0..len-1 in the given order).
    pool : int
        Average-pool the 32×32 images by ``pool`` (must divide 32): features are
        3·(32/pool)² (192 for the default 4), standardised on the training subset.
    random_state : None, int or Generator
        Seed of the subsets.

    Returns
    -------
    DataTask
    """
    root = Path(root)
    folder = root if (root / "test_batch").is_file() else root / "cifar-10-batches-py"
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no CIFAR-10 copy at {root} (expected {root}/cifar-10-batches-py/data_batch_1 …)"
        )
    pool = int(pool)
    if pool < 1 or 32 % pool:
        raise ValueError(f"pool must divide 32, got {pool}")
    parts = [_read_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    train_x = np.concatenate([p[0] for p in parts])
    train_y = np.concatenate([p[1] for p in parts])
    test_x, test_y = _read_batch(folder / "test_batch")
    names = [str(c) for c in range(10)]
    meta = folder / "batches.meta"
    if meta.is_file():
        info = load_plain_pickle(meta, what="CIFAR-10 batches.meta")
        raw = info.get(b"label_names", info.get("label_names")) if isinstance(info, dict) else None
        if raw is not None:
            names = [x.decode() if isinstance(x, bytes) else str(x) for x in raw]
    if max(train_y.max(initial=0), test_y.max(initial=0)) >= len(names):
        raise ValueError(f"{folder}: labels must be in 0..{len(names) - 1} (one per class name)")
    if classes is not None:
        classes = [int(c) for c in classes]
        if len(set(classes)) < 2 or min(classes) < 0 or max(classes) >= len(names):
            raise ValueError(f"classes must name at least 2 distinct labels, got {classes}")
        relabel = np.full(len(names), -1)
        relabel[classes] = np.arange(len(classes))
        keep_train, keep_test = relabel[train_y] >= 0, relabel[test_y] >= 0
        train_x, train_y = train_x[keep_train], relabel[train_y[keep_train]]
        test_x, test_y = test_x[keep_test], relabel[test_y[keep_test]]
        names = [names[c] for c in classes]
    rng = check_random_state(random_state)
    tr = _stratified_take(train_y, int(n_train), rng)
    te = _stratified_take(test_y, int(n_test), rng)

    def features(rows: np.ndarray) -> np.ndarray:
        img = rows.reshape(-1, 3, 32 // pool, pool, 32 // pool, pool).astype(np.float64)
        return img.mean(axis=(3, 5)).reshape(rows.shape[0], -1) / 255.0

    X_train, X_test = _standardise(features(train_x[tr]), features(test_x[te]))
    return DataTask(X_train, train_y[tr], X_test, test_y[te], names)


# --------------------------------------------------------------------------- learner
def _softmax(z: Any) -> Any:
    import torch

    return torch.softmax(z, dim=-1)


def fit_logistic_batched(
    X: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    *,
    n_classes: int | None = None,
    C: float = 1.0,
    init: np.ndarray | None = None,
    tol: float = 1e-8,
    max_iter: int = 50,
    max_cg: int = 50,
    n_threads: int | None = None,
) -> np.ndarray:
    """Fit N L2-regularised multinomial logistic regressions at once (Newton–CG).

    Model b minimises ``C · Σ_i w_bi · CE(softmax(x_i W_b), y_i) + ½‖W_b‖²``; every
    parameter is penalised (append a constant column to ``X`` for a penalised intercept).
    With w ∈ {0, 1} this is training on the kept examples only.

    Parameters
    ----------
    X : (m, d) float array
    y : (m,) int array, labels in ``0..K-1``
    weights : (N, m) float array
        Per-model example weights (a 0/1 mask keeps examples).
    n_classes : int, optional
        K (default ``y.max() + 1``).
    C : float
        Inverse regularisation strength (scikit-learn's convention).
    init : (d, K) or (N, d, K) float array, optional
        Warm start.
    tol : float
        Stop a model when its gradient's max-norm is below ``tol · max(1, C·Σ_i w_bi)``.
    max_iter, max_cg : int
        Newton steps and conjugate-gradient steps per Newton step.
    n_threads : int, optional
        torch threads to use during the fit (restored afterwards); default: leave torch's
        setting. The products are small, so 1 thread is often fastest on a busy machine.

    Returns
    -------
    (N, d, K) float array
        The fitted weights.
    """
    import torch

    if n_threads is None:
        return _fit_logistic(X, y, weights, n_classes, C, init, tol, max_iter, max_cg)
    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n_threads)))
    try:
        return _fit_logistic(X, y, weights, n_classes, C, init, tol, max_iter, max_cg)
    finally:
        torch.set_num_threads(previous)


def _fit_logistic(
    X: Any,
    y: Any,
    weights: Any,
    n_classes: int | None,
    C: float,
    init: Any,
    tol: float,
    max_iter: int,
    max_cg: int,
) -> np.ndarray:
    import torch

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    m, d = X.shape
    if y.shape != (m,):
        raise ValueError(f"y must have shape ({m},), got {y.shape}")
    if weights.ndim != 2 or weights.shape[1] != m:
        raise ValueError(f"weights must have shape (N, {m}), got {weights.shape}")
    if C <= 0:
        raise ValueError(f"C must be positive, got {C}")
    k = int(n_classes) if n_classes is not None else int(y.max()) + 1
    if y.min() < 0 or y.max() >= k:
        raise ValueError(f"labels must lie in 0..{k - 1}")
    n_models = weights.shape[0]
    # Layout: parameters (d, b, K), per-example tensors (m, b, K), so that every product
    # with X is one 2-D GEMM over all b models at once.
    Xt = torch.from_numpy(X)
    XT = Xt.T.contiguous()
    X2 = (Xt * Xt).T.contiguous()
    Y = torch.nn.functional.one_hot(torch.from_numpy(y), k).double()[:, None, :]  # (m, 1, K)
    Wt = torch.from_numpy(weights).T.contiguous() * C  # (m, N): C folded into the weights
    if init is None:
        W = torch.zeros((d, n_models, k), dtype=torch.float64)
    else:
        init = np.asarray(init, dtype=np.float64)
        W = torch.from_numpy(np.broadcast_to(init, (n_models, d, k)).transpose(1, 0, 2).copy())
    scale = torch.clamp(Wt.sum(dim=0), min=1.0) * tol  # (N,)

    def times_x(A: Any, left: Any) -> Any:
        """left (p, q) @ A (q, b, K) -> (p, b, K) as one GEMM."""
        q, b, kk = A.shape
        return (left @ A.reshape(q, b * kk)).view(left.shape[0], b, kk)

    def loss_of(W: Any, w: Any) -> Any:
        z = times_x(W, Xt)  # (m, b, K)
        ce = torch.logsumexp(z, dim=-1) - (z * Y).sum(dim=-1)  # (m, b)
        return (w * ce).sum(dim=0) + 0.5 * (W * W).sum(dim=(0, 2))

    active = torch.arange(n_models)
    for _ in range(int(max_iter)):
        Wa, wa = W[:, active], Wt[:, active]
        P = _softmax(times_x(Wa, Xt))  # (m, b, K)
        grad = times_x(wa[:, :, None] * (P - Y), XT) + Wa  # (d, b, K)
        gmax = grad.abs().amax(dim=(0, 2))
        not_done = gmax > scale[active]
        if not bool(not_done.any()):
            break
        if not bool(not_done.all()):
            active, Wa, wa = active[not_done], Wa[:, not_done], wa[:, not_done]
            P, grad = P[:, not_done], grad[:, not_done]
        wp = wa[:, :, None] * P  # (m, b, K)

        def hess_vec(V: Any, wp: Any = wp, P: Any = P) -> Any:
            Z = times_x(V, Xt)  # (m, b, K)
            HZ = wp * (Z - (P * Z).sum(dim=-1, keepdim=True))
            return times_x(HZ, XT) + V

        # Jacobi preconditioner: the diagonal of the Hessian.
        diag = times_x(wp * (1.0 - P), X2) + 1.0  # (d, b, K)
        # Conjugate gradient on H s = -grad, batched; inexact Newton forcing term
        # ||r|| <= min(0.1, ||g||) ||g|| gives superlinear convergence.
        step = torch.zeros_like(grad)
        r = -grad
        zr = r / diag
        p = zr.clone()
        rz = (r * zr).sum(dim=(0, 2))
        r0 = r.norm(dim=(0, 2))
        target = r0 * torch.clamp(r0, max=0.1)
        for _ in range(int(max_cg)):
            Hp = hess_vec(p)
            curv = (p * Hp).sum(dim=(0, 2))
            alpha = torch.where(curv > 0, rz / curv, torch.zeros_like(rz))
            step = step + alpha[None, :, None] * p
            r = r - alpha[None, :, None] * Hp
            if bool((r.norm(dim=(0, 2)) <= target).all()):
                break
            zr = r / diag
            rz_new = (r * zr).sum(dim=(0, 2))
            beta = torch.where(rz > 0, rz_new / rz, torch.zeros_like(rz))
            p = zr + beta[None, :, None] * p
            rz = rz_new
        # Backtracking (Armijo) line search, batched; the full step is almost always taken.
        f0 = loss_of(Wa, wa)
        slope = (grad * step).sum(dim=(0, 2))
        t = torch.ones(active.numel(), dtype=torch.float64)
        accepted = torch.zeros(active.numel(), dtype=torch.bool)
        for _ in range(30):
            trial = Wa + t[None, :, None] * step
            ok = (loss_of(trial, wa) <= f0 + 1e-4 * t * slope) & ~accepted
            Wa = torch.where(ok[None, :, None], trial, Wa)
            accepted |= ok
            if bool(accepted.all()):
                break
            t = torch.where(accepted, t, t * 0.5)
        W[:, active] = Wa
    return W.permute(1, 0, 2).contiguous().numpy()


# --------------------------------------------------------------------------- value function
class DataAttributionValue:
    """Value function over training examples (or groups): retrain, then score a test example.

    Parameters
    ----------
    X_train : (m, d) float array
    y_train : (m,) int array, labels in ``0..K-1``
    x_test : (d,) float array
        The test example explained.
    y_test : int
        Its true label.
    groups : (m,) int array, optional
        Group id (``0..n-1``) of each training example; features are then the n groups.
        Default: every example is a feature (n = m).
    learner : "logistic" or a scikit-learn classifier
        ``"logistic"`` (default): batched Newton–CG multinomial logistic regression with
        penalised intercept (see :func:`fit_logistic_batched`). A scikit-learn classifier
        with ``predict_proba`` (e.g. ``MLPClassifier``) is cloned and refitted per mask.
    C : float
        Inverse L2 strength of the ``"logistic"`` learner (scikit-learn's convention).
    intercept_scaling : float
        Value of the constant column appended for the intercept (penalised like
        liblinear's: a larger value penalises the intercept less).
    output : {"margin", "logprob"}
        ``"margin"``: logit of the true class minus the largest other logit.
        ``"logprob"``: log-probability of the true class.
    n_classes : int, optional
        K (default: ``max(y_train.max(), y_test) + 1``).
    batch_size : int
        Masks retrained together by the batched learner.
    warm_start : bool
        Start every batched fit from the full-data solution.
    tol : float
        Newton stopping tolerance (relative gradient max-norm; see
        :func:`fit_logistic_batched`).
    n_threads : int, optional
        torch threads during batched fits (default: torch's setting).

    Attributes
    ----------
    n_features : int
        Number of features (examples or groups).
    full_weights_ : (d + 1, K) float array
        The ``"logistic"`` model trained on every example (last row: intercept).
    n_calls, n_rows : int
        Calls received and masks evaluated.

    Notes
    -----
    The empty mask trains on nothing: the logistic model is W = 0 (value 0 for the margin,
    −log K for the log-probability); a scikit-learn learner with fewer than two classes
    kept predicts the class frequencies it saw.
    """

    def __init__(
        self,
        X_train: Any,
        y_train: Any,
        x_test: Any,
        y_test: int,
        *,
        groups: Any = None,
        learner: Any = "logistic",
        C: float = 1.0,
        intercept_scaling: float = 1.0,
        output: Output = "margin",
        n_classes: int | None = None,
        batch_size: int = 64,
        warm_start: bool = True,
        tol: float = 1e-8,
        n_threads: int | None = None,
    ) -> None:
        X = np.asarray(X_train, dtype=np.float64)
        y = np.asarray(y_train)
        if X.ndim != 2:
            raise ValueError(f"X_train must be a (m, d) array, got shape {X.shape}")
        m, d = X.shape
        if m < 1:
            raise ValueError("X_train has no examples")
        if y.shape != (m,) or not np.issubdtype(y.dtype, np.integer):
            raise ValueError(f"y_train must be ({m},) integer labels, got {y.shape} {y.dtype}")
        if not np.isfinite(X).all():
            raise ValueError("X_train contains NaN or infinite values")
        x = np.asarray(x_test, dtype=np.float64).ravel()
        if x.shape != (d,):
            raise ValueError(f"x_test must have {d} features, got shape {np.shape(x_test)}")
        y_test = int(y_test)
        k = int(n_classes) if n_classes is not None else int(max(y.max(), y_test)) + 1
        if y.min() < 0 or y.max() >= k or not 0 <= y_test < k:
            raise ValueError(f"labels must lie in 0..{k - 1}")
        if k < 2:
            raise ValueError("need at least 2 classes")
        if output not in _OUTPUTS:
            raise ValueError(f"output must be one of {_OUTPUTS}, got {output!r}")
        if not (isinstance(learner, str) and learner == "logistic") and not hasattr(learner, "fit"):
            raise ValueError(
                f"learner must be 'logistic' or a scikit-learn classifier, got {learner!r}"
            )
        if C <= 0 or intercept_scaling <= 0:
            raise ValueError("C and intercept_scaling must be positive")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if groups is None:
            groups_arr = np.arange(m)
        else:
            groups_arr = np.asarray(groups)
            if groups_arr.shape != (m,) or not np.issubdtype(groups_arr.dtype, np.integer):
                raise ValueError(f"groups must be ({m},) integer group ids")
            if groups_arr.min() < 0 or np.bincount(groups_arr).min() == 0:
                raise ValueError("groups must number the groups 0..n-1, each non-empty")
        self.X_train, self.y_train = X, y.astype(np.int64)
        self.x_test, self.y_test = x, y_test
        self.groups = groups_arr
        self.n_features = int(groups_arr.max()) + 1
        self.learner = learner
        self.C = float(C)
        self.intercept_scaling = float(intercept_scaling)
        self.output = output
        self.n_classes = k
        self.batch_size = int(batch_size)
        self.warm_start = bool(warm_start)
        self.tol = float(tol)
        self.n_threads = n_threads
        self._Xa = np.hstack([X, np.full((m, 1), self.intercept_scaling)])
        self._xa = np.append(x, self.intercept_scaling)
        self.full_weights_: np.ndarray | None = None
        if self._batched:
            self.full_weights_ = self._fit_batched(np.ones((1, m)), init=None)[0]
        self.n_calls = 0
        self.n_rows = 0

    @property
    def _batched(self) -> bool:
        return isinstance(self.learner, str)

    def _fit_batched(self, weights: np.ndarray, init: np.ndarray | None) -> np.ndarray:
        return fit_logistic_batched(
            self._Xa,
            self.y_train,
            weights,
            n_classes=self.n_classes,
            C=self.C,
            init=init,
            tol=self.tol,
            n_threads=self.n_threads,
        )

    def _score(self, logits: np.ndarray) -> np.ndarray:
        """(N, K) logits of the test example -> (N,) outputs."""
        y = self.y_test
        if self.output == "margin":
            others = np.delete(logits, y, axis=1)
            return logits[:, y] - others.max(axis=1)
        top = logits.max(axis=1, keepdims=True)
        return logits[:, y] - (top[:, 0] + np.log(np.exp(logits - top).sum(axis=1)))

    def example_masks(self, masks: Any) -> np.ndarray:
        """(N, n) feature masks -> (N, m) bool masks over training examples."""
        masks = check_masks(masks, self.n_features)
        return masks[:, self.groups]

    def test_logits(self, masks: Any) -> np.ndarray:
        """Logits (N, K) of the test example for the model retrained on each mask."""
        keep = self.example_masks(masks)
        out = np.empty((keep.shape[0], self.n_classes))
        if self._batched:
            init = self.full_weights_ if self.warm_start else None
            for start in range(0, keep.shape[0], self.batch_size):
                chunk = keep[start : start + self.batch_size].astype(np.float64)
                W = self._fit_batched(chunk, init)
                out[start : start + chunk.shape[0]] = np.einsum("d,ndk->nk", self._xa, W)
            return out
        for row, kept in enumerate(keep):
            out[row] = self._sklearn_logits(kept)
        return out

    def _sklearn_logits(self, kept: np.ndarray) -> np.ndarray:
        from sklearn.base import clone

        y = self.y_train[kept]
        k = self.n_classes
        present = np.unique(y)
        if present.size < 2:
            # A constant classifier: the class frequencies it saw (uniform with no data).
            counts = np.bincount(y, minlength=k).astype(np.float64) + 1e-12
            return np.log(counts / counts.sum())
        model = clone(self.learner).fit(self.X_train[kept], y)
        proba = np.full(k, 1e-12)
        proba[np.asarray(model.classes_, dtype=np.int64)] = np.clip(
            model.predict_proba(self.x_test[None, :])[0], 1e-12, None
        )
        return np.log(proba)

    def __call__(self, masks: Any) -> np.ndarray:
        """Output on the test example of the model retrained on each mask.

        Parameters
        ----------
        masks : (N, n) bool array
            True keeps a training example (or group).

        Returns
        -------
        (N,) float array
        """
        logits = self.test_logits(masks)
        self.n_calls += 1
        self.n_rows += logits.shape[0]
        return self._score(logits)

    def fingerprint(self) -> str:
        """Stable identity for query caches: data, test example, learner and settings."""
        h = hashlib.sha256()
        for arr in (self.X_train, self.y_train, self.x_test, self.groups):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(
            repr(
                (
                    self.y_test,
                    self.learner if self._batched else repr(self.learner),
                    self.C,
                    self.intercept_scaling,
                    self.output,
                    self.n_classes,
                    self.tol,
                )
            ).encode()
        )
        return f"data:{h.hexdigest()[:20]}"

    def __repr__(self) -> str:
        learner = self.learner if self._batched else type(self.learner).__name__
        return (
            f"DataAttributionValue(n_features={self.n_features}, m={self.X_train.shape[0]}, "
            f"learner={learner!r}, output={self.output!r})"
        )
