"""Tuning the decision rule on dev: per-technique thresholds (bagged), then the
top-technique one.

`model.decision` applies what is tuned here; the values are stored with the model.
"""

from __future__ import annotations

import numpy as np

from model.decision import OFF, decide, over_threshold
from model.spans import token_targets
from training.metrics import masked

# OFF (1.0) switches a technique off: better no output than noise for a classifier that
# dev shows to be useless.
THRESHOLD_GRID = np.append(np.round(np.arange(0.05, 0.951, 0.025), 3), OFF)


def f1_from_counts(tp, fp, fn):
    """F1 = 2tp / (2tp + fp + fn), elementwise; 0 where there is nothing to count."""
    denom = np.asarray(2 * tp + fp + fn, dtype=float)
    return np.divide(2 * tp, denom, out=np.zeros_like(denom), where=denom > 0)


def highest_best(scores) -> int:
    """Index of the best score; ties go to the last (highest) grid value."""
    return len(scores) - 1 - int(np.argmax(np.asarray(scores)[::-1]))


def tune_thresholds(
    probs: np.ndarray, targets: np.ndarray, mask: np.ndarray, rounds: int = 3
) -> np.ndarray:
    """Per-technique thresholds that maximise dev micro-F1, by coordinate ascent.

    Maximising each technique's own F1 instead sends weak, rare techniques to very low
    thresholds where they flood the output with false positives (on PTC dev that halves
    micro-F1). Here a technique only gets a lower threshold when that helps overall.
    Starts from the best single global threshold; ties go to the higher threshold. A
    technique without annotated positives in dev keeps the global threshold: dev has no
    evidence against it, and tuning would switch it off for good.
    """
    gold = (targets > 0.5) & (mask > 0)
    grid = THRESHOLD_GRID.astype(np.float32)
    # counts[g, t] for every grid threshold g and technique t
    pred = over_threshold(probs[None, :, :], grid[:, None, None]) & (mask[None] > 0)
    tp = (pred & gold[None]).sum(axis=1)
    fp = (pred & ~gold[None]).sum(axis=1)
    fn = gold.sum(axis=0)[None, :] - tp

    overall = f1_from_counts(tp.sum(1), fp.sum(1), fn.sum(1))
    choice = np.full(probs.shape[1], highest_best(overall))
    columns = np.arange(probs.shape[1])
    for _ in range(rounds):
        for t in columns[gold.any(axis=0)]:
            rest = columns != t
            rest_tp = tp[choice[rest], columns[rest]].sum()
            rest_fp = fp[choice[rest], columns[rest]].sum()
            rest_fn = fn[choice[rest], columns[rest]].sum()
            scores = f1_from_counts(rest_tp + tp[:, t], rest_fp + fp[:, t], rest_fn + fn[:, t])
            choice[t] = highest_best(scores)
    return grid[choice]


def bagged_thresholds(
    probs: np.ndarray, targets: np.ndarray, mask: np.ndarray, draws: int = 30, seed: int = 0
) -> np.ndarray:
    """`tune_thresholds` averaged over bootstrap resamples of dev's sentences.

    Dev holds a handful of positives of a rare technique, so one tuning sends its threshold
    wherever those few sentences happen to fall, or switches it off for good. The average
    of resampled tunings moves such a threshold less and switches a technique off only
    when every draw does. On fourteen five-fold models' saved dev and held-out
    probabilities (mpnet and MiniLM) it raised PTC macro-F1 by 0.017 and any_f1 by 0.013 on
    average (higher in 11 and 10 of 14), micro-F1 by 0.002, and the corpus's by
    0.011-0.022 (README, "Measured")."""
    rng = np.random.default_rng(seed)
    tuned = []
    for _ in range(draws):
        rows = rng.integers(0, len(probs), len(probs))
        tuned.append(tune_thresholds(probs[rows], targets[rows], mask[rows]))
    return np.mean(tuned, axis=0).astype(np.float32)


def binary_f1(pred: np.ndarray, gold: np.ndarray) -> float:
    """F1 of boolean decisions against boolean gold, over all cells."""
    return float(f1_from_counts((pred & gold).sum(), (pred & ~gold).sum(), (~pred & gold).sum()))


def tune_any_threshold(
    probs: np.ndarray, targets: np.ndarray, mask: np.ndarray, thresholds: np.ndarray
) -> float:
    """The top-technique threshold of `decide()` that maximises dev micro-F1 + any_f1,
    given the per-technique thresholds; ties go to the higher one, so OFF when it never
    helps. On 5-fold PTC cross-validation (MiniLM) any_f1 alone bought "some technique
    here" recall with wrong techniques (any_f1 +0.026, micro-F1 -0.008); the sum gives
    any_f1 +0.009, macro-F1 +0.005 for micro-F1 -0.003, and gains all three on the corpus."""
    scores = []
    for value in THRESHOLD_GRID:
        pred, gold = masked(decide(probs, thresholds, value), targets, mask)
        scores.append(binary_f1(pred, gold) + binary_f1(pred.any(axis=1), gold.any(axis=1)))
    return float(THRESHOLD_GRID[highest_best(scores)])


def token_arrays(tokens, split) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every real token of a split's sentences stacked: probabilities, gold (a token in a
    span of that technique) and mask (the sentence's source annotates the technique)."""
    probs, gold, mask = [], [], []
    for (offsets, token_probs), row in zip(tokens, split, strict=True):
        spans = list(zip(row["span_technique"], row["span_start"], row["span_end"], strict=True))
        probs.append(token_probs)
        gold.append(token_targets(offsets, spans, len(row["label_mask"])))
        mask.append(np.tile(np.array(row["label_mask"], dtype=np.float32), (len(offsets), 1)))
    return np.concatenate(probs), np.concatenate(gold), np.concatenate(mask)


def tune_span_thresholds(tokens, split) -> np.ndarray:
    """Per-technique span thresholds that maximise dev token-level micro-F1 (a token
    inside a gold span of its technique, or not): the character-overlap span metrics
    reward the same thing, and tokens make it the same search as `tune_thresholds`."""
    return tune_thresholds(*token_arrays(tokens, split))
