"""The scikit-learn baseline: TF-IDF n-grams and one logistic regression per technique.

One classifier per technique (rather than OneVsRestClassifier) lets each learn only from
records whose source annotates it: the baseline's form of the masked loss. Weights are
saved as plain arrays and a JSON vocabulary, so loading never unpickles anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from model.bundle import ModelMeta, save_meta
from model.scorers import BASELINE_ARRAYS, BASELINE_VOCAB
from training.config import BaselineConfig


def fit_baseline(
    texts: list[str],
    targets: np.ndarray,
    mask: np.ndarray,
    config: BaselineConfig,
    techniques: list[str],
    folder: Path,
) -> Path:
    """Fit on the training split and write a model folder (thresholds filled in later)."""
    vectorizer_params = {
        "ngram_range": [1, config.ngram_max],
        "min_df": config.min_df,
        "max_features": config.max_features,
        "sublinear_tf": True,
        "lowercase": True,
    }
    vectorizer = TfidfVectorizer(**{**vectorizer_params, "ngram_range": (1, config.ngram_max)})
    features = vectorizer.fit_transform(texts)
    coef = np.zeros((len(techniques), features.shape[1]), dtype=np.float64)
    intercept = np.full(len(techniques), -10.0)  # no examples: never predicted
    for i in range(len(techniques)):
        rows = mask[:, i] > 0
        y = targets[rows, i] > 0.5
        if y.any() and not y.all():
            clf = LogisticRegression(
                C=config.c, class_weight="balanced", max_iter=2000, random_state=config.seed
            )
            clf.fit(features[rows], y)
            coef[i], intercept[i] = clf.coef_[0], clf.intercept_[0]
    folder.mkdir(parents=True, exist_ok=True)
    vocabulary = {term: int(idx) for term, idx in vectorizer.vocabulary_.items()}
    (folder / BASELINE_VOCAB).write_text(json.dumps(vocabulary), encoding="utf-8")
    np.savez(folder / BASELINE_ARRAYS, idf=vectorizer.idf_, coef=coef, intercept=intercept)
    save_meta(
        folder,
        ModelMeta(
            family="baseline",
            techniques=list(techniques),
            thresholds={t: 0.5 for t in techniques},
            extra={"vectorizer": vectorizer_params},
        ),
    )
    return folder
