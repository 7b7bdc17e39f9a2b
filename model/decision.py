"""The decision rule every model family shares: which techniques a sentence reports.

Per-technique thresholds and the top-technique threshold are tuned on dev at training
time and stored in the model folder's metadata (`model.meta`); this module only applies
them, so the predictor, training, evaluation and benchmarks decide the same way.
"""

from __future__ import annotations

import numpy as np

OFF = 1.0  # a technique whose threshold is OFF is never output


def over_threshold(probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Decisions: each probability at or over its technique's threshold. OFF holds even for
    a probability that saturates to exactly 1.0."""
    return (probs >= thresholds) & (thresholds < OFF)


def decide(probs: np.ndarray, thresholds: np.ndarray, any_threshold: float = OFF) -> np.ndarray:
    """The techniques a model reports for each sentence (rows of `probs`).

    Each technique at or over its own threshold, and also a sentence's most likely
    technique once it reaches `any_threshold`. Per-technique thresholds are tuned for
    micro-F1 and leave many sentences that carry *some* technique with none reported
    (default MiniLM, PTC test: "any" recall 0.56 at precision 0.60). Techniques switched
    OFF are never reported, by either rule.
    """
    decided = over_threshold(probs, thresholds)
    if any_threshold < OFF and len(probs):
        live = np.where(thresholds < OFF, probs, -1.0)
        top = live.argmax(axis=1)
        rows = np.flatnonzero(live[np.arange(len(live)), top] >= any_threshold)
        decided[rows, top[rows]] = True
    return decided
