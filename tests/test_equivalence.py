"""Scoring gives the same numbers however it is batched, and saved models equal fitted ones."""

import random

import numpy as np

from data.sources import load_specs
from data.splits import split_records
from data.techniques import technique_ids
from model.baseline import BaselineScorer
from model.meta import load_meta
from model.predictor import Predictor
from training.baseline import fit_baseline
from training.config import BaselineConfig


def mixed_sentences() -> list[str]:
    """Short, long (over one encoder window) and repeated sentences, shuffled."""
    records = load_specs(["corpus"])[:60]
    texts = [r["text"] for r in records]
    texts.append(" ".join(texts[:12]))  # longer than a 64-token window
    texts += texts[:5] + [""]  # duplicates and an empty one
    random.Random(3).shuffle(texts)
    return texts


def test_tiny_batches_equal_one_sentence_at_a_time(trained):
    scorer = Predictor(trained["transformer"].folder).scorer
    texts = mixed_sentences()
    scorer.batch_size = 3
    probs, tokens = scorer.predict(texts)
    single = [scorer.predict([t]) for t in texts]
    np.testing.assert_allclose(probs, np.concatenate([p for p, _ in single]), atol=1e-5)
    for (offsets, token_probs), (_, [(one_offsets, one_probs)]) in zip(tokens, single, strict=True):
        np.testing.assert_array_equal(offsets, one_offsets)
        np.testing.assert_allclose(token_probs, one_probs, atol=1e-5)


def test_saved_baseline_arrays_equal_the_fitted_models(tmp_path):
    records = split_records(load_specs(["corpus"]))["train"]
    techniques = list(technique_ids())
    texts = [r["text"] for r in records]
    targets = np.array([[t in r["labels"] for t in techniques] for r in records], np.float32)
    mask = np.ones_like(targets)
    vectorizer, classifiers = fit_baseline(
        texts, targets, mask, BaselineConfig(), techniques, tmp_path
    )
    sample = mixed_sentences()
    saved = BaselineScorer(tmp_path, load_meta(tmp_path)).predict_proba(sample)
    features = vectorizer.transform(sample)
    for i, clf in enumerate(classifiers):
        if clf is not None:
            np.testing.assert_allclose(saved[:, i], clf.predict_proba(features)[:, 1], atol=1e-6)
    assert sum(c is not None for c in classifiers) == len(techniques)
