"""Metrics under the design's fixed names, threshold tuning and evaluation plots.

Every cell of the label matrix counts only where the record's source annotates that
technique (`mask`), so PTC sentences are never scored on `denial`. `any_f1` asks the
simplest question a user has: does this sentence carry any technique at all?
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.bundle import OFF, decide, over_threshold

# OFF (1.0) switches a technique off: better no output than noise for a classifier that
# dev shows to be useless.
THRESHOLD_GRID = np.append(np.round(np.arange(0.05, 0.951, 0.025), 3), OFF)


def f1(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, score


def binary_f1(pred: np.ndarray, gold: np.ndarray) -> float:
    """F1 of boolean decisions against boolean gold, over all cells."""
    return f1((pred & gold).sum(), (pred & ~gold).sum(), (~pred & gold).sum())[2]


def compute_metrics(
    decisions: np.ndarray, targets: np.ndarray, mask: np.ndarray, techniques: list[str]
) -> dict[str, float]:
    """micro/macro F1, any_f1 and per-technique precision, recall and F1 of a model's
    decisions (what `decide()` reports: one boolean per sentence and technique).

    Macro F1 averages over the techniques with at least one annotated positive.
    """
    pred = decisions.astype(bool) & (mask > 0)
    gold = (targets > 0.5) & (mask > 0)
    tp = (pred & gold).sum(axis=0)
    fp = (pred & ~gold).sum(axis=0)
    fn = (~pred & gold).sum(axis=0)
    metrics: dict[str, float] = {}
    macro = []
    for i, tech in enumerate(techniques):
        p, r, score = f1(tp[i], fp[i], fn[i])
        metrics[f"precision/{tech}"] = p
        metrics[f"recall/{tech}"] = r
        metrics[f"f1/{tech}"] = score
        if gold[:, i].any():
            macro.append(score)
    metrics["micro_precision"], metrics["micro_recall"], metrics["micro_f1"] = f1(
        tp.sum(), fp.sum(), fn.sum()
    )
    metrics["macro_f1"] = float(np.mean(macro)) if macro else 0.0
    metrics["any_f1"] = binary_f1(pred.any(axis=1), gold.any(axis=1))
    return {k: float(v) for k, v in metrics.items()}


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

    def micro(tp_sum, fp_sum, fn_sum):
        denom = 2 * tp_sum + fp_sum + fn_sum
        return np.divide(2 * tp_sum, denom, out=np.zeros_like(denom, dtype=float), where=denom > 0)

    overall = micro(tp.sum(1), fp.sum(1), fn.sum(1))
    choice = np.full(probs.shape[1], len(grid) - 1 - int(np.argmax(overall[::-1])))
    columns = np.arange(probs.shape[1])
    for _ in range(rounds):
        for t in columns[gold.any(axis=0)]:
            rest = columns != t
            rest_tp = tp[choice[rest], columns[rest]].sum()
            rest_fp = fp[choice[rest], columns[rest]].sum()
            rest_fn = fn[choice[rest], columns[rest]].sum()
            scores = micro(rest_tp + tp[:, t], rest_fp + fp[:, t], rest_fn + fn[:, t])
            choice[t] = len(grid) - 1 - int(np.argmax(scores[::-1]))
    return grid[choice]


def tune_any_threshold(
    probs: np.ndarray, targets: np.ndarray, mask: np.ndarray, thresholds: np.ndarray
) -> float:
    """The top-technique threshold of `decide()` that maximises dev micro-F1 + any_f1,
    given the per-technique thresholds; ties go to the higher one, so OFF when it never
    helps. On 5-fold PTC cross-validation (MiniLM) any_f1 alone bought "some technique
    here" recall with wrong techniques (any_f1 +0.026, micro-F1 -0.008); the sum gives
    any_f1 +0.009, macro-F1 +0.005 for micro-F1 -0.003, and gains all three on the corpus."""
    gold = (targets > 0.5) & (mask > 0)
    scores = []
    for value in THRESHOLD_GRID:
        pred = decide(probs, thresholds, value) & (mask > 0)
        scores.append(binary_f1(pred, gold) + binary_f1(pred.any(axis=1), gold.any(axis=1)))
    return float(THRESHOLD_GRID[len(scores) - 1 - int(np.argmax(scores[::-1]))])


def plot_f1_bars(metrics: dict[str, float], techniques: list[str], path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scores = [metrics[f"f1/{t}"] for t in techniques]
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.barh(techniques[::-1], scores[::-1], color="#4c72b0")
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    ax.set_title(f"{title}: micro-F1 {metrics['micro_f1']:.3f}, macro-F1 {metrics['macro_f1']:.3f}")
    for y, v in enumerate(scores[::-1]):
        ax.text(v + 0.01, y, f"{v:.2f}", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_pr_curves(
    probs: np.ndarray, targets: np.ndarray, mask: np.ndarray, techniques: list[str], path: Path
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    cols = 4
    rows = (len(techniques) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(12, 3 * rows), squeeze=False)
    for i, tech in enumerate(techniques):
        ax = axes[i // cols][i % cols]
        keep = mask[:, i] > 0
        gold = targets[keep, i] > 0.5
        if gold.any() and not gold.all():
            precision, recall, _ = precision_recall_curve(gold, probs[keep, i])
            ax.plot(recall, precision)
        else:
            ax.text(0.5, 0.5, "no positives", ha="center")
        ax.set_title(tech, fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.05)
    fig.supxlabel("recall")
    fig.supylabel("precision")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


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
    return "\n".join(lines)
