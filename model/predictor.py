"""One prediction interface for every model family.

`Predictor.load(model)` accepts any model name `model.resolve` knows (`3`, `champion`,
`models:/...`, `runs:/...`, a folder). `score(texts)` segments each document and returns,
per sentence, its offsets, the techniques it reports (`decision.decide`) and every
probability.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.decision import decide
from model.resolve import resolve_model_folder
from model.scorers import TokenProbs, load_scorer
from model.segment import segment
from model.spans import decode_spans, whole_word

MODEL_DIR_ARTIFACT = "model_dir"


class Predictor:
    def __init__(self, folder: str | Path, precision: str = "fp32"):
        self.folder = Path(folder)
        self.precision = precision
        self.meta, self.scorer = load_scorer(self.folder, precision)
        self.thresholds = np.array(self.meta.threshold_list(), dtype=np.float32)
        self.has_spans = self.meta.span_thresholds is not None and getattr(
            self.scorer, "has_spans", False
        )
        self.span_thresholds = (
            np.array(self.meta.span_threshold_list(), dtype=np.float32) if self.has_spans else None
        )

    @classmethod
    def load(cls, model: str | Path, precision: str = "fp32") -> Predictor:
        """The model behind `3`, `champion`, a `models:/` or `runs:/` URI, or a folder;
        `precision` "bf16" or "int8" scores a transformer faster (see TransformerScorer.load)."""
        return cls(resolve_model_folder(model), precision)

    @property
    def techniques(self) -> list[str]:
        return self.meta.techniques

    def predict_proba(self, sentences: list[str]) -> np.ndarray:
        return self.scorer.predict_proba(sentences)

    def predict(self, sentences: list[str]) -> tuple[np.ndarray, list[TokenProbs] | None]:
        """Probabilities per sentence and, with a span head, per token (see the scorer)."""
        if self.has_spans:
            return self.scorer.predict(sentences)
        return self.predict_proba(sentences), None

    def decide(self, probs: np.ndarray) -> np.ndarray:
        """The techniques reported for each row of `probs`, by the model's tuned rule."""
        return decide(probs, self.thresholds, self.meta.any_threshold)

    def spans(
        self, text: str, start: int, tokens: TokenProbs, reported: np.ndarray | None
    ) -> list[dict]:
        """The spans of one sentence (`text`, starting at `start` in its document), with
        offsets into the document; only the `reported` techniques' when given."""
        offsets, token_probs = tokens
        words = [whole_word(text, int(s), int(e)) for s, e in offsets]
        return [
            {
                "technique": self.techniques[k],
                "start": start + s_start,
                "end": start + s_end,
                "text": text[s_start:s_end],
                "probability": round(prob, 4),
            }
            for k, s_start, s_end, prob in decode_spans(
                token_probs, words, self.span_thresholds, reported
            )
        ]

    def score(self, texts: list[str]) -> list[list[dict]]:
        """For each document, its sentences with offsets, techniques, probabilities and the
        spans of the techniques reported (empty for a model without a span head)."""
        segmented = [segment(text) for text in texts]
        flat = [s.text for sentences in segmented for s in sentences]
        probs, tokens = self.predict(flat)
        decided = self.decide(probs)
        results, row = [], 0
        for sentences in segmented:
            doc = []
            for idx, sentence in enumerate(sentences):
                p, over = probs[row], decided[row]
                spans = (
                    self.spans(sentence.text, sentence.start, tokens[row], over)
                    if tokens is not None
                    else []
                )
                row += 1
                doc.append(
                    {
                        "sent_idx": idx,
                        "start": sentence.start,
                        "end": sentence.end,
                        "text": sentence.text,
                        "techniques": [t for t, o in zip(self.techniques, over, strict=True) if o],
                        "probabilities": {
                            t: round(float(v), 4) for t, v in zip(self.techniques, p, strict=True)
                        },
                        "spans": spans,
                    }
                    | ({"cut": True} if sentence.cut else {})  # see model.segment
                )
            results.append(doc)
        return results
