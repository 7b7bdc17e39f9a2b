"""The training losses: binary cross-entropy masked to the techniques each record's source
annotates (PTC never teaches "no denial here"), its positive weights, and the optional
softmax losses that teach the heads to tell techniques apart."""

from __future__ import annotations

import numpy as np
import torch


def masked_bce(
    logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, pos_weight: torch.Tensor
) -> torch.Tensor:
    """Mean BCE over the (record, technique) cells the record's source annotates."""
    cells = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, labels, pos_weight=pos_weight, reduction="none"
    )
    return (cells * mask).sum() / mask.sum().clamp(min=1.0)


def positive_weights(targets: np.ndarray, mask: np.ndarray, cap: float) -> torch.Tensor:
    """sqrt(negatives / positives) per technique, between 1 and `cap`: rare ones count more."""
    pos = (targets * mask).sum(axis=0)
    neg = ((1 - targets) * mask).sum(axis=0)
    ratio = np.sqrt(np.where(pos > 0, neg / np.maximum(pos, 1), 1.0))
    return torch.tensor(np.clip(ratio, 1.0, max(cap, 1.0)), dtype=torch.float32)


def span_technique_loss(
    token_logits: torch.Tensor, span_tokens: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of each gold span's technique against the other techniques its source
    annotates, from the span head's token logits averaged over the span: the sigmoids
    learn each technique apart, this teaches them to tell techniques apart (SemEval's TC)."""
    if len(span_tokens) == 0:
        return token_logits.sum() * 0.0
    rows, techniques = span_tokens[:, 0], span_tokens[:, 1]
    pooled = torch.stack(
        [token_logits[row, first:stop].mean(0) for row, _, first, stop in span_tokens.tolist()]
    )
    pooled = pooled.masked_fill(mask[rows] == 0, -1e4)
    return torch.nn.functional.cross_entropy(pooled, techniques)


def sentence_technique_loss(
    logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """For each sentence with a technique, cross-entropy of the sentence head's logits
    (over the techniques its source annotates) against its techniques, shared equally."""
    gold = labels * mask
    rows = gold.sum(1) > 0
    if not rows.any():
        return logits.sum() * 0.0
    z = logits[rows].masked_fill(mask[rows] == 0, -1e4)
    return torch.nn.functional.cross_entropy(z, gold[rows] / gold[rows].sum(1, keepdim=True))
