"""Data-attribution value functions: scikit-learn fits are the oracle."""

from __future__ import annotations

import io
import pickle
import struct
from typing import ClassVar

import numpy as np
import pytest

pytest.importorskip("torch")
from sklearn.linear_model import LogisticRegression

from interplay.values.data import (
    DataAttributionValue,
    fit_logistic_batched,
    load_cifar10,
    load_digits_task,
)

C = 0.5


@pytest.fixture(scope="module")
def task():
    return load_digits_task(90, n_test=10, random_state=3)


def _sk_logits(X, y, x, keep, c=C):
    """Plain scikit-learn fit on the kept rows; intercept as a penalised constant column."""
    Xa = np.hstack([X, np.ones((X.shape[0], 1))])
    model = LogisticRegression(C=c, fit_intercept=False, tol=1e-12, max_iter=10_000)
    model.fit(Xa[keep], y[keep])
    logits = np.full(10, np.nan)
    logits[model.classes_] = np.append(x, 1.0) @ model.coef_.T
    return logits


def _margin(logits, label):
    return logits[label] - np.delete(logits, label).max()


def _value(task, **kw):
    kw.setdefault("C", C)
    kw.setdefault("n_threads", 1)
    return DataAttributionValue(
        task.X_train, task.y_train, task.X_test[0], task.y_test[0], n_classes=10, **kw
    )


def test_every_example_kept_matches_a_plain_fit(task):
    value = _value(task)
    keep = np.ones(task.y_train.size, dtype=bool)
    logits = _sk_logits(task.X_train, task.y_train, task.X_test[0], keep)
    got = value(keep[None, :])
    assert got[0] == pytest.approx(_margin(logits, task.y_test[0]), abs=1e-5)
    logprob = _value(task, output="logprob")(keep[None, :])[0]
    expected = logits[task.y_test[0]] - np.log(np.exp(logits).sum())
    assert logprob == pytest.approx(expected, abs=1e-5)


def test_masked_fits_match_plain_fits_on_kept_examples(task):
    value = _value(task, batch_size=2)  # 2 batches, warm-started
    rng = np.random.default_rng(0)
    masks = rng.random((3, task.y_train.size)) < 0.5
    while any(np.unique(task.y_train[m]).size < 10 for m in masks):
        masks = rng.random((3, task.y_train.size)) < 0.5
    got = value(masks)
    for row, keep in enumerate(masks):
        logits = _sk_logits(task.X_train, task.y_train, task.X_test[0], keep)
        assert got[row] == pytest.approx(_margin(logits, task.y_test[0]), abs=1e-5)
    assert np.ptp(got) > 1e-3
    cold = _value(task, warm_start=False, batch_size=64)(masks)
    np.testing.assert_allclose(cold, got, atol=1e-6)


def test_groups_expand_to_examples(task):
    m = task.y_train.size
    groups = np.arange(m) % 4
    grouped = _value(task, groups=groups)
    per_example = _value(task)
    masks = np.array([[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 1, 1]], dtype=bool)
    np.testing.assert_allclose(grouped(masks), per_example(masks[:, groups]), atol=1e-7)
    assert grouped.n_features == 4


def test_empty_mask_and_missing_classes_are_finite(task):
    value = _value(task)
    empty = np.zeros((1, task.y_train.size), dtype=bool)
    assert value(empty)[0] == pytest.approx(0.0, abs=1e-12)  # W = 0: every logit is 0
    one_class = (task.y_train == task.y_test[0])[None, :]
    out = value(one_class)
    assert np.isfinite(out).all() and out[0] > 0


def test_batched_fit_matches_sklearn_weights(task):
    X, y = task.X_train[:, :10], task.y_train
    Xa = np.hstack([X, np.ones((y.size, 1))])
    weights = np.ones((2, y.size))
    weights[1, ::3] = 0.0
    W = fit_logistic_batched(Xa, y, weights, C=2.0, n_classes=10, tol=1e-11, n_threads=1)
    assert W.shape == (2, 11, 10)
    for b in range(2):
        keep = weights[b] > 0
        model = LogisticRegression(C=2.0, fit_intercept=False, tol=1e-12, max_iter=10_000)
        model.fit(Xa[keep], y[keep])
        np.testing.assert_allclose(W[b], model.coef_.T, atol=1e-5)
    with pytest.raises(ValueError, match="weights"):
        fit_logistic_batched(Xa, y, np.ones(y.size))
    with pytest.raises(ValueError, match="C must"):
        fit_logistic_batched(Xa, y, weights, C=0.0)


