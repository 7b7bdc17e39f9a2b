"""Sentence scorers: text in, one probability per technique out, for each model family."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.baseline import BaselineScorer
from model.meta import ModelMeta, load_meta

PRECISIONS = ("fp32", "bf16", "int8")  # int8: see model.quantize


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
        # In training above frozen layers: token sequences -> the frozen layers' output
        # (training.frozen.FrozenStore.states), so scoring dev runs only the layers above.
        self.given_states = None

    @classmethod
    def load(cls, folder: Path, meta: ModelMeta, precision: str = "fp32") -> TransformerScorer:
        """The model in `folder`. `precision="bf16"` holds and computes the network in
        bfloat16: on CPUs with AMX or AVX-512 BF16 (recent Xeons) and on GPUs about 2.8x
        faster than fp32, with nearly the same decisions; elsewhere it can be slower.
        `precision="int8"`: the encoder's linear layers compute in 8-bit integers (see
        model.quantize), faster on any CPU."""
        import torch
        from transformers import AutoTokenizer

        from model.classifier import MeanPoolingClassifier

        model = MeanPoolingClassifier.load(folder).eval()
        if precision == "bf16":
            model.to(torch.bfloat16)
        if precision == "int8":
            from model.quantize import quantize_linears

            # The transformer blocks, not the [CLS] pooler that mean pooling never reads.
            quantize_linears(getattr(model.encoder, "encoder", model.encoder))
        return cls(model, AutoTokenizer.from_pretrained(folder), meta.max_length)

    @property
    def has_spans(self) -> bool:
        return self.model.span_classifier is not None

    def windows(self, sentences: list[str]):
        """Token id windows with special tokens (`input_ids`), the sentence index of each
        (`overflow_to_sample_mapping`) and each token's characters (`offset_mapping`)."""
        body = self.max_length - self.tokenizer.num_special_tokens_to_add()
        return self.tokenizer(
            sentences,
            truncation=True,
            max_length=self.max_length,
            stride=max(body // 2, 1),
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
        )

    def predict_proba(self, sentences: list[str]) -> np.ndarray:
        return self.predict(sentences, tokens=False)[0]

    def predict(
        self, sentences: list[str], tokens: bool = True
    ) -> tuple[np.ndarray, list[TokenProbs] | None]:
        """Per sentence, one probability per technique; with a span head (and `tokens`),
        also each real token's (start, end) in the sentence and its probability per
        technique."""
        spans = tokens and self.has_spans
        n_labels = self.model.num_labels
        if not sentences:
            return np.zeros((0, n_labels), dtype=np.float32), [] if spans else None
        unique = list(dict.fromkeys(sentences))  # boilerplate lines are scored once
        encoded = self.windows(unique)
        windows, owners = encoded["input_ids"], encoded["overflow_to_sample_mapping"]
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        window_probs = np.zeros((len(windows), n_labels), dtype=np.float32)
        window_tokens: list[np.ndarray | None] = [None] * len(windows)
        was_training = self.model.training
        self.model.eval()
        with self.torch.inference_mode():
            for begin in range(0, len(order), self.batch_size):
                batch = order[begin : begin + self.batch_size]
                padded = self.tokenizer.pad(
                    {"input_ids": [windows[i] for i in batch]}, return_tensors="pt"
                ).to(next(self.model.parameters()).device)
                if self.given_states is not None:
                    states = self.given_states([windows[i] for i in batch])
                    padded["frozen_states"] = self.torch.nn.utils.rnn.pad_sequence(
                        states, batch_first=True
                    ).to(padded["input_ids"].device)
                output = self.model(**padded)
                window_probs[batch] = self.torch.sigmoid(output.logits).float().cpu().numpy()
                if spans:
                    token_probs = self.torch.sigmoid(output.token_logits).float().cpu().numpy()
                    for row, i in enumerate(batch):
                        window_tokens[i] = token_probs[row, : len(windows[i])]
        self.model.train(was_training)
        probs = np.zeros((len(unique), n_labels), dtype=np.float32)
        np.maximum.at(probs, np.array(owners), window_probs)
        position = {text: i for i, text in enumerate(unique)}
        rows = [position[s] for s in sentences]
        if not spans:
            return probs[rows], None
        merged = merge_windows(
            encoded["offset_mapping"], owners, window_tokens, len(unique), n_labels
        )
        return probs[rows], [merged[i] for i in rows]


TokenProbs = tuple[np.ndarray, np.ndarray]  # (tokens, 2) offsets and (tokens, techniques)


def merge_windows(
    offset_mapping, owners, window_tokens, n_sentences: int, n_labels: int
) -> list[TokenProbs]:
    """Each sentence's real tokens in order with their probabilities; a token that two
    overlapping windows hold keeps the higher probability, as the sentence score does."""
    by_sentence: list[dict[tuple[int, int], np.ndarray]] = [{} for _ in range(n_sentences)]
    for offsets, owner, probs in zip(offset_mapping, owners, window_tokens, strict=True):
        tokens = by_sentence[owner]
        for (start, end), row in zip(offsets, probs, strict=True):
            if end > start:  # special tokens have no characters
                key = (start, end)
                tokens[key] = np.maximum(tokens[key], row) if key in tokens else row
    merged = []
    for tokens in by_sentence:
        keys = sorted(tokens)
        offsets = np.array(keys, dtype=np.int64).reshape(len(keys), 2)
        rows = np.stack([tokens[k] for k in keys]) if keys else np.zeros((0, n_labels), np.float32)
        merged.append((offsets, rows))
    return merged


def load_scorer(
    folder: str | Path, precision: str = "fp32"
) -> tuple[ModelMeta, BaselineScorer | TransformerScorer]:
    folder = Path(folder)
    meta = load_meta(folder)
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    if meta.family == "baseline":
        if precision != "fp32":
            raise ValueError(f"{folder}: {precision} applies to transformer models, not baseline")
        return meta, BaselineScorer(folder, meta)
    if meta.family == "transformer":
        return meta, TransformerScorer.load(folder, meta, precision)
    raise ValueError(f"{folder}: unknown model family {meta.family!r}")
