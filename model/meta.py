"""The model folder's metadata, `propscan.json`, which every family shares.

It says which family the folder holds, the technique order of its outputs and the
decision rule tuned on dev (per-technique thresholds and the top-technique threshold,
applied by `model.decision`); the family's own files sit beside it. Nothing in the
folder is a pickle.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from model.decision import OFF

META_FILE = "propscan.json"


@dataclass
class ModelMeta:
    family: str  # "baseline" or "transformer"
    techniques: list[str]
    thresholds: dict[str, float]
    any_threshold: float = OFF  # see decision.decide(); OFF in folders made before it existed
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