def test_sklearn_learner_path(task):
    learner = LogisticRegression(C=C, tol=1e-10, max_iter=5_000)
    value = _value(task, learner=learner)
    rng = np.random.default_rng(1)
    masks = rng.random((2, task.y_train.size)) < 0.6
    masks[1] = task.y_train < 2  # only two classes kept: other classes get p = 1e-12
    got = value(masks)
    for row, keep in enumerate(masks):
        model = LogisticRegression(C=C, tol=1e-10, max_iter=5_000)
        model.fit(task.X_train[keep], task.y_train[keep])
        proba = np.full(10, 1e-12)
        proba[model.classes_] = np.clip(model.predict_proba(task.X_test[:1])[0], 1e-12, None)
        assert got[row] == pytest.approx(_margin(np.log(proba), task.y_test[0]), abs=1e-9)
    assert value(np.zeros((1, task.y_train.size), dtype=bool))[0] == pytest.approx(0.0)


def test_bad_input(task):
    X, y = task.X_train, task.y_train
    with pytest.raises(ValueError, match="x_test"):
        DataAttributionValue(X, y, X[0, :5], 0)
    with pytest.raises(ValueError, match="output"):
        DataAttributionValue(X, y, X[0], 0, output="loss")
    with pytest.raises(ValueError, match="groups"):
        DataAttributionValue(X, y, X[0], 0, groups=np.full(y.size, 2))
    with pytest.raises(ValueError, match="learner"):
        DataAttributionValue(X, y, X[0], 0, learner="svm")
    with pytest.raises(ValueError, match="y_train"):
        DataAttributionValue(X, y.astype(float), X[0], 0)
    value = _value(task)
    with pytest.raises(ValueError, match="shape"):
        value(np.ones((1, 3), dtype=bool))
    assert value.fingerprint() == _value(task).fingerprint()
    assert value.fingerprint() != _value(task, C=1.0).fingerprint()


# -------------------------------------------------------------------- CIFAR-10 loader
class Python2Pickler(pickle._Pickler):
    """Writes str and bytes as Python 2 ``str`` records, the way cPickle wrote the CIFAR-10
    files, and names numpy's reconstructor by its old module ``numpy.core.multiarray``."""

    def _record(self, raw: bytes) -> None:
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)

    def save_bytes(self, obj):
        self._record(obj)
        self.memoize(obj)

    def save_str(self, obj):
        self._record(obj.encode("latin1"))
        self.memoize(obj)

    dispatch: ClassVar[dict] = {**pickle._Pickler.dispatch, bytes: save_bytes, str: save_str}


def _python2_dump(obj, fh):
    buffer = io.BytesIO()
    Python2Pickler(buffer, protocol=2).dump(obj)
    fh.write(buffer.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))


