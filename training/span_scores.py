"""The span metrics of a model's output on labeled records: SI, FLC and TC.

Gold spans are the records' spans (PTC's are clipped to the sentence that holds them, as
the importer stores them); predicted spans are what `Predictor.score` shows, offsets into
the document. A prediction of a technique the record's source does not annotate (PTC:
`unsupported_claim`, `denial`) is left out, as the sentence metrics mask it.
"""

from __future__ import annotations

import numpy as np

from data.records import annotated_techniques
from data.span_metrics import Span, flc_scores, si_scores, tc_scores
from model.spans import span_tokens
from model.technique_head import span_features, technique_scores

SPAN_METRICS = ("si_f1", "flc_f1", "tc_micro_f1")


def gold_spans(records: list[dict]) -> list[Span]:
    return [
        (r["doc_id"], s["technique"], s["start"], s["end"]) for r in records for s in r["spans"]
    ]


def predicted_spans(predictor, records: list[dict], probs, tokens, gated: bool) -> list[Span]:
    """The spans shown for each record: of its reported techniques (`gated`, what a user
    sees), or every run over its span threshold."""
    decided = predictor.decide(probs)
    spans = []
    for record, over, sentence_tokens in zip(records, decided, tokens, strict=True):
        annotated = set(annotated_techniques(record["source"]))
        for span in predictor.spans(
            record["text"], record["start"], sentence_tokens, over if gated else None
        ):
            if span["technique"] in annotated:
                spans.append((record["doc_id"], span["technique"], span["start"], span["end"]))
    return spans


def technique_of_each_gold_span(predictor, records: list[dict], tokens) -> list[str]:
    """TC: for each gold span, the annotated technique its model names. With a technique
    head (model.technique_head), its highest score for the span; in folders made before
    it, the highest span-head token probability inside the span (chosen on the fixed
    split's PTC dev: the highest 0.520, the mean 0.512, the sentence head's probability
    0.477; on its test 0.438, 0.420 and 0.428)."""
    techniques = predictor.techniques
    scores = technique_head_scores(predictor, records)
    guesses = []
    for record, (offsets, token_probs) in zip(records, tokens, strict=True):
        allowed = np.array([t in annotated_techniques(record["source"]) for t in techniques])
        for span in record["spans"]:
            if scores is not None:
                here = next(scores)
            else:
                start, end = span["start"] - record["start"], span["end"] - record["start"]
                found = span_tokens(offsets.tolist(), start, end)
                here = np.zeros(len(allowed)) if found is None else token_probs[found].max(axis=0)
            guesses.append(techniques[int(np.argmax(np.where(allowed, here, -np.inf)))])
    return guesses


def technique_head_scores(predictor, records: list[dict]):
    """An iterator over the technique head's scores of every gold span, in order, or None
    without a head. A span's article is the records of its document among `records`."""
    model = predictor.scorer.model
    if model.technique_classifier is None:
        return None
    refs = [
        (i, span["start"] - record["start"], span["end"] - record["start"])
        for i, record in enumerate(records)
        for span in record["spans"]
    ]
    scorer = predictor.scorer
    texts = [record["text"] for record in records]
    doc_ids = [record["doc_id"] for record in records]
    features = span_features(model, scorer.tokenizer, texts, doc_ids, refs, scorer.max_length)
    return iter(technique_scores(model.technique_classifier, features))


def span_outcomes(predictor, records: list[dict], probs, tokens, gated: bool = True):
    """(gold spans, predicted spans, technique given to each gold span): what the span
    metrics score; lists from several folds can be pooled before scoring."""
    return (
        gold_spans(records),
        predicted_spans(predictor, records, probs, tokens, gated),
        technique_of_each_gold_span(predictor, records, tokens),
    )


def score_outcomes(gold: list[Span], predicted: list[Span], guesses: list[str]) -> dict:
    """SI and FLC precision, recall, F1 and TC micro-F1."""
    metrics = {**si_scores(gold, predicted), **flc_scores(gold, predicted)}
    metrics["tc_micro_f1"] = tc_scores(gold, guesses)["tc_micro_f1"]
    return metrics


def span_metrics(predictor, records: list[dict], probs, tokens, gated: bool = True) -> dict:
    """The span metrics of the model's spans on `records`."""
    return score_outcomes(*span_outcomes(predictor, records, probs, tokens, gated))
