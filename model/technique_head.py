"""The technique of a span already found (SemEval's TC task): a linear head on the mean of
the span's token vectors, fitted once fine-tuning is over.

The span head learns, one sigmoid per technique, whether a token belongs to a technique;
it never learns to tell one technique from another. This head does: a multinomial
logistic regression on the training spans' vectors (standardised, C 0.01), folded into one
linear layer (fitted by training.transformer.fit_technique_head). Fitted on the finished
encoder, it changes no sentence or span figure.
Measured on five folds of PTC, with the same fine-tuned models: TC 0.507 against 0.459
for the span head's highest token probability inside the span.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch

from model.spans import span_token_ranges

NEVER = -1e4  # bias of a technique without training spans: never the argmax

SpanRef = tuple[int, int, int]  # (index of the text, start, end), offsets into the text


def span_vectors(
    encoder, tokenizer, texts: list[str], spans: list[SpanRef], max_length: int
) -> np.ndarray:
    """Per span, the mean encoder vector of the tokens that overlap it (all the text's
    tokens when none does: the span lies past the encoder's limit)."""
    by_text: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for row, (text, start, end) in enumerate(spans):
        by_text[text].append((row, start, end))
    order = sorted(by_text)
    vectors = np.zeros((len(spans), encoder.config.hidden_size), dtype=np.float32)
    device = next(encoder.parameters()).device
    was_training = encoder.training
    encoder.eval()
    with torch.inference_mode():
        for begin in range(0, len(order), 32):
            batch = order[begin : begin + 32]
            encoded = tokenizer(
                [texts[i] for i in batch],
                truncation=True,
                max_length=max_length,
                padding=True,
                return_offsets_mapping=True,
                return_tensors="pt",
            )
            offsets = encoded.pop("offset_mapping").numpy()
            hidden = encoder(**encoded.to(device)).last_hidden_state.float().cpu().numpy()
            for k, text in enumerate(batch):
                token_offsets = offsets[k].tolist()
                for row, start, end in by_text[text]:
                    found = span_token_ranges(token_offsets, [(0, start, end)])
                    tokens = slice(*found[0][1:]) if found else offsets[k, :, 1] > offsets[k, :, 0]
                    vectors[row] = hidden[k, tokens].mean(0)
    encoder.train(was_training)
    return vectors


def technique_scores(head: torch.nn.Linear, vectors: np.ndarray) -> np.ndarray:
    """Per span, one score per technique: the highest names the span's technique."""
    with torch.inference_mode():
        return head(torch.from_numpy(vectors).to(head.weight.device)).cpu().numpy()
