"""Metrics under the design's fixed names, and the table printed after training.

Every cell of the label matrix counts only where the record's source annotates that
technique (`mask`), so PTC sentences are never scored on `denial`: masked cells are set to
negative in both gold and prediction, which makes them true negatives, and precision,
recall and F1 never count true negatives. `any_f1` asks the simplest question a user has:
does this sentence carry any technique at all?
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, precision_recall_fscore_support

HEADLINE = ("micro_f1", "macro_f1", "any_f1")


def masked(decisions: np.ndarray, targets: np.ndarray, mask: np.ndarray):
    """Boolean (prediction, gold) with unannotated cells negative in both."""
    keep = mask > 0
    return decisions.astype(bool) & keep, (targets > 0.5) & keep


def compute_metrics(
    decisions: np.ndarray, targets: np.ndarray, mask: np.ndarray, techniques: list[str]
) -> dict[str, float]:
    """micro/macro F1, any_f1 and per-technique precision, recall and F1 of a model's
    decisions (what `decide()` reports: one boolean per sentence and technique).

    Macro F1 averages over the techniques with at least one annotated positive.
    """
    pred, gold = masked(decisions, targets, mask)
    p, r, f, _ = precision_recall_fscore_support(gold, pred, average=None, zero_division=0)
    metrics: dict[str, float] = {}
    for i, tech in enumerate(techniques):
        metrics[f"precision/{tech}"] = p[i]
        metrics[f"recall/{tech}"] = r[i]
        metrics[f"f1/{tech}"] = f[i]
    micro = precision_recall_fscore_support(gold, pred, average="micro", zero_division=0)
    metrics["micro_precision"], metrics["micro_recall"], metrics["micro_f1"] = micro[:3]
    present = gold.any(axis=0)
    metrics["macro_f1"] = float(f[present].mean()) if present.any() else 0.0
    metrics["any_f1"] = f1_score(gold.any(axis=1), pred.any(axis=1), zero_division=0)
    return {k: float(v) for k, v in metrics.items()}


def technique_aps(probs: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> list:
    """Each technique's average precision over the sentences its source annotates; None
    for a technique without an annotated positive."""
    keep, gold = mask > 0, (targets > 0.5) & (mask > 0)
    return [
        average_precision_score(gold[keep[:, i], i], probs[keep[:, i], i])
        if gold[:, i].any()
        else None
        for i in range(probs.shape[1])
    ]


def ranking_metrics(probs: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """How well the probabilities rank, whatever the thresholds: `mean_ap`, the average
    precision of each technique with an annotated positive (over its annotated sentences),
    averaged; `any_ap`, that of the highest annotated probability for "any technique".
    F1 moves with thresholds tuned on a few dev articles; these do not."""
    keep, gold = mask > 0, (targets > 0.5) & (mask > 0)
    aps = [ap for ap in technique_aps(probs, targets, mask) if ap is not None]
    any_gold, any_score = gold.any(axis=1), np.where(keep, probs, 0.0).max(axis=1)
    return {
        "mean_ap": float(np.mean(aps)) if aps else 0.0,
        "any_ap": float(average_precision_score(any_gold, any_score)) if any_gold.any() else 0.0,
    }


def metrics_table(metrics: dict[str, float], techniques: list[str]) -> str:
    """The per-technique table printed at the end of training and evaluation."""
    lines = [f"{'technique':28s} {'precision':>9s} {'recall':>7s} {'F1':>6s}"]
    for tech in techniques:
        lines.append(
            f"{tech:28s} {metrics[f'precision/{tech}']:9.3f} "
            f"{metrics[f'recall/{tech}']:7.3f} {metrics[f'f1/{tech}']:6.3f}"
        )
    lines.append(
        f"{'micro':28s} {metrics['micro_precision']:9.3f} {metrics['micro_recall']:7.3f} "
        f"{metrics['micro_f1']:6.3f}"
    )
    lines.append(f"macro-F1 {metrics['macro_f1']:.3f}   any-technique F1 {metrics['any_f1']:.3f}")
    if "si_f1" in metrics:
        lines.append(
            f"spans: SI F1 {metrics['si_f1']:.3f}   FLC F1 {metrics['flc_f1']:.3f}   "
            f"TC micro-F1 {metrics['tc_micro_f1']:.3f}"
        )
    return "\n".join(lines)
