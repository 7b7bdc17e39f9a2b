"""The baseline family's files: TF-IDF vocabulary and logistic-regression weights.

Saved as a JSON vocabulary and plain arrays (`allow_pickle=False`), so loading never
unpickles anything; the vectorizer's options sit in the metadata's `extra`. Writing and
reading the format live together here; fitting is training's job (`training.baseline`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from model.meta import ModelMeta, save_untuned_meta

VOCABULARY_FILE = "vocabulary.json"
ARRAYS_FILE = "weights.npz"


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def save_baseline(
    folder: Path,
    vectorizer,
    vectorizer_params: dict,
    coef: np.ndarray,
    intercept: np.ndarray,
    techniques: list[str],
) -> None:
    """Write a fitted `TfidfVectorizer` and one weight row per technique as a model folder
    (thresholds at 0.5 until training tunes them on dev)."""
    ngram_range = vectorizer_params["ngram_range"]  # JSON keeps it as a list
    folder.mkdir(parents=True, exist_ok=True)
    vocabulary = {term: int(idx) for term, idx in vectorizer.vocabulary_.items()}
    (folder / VOCABULARY_FILE).write_text(json.dumps(vocabulary), encoding="utf-8")
    np.savez(folder / ARRAYS_FILE, idf=vectorizer.idf_, coef=coef, intercept=intercept)
    vectorizer_json = {**vectorizer_params, "ngram_range": list(ngram_range)}
    save_untuned_meta(folder, "baseline", techniques, extra={"vectorizer": vectorizer_json})


class BaselineScorer:
    """TF-IDF features and one logistic regression per technique, from plain arrays."""

    def __init__(self, folder: Path, meta: ModelMeta):
        from sklearn.feature_extraction.text import TfidfVectorizer

        vocabulary = json.loads((folder / VOCABULARY_FILE).read_text(encoding="utf-8"))
        arrays = np.load(folder / ARRAYS_FILE, allow_pickle=False)
        params = dict(meta.extra["vectorizer"])
        params["ngram_range"] = tuple(params["ngram_range"])  # JSON stores it as a list
        self.vectorizer = TfidfVectorizer(**params, vocabulary=vocabulary)
        self.vectorizer.idf_ = arrays["idf"]
        self.coef = arrays["coef"]
        self.intercept = arrays["intercept"]

    def predict_proba(self, sentences: list[str]) -> np.ndarray:
        if not sentences:
            return np.zeros((0, len(self.intercept)), dtype=np.float32)
        features = self.vectorizer.transform(sentences)
        return sigmoid(features @ self.coef.T + self.intercept).astype(np.float32)
