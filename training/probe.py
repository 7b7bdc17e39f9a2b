"""Linear probing before fine-tuning (LP-FT): fit the new heads on the frozen encoder's
vectors first, then fine-tune everything from there.

A head that starts at random sends large, arbitrary gradients into the encoder in the
first steps, which distorts the pretrained features most where the training data says
least: Kumar et al., "Fine-Tuning can Distort Pretrained Features and Underperform
Out-of-Distribution" (ICLR 2022), find that probing the head first keeps in-distribution
accuracy and gains out of distribution. For propscan that is news nobody tuned on.

The encoder reads the training split once (no dropout, no gradient); the sentence head
and the span head then learn from those vectors with the training loss (masked BCE,
the same positive weights), in seconds.
"""

from __future__ import annotations

import time

import torch

from model.classifier import MeanPoolingClassifier, mean_pool
from training.losses import masked_bce

FEATURE_BATCH = 64  # sentences per encoder pass while reading features
HEAD_BATCH = 256  # rows per step of a head's fit
LEARNING_RATE = 1e-3


def frozen_features(model: MeanPoolingClassifier, batches) -> dict[str, torch.Tensor]:
    """Mean-pooled sentence vectors with their labels and masks, and each real token's
    vector with its span targets and its sentence's mask (the cells the source annotates)."""
    parts: dict[str, list[torch.Tensor]] = {}
    was_training = model.encoder.training
    model.encoder.eval()
    with torch.inference_mode():
        for batch in batches:
            hidden = model.encode(
                batch["input_ids"],
                batch["attention_mask"],
                frozen_states=batch.get("frozen_states"),
            )
            found = {
                "pooled": mean_pool(hidden, batch["attention_mask"]),
                "labels": batch["labels"].float(),
                "mask": batch["label_mask"].float(),
            }
            if "token_labels" in batch:
                real = batch["token_mask"] > 0
                rows = real.nonzero()[:, 0]
                found |= {
                    "tokens": hidden[real],
                    "token_labels": batch["token_labels"][real],
                    "token_cells": batch["label_mask"].float()[rows],
                }
            for key, value in found.items():
                parts.setdefault(key, []).append(value)
    model.encoder.train(was_training)
    return {key: torch.cat(values) for key, values in parts.items()}


def fit_head(
    head: torch.nn.Linear,
    inputs: torch.Tensor,
    labels: torch.Tensor,
    mask: torch.Tensor,
    pos_weight: torch.Tensor,
    epochs: int,
    seed: int,
) -> float:
    """Adam on the masked BCE over shuffled rows; returns the last epoch's mean loss."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(head.parameters(), lr=LEARNING_RATE)
    mean_loss = float("nan")
    for _ in range(epochs):
        total, steps = 0.0, 0
        for rows in torch.randperm(len(inputs), generator=generator).split(HEAD_BATCH):
            loss = masked_bce(head(inputs[rows]), labels[rows], mask[rows], pos_weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, steps = total + loss.item(), steps + 1
        mean_loss = total / max(steps, 1)
    return mean_loss


def probe_heads(
    model: MeanPoolingClassifier, batches, pos_weight: torch.Tensor, epochs: int, seed: int
) -> dict[str, float]:
    """Fit the sentence head (and the span head, when the batches carry token targets) on
    the frozen encoder's vectors; returns each head's final training loss and the seconds
    it all took."""
    started = time.perf_counter()
    features = frozen_features(model, batches)
    losses = {
        "probe_loss": fit_head(
            model.classifier,
            features["pooled"],
            features["labels"],
            features["mask"],
            pos_weight,
            epochs,
            seed,
        )
    }
    if model.span_classifier is not None and "tokens" in features:
        losses["probe_span_loss"] = fit_head(
            model.span_classifier,
            features["tokens"],
            features["token_labels"],
            features["token_cells"],
            pos_weight,
            epochs,
            seed,
        )
    return losses | {"probe_seconds": time.perf_counter() - started}