class WritesAFile:
    """A ``__reduce__`` payload: ``pickle.load`` of it creates the file ``path``."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _write_fake_cifar(root, per_batch=30, n_test=20, dump=pickle.dump):
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name, size in [(f"data_batch_{i}", per_batch) for i in range(1, 6)] + [
        ("test_batch", n_test)
    ]:
        labels = np.arange(size) % 10
        # every pixel of an image equals 20 * label in the red plane, 0 elsewhere, plus one
        # bright pixel per image that pooling must average in
        data = np.zeros((size, 3, 32, 32), dtype=np.uint8)
        data[:, 0] = (20 * labels)[:, None, None]
        data[:, 1, 0, 0] = 160
        data = data.reshape(size, 3072)
        with (folder / name).open("wb") as fh:
            dump({b"data": data, b"labels": labels.tolist(), b"batch_label": b"x"}, fh)
    names = [f"class{c}".encode() for c in range(10)]
    with (folder / "batches.meta").open("wb") as fh:
        dump({b"label_names": names, b"num_cases_per_batch": per_batch}, fh)
    del rng
    return folder


def test_cifar10_loader_reads_the_pickle_layout(tmp_path):
    _write_fake_cifar(tmp_path)
    task = load_cifar10(tmp_path, n_train=50, n_test=10, pool=8, random_state=0)
    assert task.X_train.shape == (50, 3 * 4 * 4)
    assert task.X_test.shape == (10, 48)
    assert task.class_names[3] == "class3"
    assert np.bincount(task.y_train, minlength=10).tolist() == [5] * 10  # stratified
    # standardised red plane: a monotone function of the label, identical across pixels
    red = task.X_train[:, :16]
    assert np.allclose(red, red[:, :1])
    assert np.all(np.diff(red[np.argsort(task.y_train), 0]) >= -1e-12)
    # green plane: one pixel of 160 averaged over an 8x8 block is 2.5/255 in block 0 only
    raw = load_cifar10(tmp_path / "cifar-10-batches-py", n_train=50, n_test=10, pool=8)
    assert raw.X_train.shape == (50, 48)
    two = load_cifar10(tmp_path, n_train=12, n_test=4, classes=[7, 2], pool=4)
    assert two.class_names == ["class7", "class2"]
    assert set(two.y_train.tolist()) == {0, 1}
    assert two.X_train.shape == (12, 3 * 8 * 8)
    # the loaded task feeds the value function
    value = DataAttributionValue(
        two.X_train, two.y_train, two.X_test[0], two.y_test[0], n_threads=1
    )
    assert np.isfinite(value(np.ones((2, 12), dtype=bool))).all()


def test_cifar10_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="CIFAR-10"):
        load_cifar10(tmp_path)
    _write_fake_cifar(tmp_path)
    with pytest.raises(ValueError, match="pool"):
        load_cifar10(tmp_path, pool=5)
    with pytest.raises(ValueError, match="classes"):
        load_cifar10(tmp_path, classes=[1, 1])


def test_cifar10_loader_reads_python2_pickles(tmp_path):
    """The real files were written by Python 2: str records, numpy.core names."""
    _write_fake_cifar(tmp_path / "py3")
    _write_fake_cifar(tmp_path / "py2", dump=_python2_dump)
    raw = (tmp_path / "py2" / "cifar-10-batches-py" / "test_batch").read_bytes()
    assert b"numpy.core.multiarray\n_reconstruct" in raw and b"_codecs" not in raw
    new = load_cifar10(tmp_path / "py3", n_train=40, n_test=10, pool=8)
    old = load_cifar10(tmp_path / "py2", n_train=40, n_test=10, pool=8)
    np.testing.assert_array_equal(old.X_train, new.X_train)
    np.testing.assert_array_equal(old.y_test, new.y_test)
    assert old.class_names == new.class_names == [f"class{c}" for c in range(10)]


@pytest.mark.parametrize("victim", ["data_batch_3", "batches.meta"])
def test_cifar10_loader_refuses_code_in_the_files(tmp_path, victim):
    folder = _write_fake_cifar(tmp_path)
    marker = tmp_path / "payload-ran"
    with (folder / victim).open("wb") as fh:
        pickle.dump({b"data": WritesAFile(marker), b"labels": [0]}, fh)
    with pytest.raises(ValueError, match=f"{victim}: refused to read .* can run code"):
        load_cifar10(tmp_path, n_train=10, n_test=10)
    assert not marker.exists()


def test_cifar10_loader_checks_the_batches(tmp_path):
    folder = _write_fake_cifar(tmp_path)
    with (folder / "data_batch_2").open("wb") as fh:
        pickle.dump({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1]}, fh)
    with pytest.raises(ValueError, match="data_batch_2: labels must be 3 integers"):
        load_cifar10(tmp_path)
    with (folder / "data_batch_2").open("wb") as fh:
        pickle.dump({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, fh)
    with pytest.raises(ValueError, match=r"labels must be in 0..9"):
        load_cifar10(tmp_path)
    (folder / "data_batch_2").write_bytes(b"\x80\x02}q\x00(")
    with pytest.raises(ValueError, match="data_batch_2: not a readable CIFAR-10 batch"):
        load_cifar10(tmp_path)


def test_digits_task_shapes():
    task = load_digits_task(100, n_test=30, random_state=0)
    assert task.X_train.shape == (100, 64) and task.X_test.shape == (30, 64)
    assert task.n_classes == 10
    assert np.bincount(task.y_train).min() >= 9
    np.testing.assert_allclose(task.X_train.mean(axis=0), 0.0, atol=1e-9)
    with pytest.raises(ValueError, match="n_train"):
        load_digits_task(1800)


def test_proxyspex_finds_a_planted_near_duplicate_pair():
    """End to end: two near-copies of an influential example matter only together."""
    import interplay

    task = load_digits_task(60, n_test=20, random_state=1)
    x, y = task.X_test[5], int(task.y_test[5])
    same = np.flatnonzero(task.y_train == y)
    j = int(same[np.argmin(((task.X_train[same] - x) ** 2).sum(axis=1))])
    X = np.vstack([task.X_train, task.X_train[j] + 0.01])
    Y = np.append(task.y_train, y)
    value = DataAttributionValue(X, Y, x, y, n_classes=10, n_threads=1, batch_size=128)
    n = value.n_features
    masks = np.ones((4, n), dtype=bool)
    masks[1, j] = masks[2, n - 1] = False
    masks[3, [j, n - 1]] = False
    full, no_j, no_copy, neither = value(masks)
    assert (full - neither) > 3 * ((full - no_j) + (full - no_copy))  # redundant pair
    result = interplay.explain(value, n, method="proxyspex", budget=300, random_state=0)
    banzhaf = result.banzhaf_values()
    assert set(np.argsort(-banzhaf)[:2].tolist()) == {j, n - 1}
    mobius = result.to_mobius()
    pairs = np.flatnonzero(mobius.degrees == 2)
    top = pairs[np.argmax(np.abs(mobius.coefficients[pairs]))]
    assert set(mobius.subsets[top]) == {j, n - 1}
    assert mobius.coefficients[top] < 0
