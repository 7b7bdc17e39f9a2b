"""The technique of a span already found (SemEval's TC task): a linear head on what a
span is (the mean of its token vectors), how long it is, and whether its words recur in
its article, fitted once fine-tuning is over.

The span head learns, one sigmoid per technique, whether a token belongs to a technique;
it never learns to tell one technique from another. This head does: a multinomial
logistic regression on the training spans' features (standardised, C 0.01), folded into
one linear layer (fitted by training.transformer.fit_technique_head). Fitted on the
finished encoder, it changes no sentence or span figure.
Measured on five folds of PTC, with the same fine-tuned models: TC 0.563 with the length
and repetition facts, 0.507 on the mean vector alone, 0.459 for the span head's highest
token probability inside the span. The facts are what a sentence encoder cannot see:
Repetition is a span said again elsewhere in the article, and techniques differ in
length (a loaded word, a name-calling phrase, a causal clause).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from model.spans import span_tokens

NEVER = -1e4  # bias of a technique without training spans: never the argmax
N_FACTS = 6  # the columns after the mean vector: see length_facts and repetition_facts
LONG_WORD = re.compile(r"\w{4,}")

SpanRef = tuple[int, int, int]  # (index of the text, start, end), offsets into the text


def span_features(
    model,
    tokenizer,
    texts: list[str],
    doc_ids: list[str],
    spans: list[SpanRef],
    max_length: int,
    given_states=None,
) -> np.ndarray:
    """Per span, what the technique head reads: its mean token vector, then its facts.
    `doc_ids` (one per text) gather a text's article from the texts given."""
    vectors, sizes = span_vectors(model, tokenizer, texts, spans, max_length, given_states)
    facts = [length_facts(spans, sizes), repetition_facts(texts, doc_ids, spans)]
    return np.hstack([vectors, *facts]).astype(np.float32)


def span_vectors(
    model, tokenizer, texts: list[str], spans: list[SpanRef], max_length: int, given_states=None
) -> tuple[np.ndarray, np.ndarray]:
    """Per span, the mean encoder vector of the tokens that overlap it (all the text's
    tokens when none does: the span lies past the encoder's limit), and how many tokens
    that is and how many the text has. `model` is a MeanPoolingClassifier; in training
    above frozen layers, `given_states` maps token sequences to the frozen layers' output
    (training.frozen.FrozenStore.states), so only the layers above run."""
    by_text: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for row, (text, start, end) in enumerate(spans):
        by_text[text].append((row, start, end))
    order = sorted(by_text)
    vectors = np.zeros((len(spans), model.encoder.config.hidden_size), dtype=np.float32)
    sizes = np.zeros((len(spans), 2))
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
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
            states = None
            if given_states is not None:
                lengths = encoded["attention_mask"].sum(1).tolist()
                ids = [
                    row[:n] for row, n in zip(encoded["input_ids"].tolist(), lengths, strict=True)
                ]
                states = pad_sequence(given_states(ids), batch_first=True).to(device)
            hidden = model.encode(**encoded.to(device), frozen_states=states).float().cpu().numpy()
            for k, text in enumerate(batch):
                token_offsets = offsets[k].tolist()
                real = offsets[k, :, 1] > offsets[k, :, 0]
                for row, start, end in by_text[text]:
                    found = span_tokens(token_offsets, start, end)
                    tokens = real if found is None else found
                    vectors[row] = hidden[k, tokens].mean(0)
                    sizes[row] = len(hidden[k, tokens]), real.sum()
    model.train(was_training)
    return vectors, sizes


def length_facts(spans: list[SpanRef], sizes: np.ndarray) -> np.ndarray:
    """Per span: log of its characters + 1, log of its tokens, its share of the text's
    tokens."""
    characters = np.array([end - start for _, start, end in spans], dtype=float)
    return np.column_stack([np.log1p(characters), np.log(sizes[:, 0]), sizes[:, 0] / sizes[:, 1]])


def repetition_facts(texts: list[str], doc_ids: list[str], spans: list[SpanRef]) -> np.ndarray:
    """Per span: log(1 + times its text comes again in its article), whether it does, and
    the share of its words of 4+ letters that its article's other texts hold (case
    ignored)."""
    articles: dict[str, list[str]] = defaultdict(list)
    for text, doc in zip(texts, doc_ids, strict=True):
        articles[doc].append(text.lower())
    joined = {doc: "\n".join(sentences) for doc, sentences in articles.items()}
    words = {doc: Counter(LONG_WORD.findall(article)) for doc, article in joined.items()}
    own_words = [Counter(LONG_WORD.findall(text.lower())) for text in texts]
    facts = np.zeros((len(spans), 3))
    for row, (index, start, end) in enumerate(spans):
        doc = doc_ids[index]
        phrase = texts[index][start:end].lower().strip()
        again = max(joined[doc].count(phrase) - 1, 0) if phrase else 0
        span_words = LONG_WORD.findall(phrase)
        elsewhere = [words[doc][w] > own_words[index][w] for w in span_words]
        facts[row] = np.log1p(again), again > 0, np.mean(elsewhere) if span_words else 0.0
    return facts


def technique_scores(head: torch.nn.Linear, features: np.ndarray) -> np.ndarray:
    """Per span, one score per technique: the highest names the span's technique. A head
    fitted before the facts existed reads the mean vector alone: the first columns."""
    with torch.inference_mode():
        inputs = torch.from_numpy(features[:, : head.in_features])
        return head(inputs.to(head.weight.device)).cpu().numpy()
