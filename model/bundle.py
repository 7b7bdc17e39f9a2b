"""The on-disk model folder every family shares.

`propscan.json` says which family the folder holds, the technique order of its outputs
and the per-technique thresholds tuned on dev; the family's own files sit beside it.
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


@dataclass
class ModelMeta:
    family: str  # "baseline" or "transformer"
    techniques: list[str]
    thresholds: dict[str, float]
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
