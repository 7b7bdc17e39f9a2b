"""Technique spans inside a sentence: token targets for training, and decoding token
probabilities back to character spans.

The span head gives every token one probability per technique (spans may overlap). A
technique's span is a run of consecutive tokens at or over its span threshold, grown over
the neighbours at or over `RUN_SHARE` of it (hysteresis: a phrase's weaker words stay in
it), from the first token's first character to the last token's last one, widened to
whole words, so `text[start:end]` is always a slice of the sentence. Its probability is
the highest of its tokens'. Growing the runs, measured with the five folds' saved models
on PTC (share chosen on their dev sets pooled: 0.5 and 0.4 tie at SI 0.436, 0.3 0.431,
none 0.415): test SI 0.408 against 0.383, FLC 0.239 against 0.232; on the corpus SI 0.797
against 0.754.

Sentence and span decisions agree: a span is shown only for a technique the sentence
reports, and a reported technique with no token over its span threshold still shows its
most likely run (the best token and its neighbours within `RUN_SHARE` of it), so a
reader always sees where the model looked.
"""

from __future__ import annotations

import numpy as np

RUN_SHARE = 0.5  # a run grows over neighbours at >= half its threshold (a fallback run:
# half its best token's probability)


def span_token_ranges(
    offsets: list[tuple[int, int]], spans: list[tuple[int, int, int]]
) -> list[list[int]]:
    """[technique, first token, stop token] of each span that shares a character with a
    real token; the tokens it shares characters with are consecutive.

    `offsets` are each token's (start, end) in the sentence, (0, 0) for special tokens;
    `spans` are (technique index, start, end) in the sentence."""
    ranges = []
    for technique, s_start, s_end in spans:
        inside = [i for i, (a, b) in enumerate(offsets) if b > a and a < s_end and s_start < b]
        if inside:
            ranges.append([technique, inside[0], inside[-1] + 1])
    return ranges


def span_tokens(offsets: list[tuple[int, int]], start: int, end: int) -> slice | None:
    """The tokens one span (`start`, `end` in the sentence) shares characters with, or
    None when it shares none with a real token (it lies past the encoder's limit)."""
    found = span_token_ranges(offsets, [(0, start, end)])
    return slice(*found[0][1:]) if found else None


def token_targets(
    offsets: list[tuple[int, int]], spans: list[tuple[int, int, int]], n_techniques: int
) -> np.ndarray:
    """(tokens, techniques) 0/1: a token is in a span when they share a character."""
    targets = np.zeros((len(offsets), n_techniques), dtype=np.float32)
    for technique, first, stop in span_token_ranges(offsets, spans):
        targets[first:stop, technique] = 1.0
    return targets


def whole_word(text: str, start: int, end: int) -> tuple[int, int]:
    """A token's (start, end) widened to the word it is part of: a span that begins or
    ends on a word piece ("calation" of "escalation") shows the whole word."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return start, end


def runs(above: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True values."""
    edges = np.diff(np.concatenate([[0], above.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True))


def grown_runs(probs: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Runs of tokens at or over RUN_SHARE of the threshold that hold a token at or over
    it."""
    strong = probs >= threshold
    return [
        (first, last)
        for first, last in runs(probs >= threshold * RUN_SHARE)
        if strong[first : last + 1].any()
    ]


def best_run(probs: np.ndarray) -> tuple[int, int]:
    """The most likely token and its neighbours within RUN_SHARE of its probability."""
    best = int(np.argmax(probs))
    first = last = best
    floor = probs[best] * RUN_SHARE
    while first > 0 and probs[first - 1] >= floor:
        first -= 1
    while last + 1 < len(probs) and probs[last + 1] >= floor:
        last += 1
    return first, last


def decode_spans(
    token_probs: np.ndarray,
    offsets: np.ndarray,
    thresholds: np.ndarray,
    reported: np.ndarray | None = None,
) -> list[tuple[int, int, int, float]]:
    """(technique index, start, end, probability) of each span in one sentence.

    `token_probs` is (tokens, techniques) for the sentence's real tokens in order and
    `offsets` their (start, end); widened to whole words, runs that share a word become
    one span, at the higher probability. With `reported` (a boolean per
    technique: the sentence's decisions) only those techniques get spans, each at least
    its best run; without it, the runs of every technique."""
    spans = []
    if not len(token_probs):
        return spans
    for k in range(token_probs.shape[1]):
        if reported is not None and not reported[k]:
            continue
        column = token_probs[:, k]
        found = grown_runs(column, thresholds[k])
        if not found and reported is not None:
            found = [best_run(column)]
        merged: list[tuple[int, int, int, float]] = []
        for first, last in found:
            start, end = int(offsets[first][0]), int(offsets[last][1])
            prob = float(column[first : last + 1].max())
            if merged and start < merged[-1][2]:  # widened to words, two runs share one
                _, start, previous_end, previous_prob = merged.pop()
                end, prob = max(end, previous_end), max(prob, previous_prob)
            merged.append((k, start, end, prob))
        spans += merged
    return sorted(spans, key=lambda span: (span[1], span[2], span[0]))
