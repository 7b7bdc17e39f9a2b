"""The on-disk model folder every family shares.

`propscan.json` says which family the folder holds, the technique order of its outputs
and the decision rule tuned on dev (per-technique thresholds and the top-technique
threshold); the family's own files sit beside it.
Nothing in the folder is a pickle.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

META_FILE = "propscan.json"
OFF = 1.0  # a technique whose threshold is OFF is never output


def over_threshold(probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Decisions: each probability at or over its technique's threshold. OFF holds even for
    a probability that saturates to exactly 1.0."""
    return (probs >= thresholds) & (thresholds < OFF)


def decide(probs: np.ndarray, thresholds: np.ndarray, any_threshold: float = OFF) -> np.ndarray:
    """The techniques a model reports for each sentence (rows of `probs`).

    Each technique at or over its own threshold, and also a sentence's most likely
    technique once it reaches `any_threshold`. Per-technique thresholds are tuned for
    micro-F1 and leave many sentences that carry *some* technique with none reported
    (default MiniLM, PTC test: "any" recall 0.56 at precision 0.60). Techniques switched
    OFF are never reported, by either rule.
    """
    decided = over_threshold(probs, thresholds)
    if any_threshold < OFF and len(probs):
        live = np.where(thresholds < OFF, probs, -1.0)
        top = live.argmax(axis=1)
        rows = np.flatnonzero(live[np.arange(len(live)), top] >= any_threshold)
        decided[rows, top[rows]] = True
    return decided


@dataclass
class ModelMeta:
    family: str  # "baseline" or "transformer"
    techniques: list[str]
    thresholds: dict[str, float]
    any_threshold: float = OFF  # see decide(); OFF in folders made before it existed
    base_model: str | None = None
    max_length: int = 128
    extra: dict = field(default_factory=dict)

    def threshold_list(self) -> list[float]:
        return [self.thresholds[t] for t in self.techniques]


def save_meta(folder: Path, meta: ModelMeta) -> None:
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / META_FILE).write_text(json.dumps(asdict(meta), indent=2), encoding="utf-8")


def load_meta(folder: Path) -> ModelMeta:
    path = Path(folder) / META_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: not a propscan model folder (no {META_FILE})")
    return ModelMeta(**json.loads(path.read_text(encoding="utf-8")))
