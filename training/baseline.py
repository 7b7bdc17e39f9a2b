"""The scikit-learn baseline: TF-IDF n-grams and one logistic regression per technique.

One classifier per technique (rather than OneVsRestClassifier) lets each learn only from
records whose source annotates it: the baseline's form of the masked loss. Nothing in it
is random (the lbfgs solver is deterministic), so the seed changes nothing. The folder is
written by `model.baseline`, which also reads it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from model.baseline import save_baseline
from training.config import BaselineConfig


def fit_classifiers(
    features, targets: np.ndarray, mask: np.ndarray, c: float
) -> list[LogisticRegression | None]:
    """One fitted classifier per technique; None where the annotated rows hold only one
    class (nothing to learn: that technique is never predicted)."""
    classifiers = []
    for i in range(targets.shape[1]):
        rows = mask[:, i] > 0
        y = targets[rows, i] > 0.5
        if y.any() and not y.all():
            clf = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
            classifiers.append(clf.fit(features[rows], y))
        else:
            classifiers.append(None)
    return classifiers


def fit_baseline(
    texts: list[str],
    targets: np.ndarray,
    mask: np.ndarray,
    config: BaselineConfig,
    techniques: list[str],
    folder: Path,
) -> tuple[TfidfVectorizer, list[LogisticRegression | None]]:
    """Fit on the training split and write a model folder (thresholds filled in later);
    returns the fitted vectorizer and classifiers, which the folder's arrays reproduce."""
    params = {
        "ngram_range": (1, config.ngram_max),
        "min_df": config.min_df,
        "max_features": config.max_features,
        "sublinear_tf": True,
        "lowercase": True,
    }
    vectorizer = TfidfVectorizer(**params)
    features = vectorizer.fit_transform(texts)
    classifiers = fit_classifiers(features, targets, mask, config.c)
    coef = np.zeros((len(techniques), features.shape[1]), dtype=np.float64)
    intercept = np.full(len(techniques), -10.0)  # no examples: never predicted
    for i, clf in enumerate(classifiers):
        if clf is not None:
            coef[i], intercept[i] = clf.coef_[0], clf.intercept_[0]
    save_baseline(folder, vectorizer, params, coef, intercept, techniques)
    return vectorizer, classifiers
