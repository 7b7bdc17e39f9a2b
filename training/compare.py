"""Side-by-side comparison of two evaluations, with a paired bootstrap for micro-F1.

Resampling is by document, not sentence: sentences of one article are not independent,
and a per-sentence bootstrap would make the interval look tighter than it is.
"""

from __future__ import annotations

import numpy as np

from training.evaluate import Evaluation


def document_counts(result: Evaluation, docs: np.ndarray) -> np.ndarray:
    """(documents, 3) array of true positives, false positives, false negatives."""
    pred = (result.pred > 0) & (result.mask > 0)
    gold = (result.gold > 0) & (result.mask > 0)
    cells = np.stack([(pred & gold).sum(1), (pred & ~gold).sum(1), (~pred & gold).sum(1)], axis=1)
    index = {d: i for i, d in enumerate(docs)}
    out = np.zeros((len(docs), 3))
    np.add.at(out, [index[d] for d in result.doc_ids], cells)
    return out


def micro_f1(counts: np.ndarray) -> np.ndarray:
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    denom = 2 * tp + fp + fn
    return np.divide(2 * tp, denom, out=np.zeros_like(tp, dtype=float), where=denom > 0)


def paired_bootstrap(
    a: Evaluation, b: Evaluation, samples: int = 2000, seed: int = 0
) -> dict[str, float]:
    """Micro-F1 of B minus A: observed, 95% interval, and share of resamples where B <= A."""
    if not np.array_equal(a.doc_ids, b.doc_ids):
        raise ValueError("the two evaluations were not run on the same evaluation set")
    docs = np.unique(a.doc_ids)
    counts_a, counts_b = document_counts(a, docs), document_counts(b, docs)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(docs), size=(samples, len(docs)))
    diffs = micro_f1(counts_b[picks].sum(1)) - micro_f1(counts_a[picks].sum(1))
    low, high = np.percentile(diffs, [2.5, 97.5])
    observed = micro_f1(counts_b.sum(0)) - micro_f1(counts_a.sum(0))
    return {
        "delta": float(observed),
        "low": float(low),
        "high": float(high),
        "p_not_better": float((diffs <= 0).mean()),
        "documents": len(docs),
    }


def comparison_table(
    name_a: str, a: dict[str, float], name_b: str, b: dict[str, float], techniques: list[str]
) -> str:
    rows = ["micro_f1", "macro_f1", "any_f1"] + [f"f1/{t}" for t in techniques]
    lines = [f"{'metric':32s} {name_a:>12s} {name_b:>12s} {'delta':>8s}"]
    for row in rows:
        delta = b[row] - a[row]
        lines.append(f"{row:32s} {a[row]:12.3f} {b[row]:12.3f} {delta:+8.3f}")
    return "\n".join(lines)
