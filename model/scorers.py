"""Sentence scorers: text in, one probability per technique out, for each model family."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.baseline import BaselineScorer
from model.meta import ModelMeta, load_meta


class TransformerScorer:
    """A fine-tuned encoder with a multi-label head.

    Sentences are de-duplicated, sorted by length and padded to the longest in each batch
    (on these CPUs about 3.5x faster than fixed-length padding). A sentence longer than
    the encoder's limit is cut by the fast tokenizer into windows overlapping by half and
    gets, per technique, its highest window probability, so nothing is silently truncated.
    Training scores dev through the same class, on the network in memory.
    """

    def __init__(self, model, tokenizer, max_length: int, batch_size: int = 64):
        import torch

        self.torch = torch
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size

    @classmethod
    def load(cls, folder: Path, meta: ModelMeta) -> TransformerScorer:
        from transformers import AutoTokenizer

        from model.classifier import MeanPoolingClassifier

        model = MeanPoolingClassifier.load(folder).eval()
        return cls(model, AutoTokenizer.from_pretrained(folder), meta.max_length)

    def windows(self, sentences: list[str]) -> tuple[list[list[int]], list[int]]:
        """Token id windows with special tokens, and the sentence index of each window."""
        body = self.max_length - self.tokenizer.num_special_tokens_to_add()
        encoded = self.tokenizer(
            sentences,
            truncation=True,
            max_length=self.max_length,
            stride=max(body // 2, 1),
            return_overflowing_tokens=True,
        )
        return encoded["input_ids"], encoded["overflow_to_sample_mapping"]

    def predict_proba(self, sentences: list[str]) -> np.ndarray:
        n_labels = self.model.num_labels
        if not sentences:
            return np.zeros((0, n_labels), dtype=np.float32)
        unique = list(dict.fromkeys(sentences))  # boilerplate lines are scored once
        windows, owners = self.windows(unique)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        window_probs = np.zeros((len(windows), n_labels), dtype=np.float32)
        was_training = self.model.training
        self.model.eval()
        with self.torch.inference_mode():
            for begin in range(0, len(order), self.batch_size):
                batch = order[begin : begin + self.batch_size]
                encoded = self.tokenizer.pad(
                    {"input_ids": [windows[i] for i in batch]}, return_tensors="pt"
                ).to(next(self.model.parameters()).device)
                logits = self.model(**encoded).logits
                window_probs[batch] = self.torch.sigmoid(logits).float().cpu().numpy()
        self.model.train(was_training)
        probs = np.zeros((len(unique), n_labels), dtype=np.float32)
        np.maximum.at(probs, np.array(owners), window_probs)
        position = {text: i for i, text in enumerate(unique)}
        return probs[[position[s] for s in sentences]]


def load_scorer(folder: str | Path) -> tuple[ModelMeta, BaselineScorer | TransformerScorer]:
    folder = Path(folder)
    meta = load_meta(folder)
    if meta.family == "baseline":
        return meta, BaselineScorer(folder, meta)
    if meta.family == "transformer":
        return meta, TransformerScorer.load(folder, meta)
    raise ValueError(f"{folder}: unknown model family {meta.family!r}")
