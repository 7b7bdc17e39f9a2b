"""One prediction interface for every model family.

`Predictor.load(uri)` accepts `models:/propscan/N`, `models:/propscan@alias`, a run URI,
a logged-model folder or a plain model folder. `score(texts)` segments each document and
returns, per sentence, its offsets, the techniques it reports (`bundle.decide`) and every
probability.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.bundle import META_FILE, decide
from model.scorers import load_scorer
from model.segment import segment

MODEL_DIR_ARTIFACT = "model_dir"


def resolve_model_folder(uri: str | Path) -> Path:
    """The local propscan model folder behind a URI or path, downloading it if needed."""
    path = Path(uri)
    if not path.exists():
        import mlflow

        path = Path(mlflow.artifacts.download_artifacts(artifact_uri=str(uri)))
    if (path / META_FILE).is_file():
        return path
    found = sorted(path.rglob(META_FILE))
    if not found:
        raise FileNotFoundError(f"{uri}: no propscan model ({META_FILE}) found there")
    return found[0].parent


class Predictor:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.meta, self.scorer = load_scorer(self.folder)
        self.thresholds = np.array(self.meta.threshold_list(), dtype=np.float32)

    @classmethod
    def load(cls, uri: str | Path) -> Predictor:
        return cls(resolve_model_folder(uri))

    @property
    def techniques(self) -> list[str]:
        return self.meta.techniques

    def predict_proba(self, sentences: list[str]) -> np.ndarray:
        return self.scorer.predict_proba(sentences)

    def decide(self, probs: np.ndarray) -> np.ndarray:
        """The techniques reported for each row of `probs`, by the model's tuned rule."""
        return decide(probs, self.thresholds, self.meta.any_threshold)

    def score(self, texts: list[str]) -> list[list[dict]]:
        """For each document, its sentences with offsets, techniques and probabilities."""
        segmented = [segment(text) for text in texts]
        flat = [s.text for sentences in segmented for s in sentences]
        probs = self.predict_proba(flat)
        decided = self.decide(probs)
        results, row = [], 0
        for sentences in segmented:
            doc = []
            for idx, sentence in enumerate(sentences):
                p, over = probs[row], decided[row]
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
                    }
                    | ({"cut": True} if sentence.cut else {})  # see model.segment
                )
            results.append(doc)
        return results
