"""The plots propscan logs and writes: per-technique F1 bars, precision-recall curves and
the side-by-side comparison of two versions. Every plot names what it shows in its title."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np


def pyplot():
    """matplotlib's pyplot on the file-only backend (no display on servers and CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_f1_bars(metrics: dict[str, float], techniques: list[str], path: Path, title: str) -> Path:
    plt = pyplot()
    scores = [metrics[f"f1/{t}"] for t in techniques]
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.barh(techniques[::-1], scores[::-1], color="#4c72b0")
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1")
    ax.set_title(f"{title}\nmicro-F1 {metrics['micro_f1']:.3f}, macro-F1 {metrics['macro_f1']:.3f}")
    for y, v in enumerate(scores[::-1]):
        ax.text(v + 0.01, y, f"{v:.2f}", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_pr_curves(
    probs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray,
    techniques: list[str],
    path: Path,
    title: str,
) -> Path:
    from sklearn.metrics import precision_recall_curve

    from training.metrics import technique_aps

    plt = pyplot()
    aps = technique_aps(probs, targets, mask)
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
            ax.axhline(gold.mean(), color="#999999", linestyle=":", linewidth=1)
            ax.set_title(f"{tech}\nAP {aps[i]:.2f} (chance {gold.mean():.2f})", fontsize=9)
        else:
            ax.text(0.5, 0.5, "no positives", ha="center")
            ax.set_title(tech, fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.05)
    fig.suptitle(f"Precision-recall per technique: {title}")
    fig.supxlabel("recall")
    fig.supylabel("precision")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_comparison(
    label_a: str,
    a: dict[str, float],
    label_b: str,
    b: dict[str, float],
    techniques: list[str],
    path: Path,
    eval_name: str,
) -> Path:
    """F1 per technique of two versions on one evaluation set, with their headline figures
    in the legend; labels say what each bar is (version, family, alias)."""
    plt = pyplot()
    y = np.arange(len(techniques))
    fig, ax = plt.subplots(figsize=(9, 7.5))
    for offset, label, metrics in ((-0.2, label_a, a), (0.2, label_b, b)):
        headline = f"micro-F1 {metrics['micro_f1']:.3f}, macro-F1 {metrics['macro_f1']:.3f}"
        ax.barh(
            y + offset, [metrics[f"f1/{t}"] for t in techniques], 0.4, label=f"{label}: {headline}"
        )
    ax.set_yticks(y, techniques)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1 on the evaluation set")
    ax.set_title(f"Per-technique F1 on {eval_name}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def log_plots(metrics, probs, gold, mask, techniques: list[str], title: str, stem: str) -> None:
    """Per-technique F1 bars and precision-recall curves, as artifacts under plots/."""
    import mlflow

    with tempfile.TemporaryDirectory() as folder:
        f1_path = plot_f1_bars(metrics, techniques, Path(folder) / f"f1_{stem}.png", title)
        pr_path = plot_pr_curves(
            probs, gold, mask, techniques, Path(folder) / f"pr_curves_{stem}.png", title
        )
        mlflow.log_artifact(str(f1_path), "plots")
        mlflow.log_artifact(str(pr_path), "plots")
